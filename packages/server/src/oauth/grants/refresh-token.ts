import type { ServerContext } from '../../context.js';
import { newRefreshToken } from '../../security/random.js';
import type { Client, RefreshFamily, User } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { accessTokenTtl, issueAccessToken, refreshTtl, type TokenResponse } from '../issue.js';
import { grantScopes, requestedScopes } from '../policy.js';

/**
 * refresh_token (RFC 6749 section 6) with rotation (RFC 9700 section 4.14.2): every refresh token is
 * single-use; presenting a spent one revokes its whole family, its access tokens included (`sid`), and
 * records an anomaly. Scopes may narrow, never widen, and are re-checked against the user's current roles.
 */
export async function refreshTokenGrant(ctx: ServerContext, client: Client, form: Form, ip: string): Promise<TokenResponse> {
  if (!client.grantTypes.includes('refresh_token'))
    throw new OAuthError('unauthorized_client', 'this client may not use refresh tokens');
  const presented = param(form, 'refresh_token', true);
  const requested = requestedScopes(form);
  const now = ctx.now();
  const digest = ctx.master.refreshDigest(presented);
  const found = await ctx.store.findRefreshToken(digest);
  // A token of another client is not spent: it was never this client's to use.
  if (!found || found.family.clientId !== client.id)
    throw new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');
  // A refused scope request must not spend the token: the client would lose its session, and its retry
  // with the same token would look like a reuse. (A spent token goes on to reuse detection.)
  if (requested !== undefined && found.token.usedAt === null && found.family.revokedAt === null) {
    const owner = await ctx.store.getUserById(found.family.userId);
    if (owner && !owner.disabled) grantScopes(requested, await allowedScopes(ctx, client, found.family, owner));
  }
  const next = newRefreshToken();
  const result = await ctx.store.rotateRefreshToken(
    digest,
    { digest: ctx.master.refreshDigest(next), createdAt: now, expiresAt: now + refreshTtl(ctx, client) * 1000, usedAt: null },
    now,
  );
  if (result.kind === 'reused') {
    const f = result.family;
    // Kept as long as an access token of this family can live (plus clock skew).
    await ctx.revocations.revoke('family', f.id, {
      expiresAt: now + (accessTokenTtl(ctx, client) + 60) * 1000,
      reason: 'refresh_token_reuse',
      now,
    });
    await ctx.audit.record({
      type: 'anomaly.refresh_reuse',
      outcome: 'failure',
      subject: f.userId,
      clientId: client.id,
      ip,
      data: { family: f.id },
    });
    throw new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');
  }
  if (result.kind === 'invalid') throw new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');
  const family = result.family;
  const user = await ctx.store.getUserById(family.userId);
  if (!user || user.disabled) {
    await ctx.store.revokeRefreshFamily(family.id, 'user_disabled', now);
    throw new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');
  }
  const scopes = grantScopes(requested, await allowedScopes(ctx, client, family, user));
  const { token, jti, expiresIn } = issueAccessToken(ctx, {
    sub: user.id,
    client,
    scopes,
    audience: family.audience,
    sid: family.id,
  });
  await ctx.audit.record({
    type: 'token.issued',
    outcome: 'success',
    subject: user.id,
    clientId: client.id,
    ip,
    data: { grant: 'refresh_token', jti, sid: family.id, scope: scopes.join(' ') },
  });
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' '), refresh_token: next };
}

/** The family's scopes that the client and the user's current roles still allow. */
async function allowedScopes(ctx: ServerContext, client: Client, family: RefreshFamily, user: User): Promise<string[]> {
  const permissions = await ctx.store.permissionsOf(user.roles);
  const granted = family.scope === '' ? [] : family.scope.split(' ');
  return granted.filter((s) => client.scopes.includes(s) && permissions.includes(s));
}
