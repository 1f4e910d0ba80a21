import type { ServerContext } from '../../context.js';
import { REVOCATION_RECORD_SKEW_S } from '../../revocation/record-skew.js';
import { revokeSession } from '../../revocation/revoke-session.js';
import { newRefreshToken } from '../../security/random.js';
import type { Client, RefreshFamily, User } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { accessTokenTtl, confirmation, issueAccessToken, refreshTtl, type Sender, type TokenResponse } from '../issue.js';
import { userMayHold } from '../identity-scopes.js';
import { grantScopes, requestedScopes } from '../policy.js';

const invalid = () => new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');

/**
 * A refresh token bound to a DPoP key (a public client's, RFC 9449 section 5) presented without a proof of that key.
 * RFC 9449 names no error code for it: the grant is what does not fit the request, so `invalid_grant`, as for a
 * refresh token of another client; the token is not spent.
 */
const otherKey = () =>
  new OAuthError('invalid_grant', 'the refresh token is bound to a DPoP key: present a DPoP proof made with that key');

/** The same for a refresh token bound to a client certificate (a public client's, RFC 8705 section 4). */
const otherCertificate = () =>
  new OAuthError(
    'invalid_grant',
    'the refresh token is bound to a client certificate: refresh over mutual TLS with that certificate',
  );

/**
 * refresh_token (RFC 6749 section 6) with rotation (RFC 9700 section 4.14.2): every refresh token is
 * single-use; presenting a spent one revokes its whole family, its access tokens included (`sid`), and
 * records an anomaly, once per family. Scopes may narrow, never widen, and are checked against the user's current
 * roles before the token is spent: a refused request leaves the client its session. No ID token is issued on
 * refresh (OpenID Connect Core section 12.2 allows its absence): the family does not keep the authentication's
 * auth_time, acr and amr that a new one would have to repeat. A family bound to a DPoP key (a public client's) is
 * refreshed only with a proof of that key, and an unbound one of a public client is bound by the first refresh with a
 * proof; the new access token is bound to the key of the request's proof (`jkt`). A family bound to a client
 * certificate (a public client's, RFC 8705 section 4) is refreshed only over mutual TLS with that certificate.
 */
export async function refreshTokenGrant(
  ctx: ServerContext,
  client: Client,
  form: Form,
  ip: string,
  authorizedAt: number,
  sender: Sender,
): Promise<TokenResponse> {
  const jkt = sender.jkt;
  if (!client.grantTypes.includes('refresh_token'))
    throw new OAuthError('unauthorized_client', 'this client may not use refresh tokens');
  const presented = param(form, 'refresh_token', true);
  const requested = requestedScopes(form);
  const now = ctx.now();
  const digest = ctx.master.refreshDigest(presented);
  const found = await ctx.store.refreshFamilies.findToken(digest);
  // A token of another client is not spent: it was never this client's to use.
  if (!found || found.family.clientId !== client.id) throw invalid();
  // A live token of a bound family presented without its key is worthless to its holder and costs the client
  // nothing (it is not spent). A spent one goes on to reuse detection whatever key comes with it: a thief who bound
  // a stolen family to a key of their own must not keep it when the client replays its old token.
  if (
    found.token.usedAt === null &&
    found.family.revokedAt === null &&
    found.family.dpopJkt !== undefined &&
    found.family.dpopJkt !== jkt
  )
    throw otherKey();
  if (
    found.token.usedAt === null &&
    found.family.revokedAt === null &&
    found.family.certificateThumbprint !== undefined &&
    found.family.certificateThumbprint !== sender.certificate
  )
    throw otherCertificate();
  // Every check that can refuse comes before the token is spent: a refused scope request must not cost the client
  // its session (and its retry with the same token would look like a reuse). A spent token or a revoked family goes
  // straight on to reuse detection.
  let scopes: string[] | undefined;
  if (found.token.usedAt === null && found.family.revokedAt === null) {
    const owner = await ctx.store.users.getById(found.family.userId);
    if (!owner || owner.disabled) {
      await revokeSession(
        ctx,
        found.family.id,
        { family: 'user_disabled', record: 'user_disabled' },
        accessTokenTtl(ctx, client),
        now,
      );
      throw invalid();
    }
    scopes = grantScopes(requested, await allowedScopes(ctx, client, found.family, owner));
  }
  const next = newRefreshToken();
  const result = await ctx.store.refreshFamilies.rotate(
    digest,
    { digest: ctx.master.refreshDigest(next), createdAt: now, expiresAt: now + refreshTtl(ctx, client) * 1000, usedAt: null },
    now,
    // Kept as long as an access token of this family can live (plus clock skew).
    { expiresAt: now + (accessTokenTtl(ctx, client) + REVOCATION_RECORD_SKEW_S) * 1000, reason: 'refresh_token_reuse' },
  );
  if (result.kind === 'reused') {
    // The family was revoked and announced in the store's transaction, by the first replay only: later replays
    // of a revoked family add nothing (they are counted in the token metrics as invalid_grant).
    if (result.revocation) {
      await ctx.revocations.announce(result.revocation);
      await ctx.audit.record({
        type: 'anomaly.refresh_reuse',
        outcome: 'failure',
        subject: result.family.userId,
        clientId: client.id,
        ip,
        data: { family: result.family.id },
      });
    }
    throw invalid();
  }
  if (result.kind === 'invalid' || scopes === undefined) throw invalid();
  const family = result.family;
  // A public client's family issued without a proof is bound by the first refresh that comes with one: the new
  // refresh token is issued to that key (RFC 9449 section 5), and the next refresh must prove it.
  // One binding per family: a family bound to a certificate stays bound to it alone.
  if (
    jkt !== undefined &&
    family.dpopJkt === undefined &&
    family.certificateThumbprint === undefined &&
    client.authMethod === 'none'
  )
    await ctx.store.refreshFamilies.bindDpopKey(family.id, jkt);
  const cnf = confirmation(sender);
  const { token, jti, expiresIn, tokenType } = await issueAccessToken(ctx, {
    sub: family.userId,
    client,
    scopes,
    audience: family.audience,
    sid: family.id,
    authorizedAt,
    cnf,
    subjectIsUser: true,
  });
  await ctx.audit.record({
    type: 'token.issued',
    outcome: 'success',
    subject: family.userId,
    clientId: client.id,
    ip,
    data: { grant: 'refresh_token', jti, sid: family.id, scope: scopes.join(' '), ...cnf },
  });
  return { access_token: token, token_type: tokenType, expires_in: expiresIn, scope: scopes.join(' '), refresh_token: next };
}

/** The family's scopes that the client and the user's current roles still allow. */
async function allowedScopes(ctx: ServerContext, client: Client, family: RefreshFamily, user: User): Promise<string[]> {
  const permissions = await ctx.store.roles.permissionsOf(user.roles);
  const granted = family.scope === '' ? [] : family.scope.split(' ');
  return granted.filter((s) => client.scopes.includes(s) && userMayHold(s, permissions));
}
