import { createHash, timingSafeEqual } from 'node:crypto';

import type { ServerContext } from '../../context.js';
import { revokeSession } from '../../revocation/revoke-session.js';
import type { AuthorizationCode, Client } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { idTokenKey, issueIdToken } from '../id-token.js';
import { OFFLINE_ACCESS, OPENID_SCOPE, userMayHold } from '../identity-scopes.js';
import { accessTokenTtl, confirmation, newRefreshFamily, userTokenResponse, type Sender, type TokenResponse } from '../issue.js';

/** A code_verifier: 43 to 128 unreserved characters (RFC 7636 section 4.1). */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const invalid = () => new OAuthError('invalid_grant', 'authorization code is invalid, expired or already used');

/** Whether BASE64URL(SHA-256(verifier)) equals the code's challenge, compared in constant time. */
function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/**
 * A spent code presented again (RFC 6749 section 4.1.2): the tokens of its first redemption are revoked, the
 * refresh family and its access tokens (`sid`), through the path refresh-token reuse takes.
 */
async function codeReplayed(ctx: ServerContext, client: Client, code: AuthorizationCode, ip: string): Promise<never> {
  if (code.familyId !== null) {
    const why = { family: 'authorization_code_reuse', record: 'authorization_code_reuse' };
    await revokeSession(ctx, code.familyId, why, accessTokenTtl(ctx, client), ctx.now());
  }
  await ctx.audit.record({
    type: 'anomaly.code_reuse',
    outcome: 'failure',
    subject: code.userId,
    clientId: client.id,
    ip,
    data: { sid: code.familyId },
  });
  throw invalid();
}

/**
 * authorization_code (RFC 6749 section 4.1.3, RFC 7636): the code must be this client's, unexpired and
 * unspent, the redirect_uri the one it was issued for, and the code_verifier must answer its S256 challenge.
 * A refusal before redemption leaves the code as it was. Redemption spends the code and starts the session's
 * refresh family in one store transaction, while the browser session the code was issued in is live; the family
 * ends with that browser session unless `offline_access` was granted. A code presented again revokes what its
 * first redemption issued. With the `openid` scope granted, the response carries an ID token (OpenID Connect Core
 * section 3.1.3.3).
 */
export async function authorizationCodeGrant(
  ctx: ServerContext,
  client: Client,
  form: Form,
  ip: string,
  authorizedAt: number,
  sender: Sender,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes('authorization_code'))
    throw new OAuthError('unauthorized_client', 'this client may not use the authorization_code grant');
  const presented = param(form, 'code', true);
  const redirectUri = param(form, 'redirect_uri', true);
  const verifier = param(form, 'code_verifier');
  const digest = ctx.master.secretDigest(presented);
  const code = await ctx.store.authorizationCodes.get(digest);
  if (!code || code.clientId !== client.id) throw invalid();
  if (code.usedAt !== null) return codeReplayed(ctx, client, code, ip);
  const now = ctx.now();
  if (code.expiresAt <= now || code.redirectUri !== redirectUri) throw invalid();
  if (verifier === undefined || !CODE_VERIFIER.test(verifier) || !pkceMatches(verifier, code.codeChallenge))
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code challenge');
  // RFC 9449 section 10: a code bound by dpop_jkt is redeemed only with a proof of that key (no error code is named
  // there; the grant is what does not fit the request: invalid_grant, the code left unspent).
  if (code.dpopJkt !== undefined && code.dpopJkt !== sender.jkt)
    throw new OAuthError('invalid_grant', 'the code is bound to a DPoP key (dpop_jkt): present a DPoP proof made with that key');
  const user = await ctx.store.users.getById(code.userId);
  if (!user || user.disabled) throw invalid();
  // The browser session the code was issued in must still be live (the redemption checks it again, locked).
  const session = code.browserSessionId === null ? undefined : await ctx.store.browserSessions.get(code.browserSessionId, now);
  if (!session || session.userId !== user.id) throw invalid();
  // The scopes granted with the code, less any permission the user has lost since.
  const permissions = await ctx.store.roles.permissionsOf(user.roles);
  const scopes = code.scope.split(' ').filter((s) => s !== '' && client.scopes.includes(s) && userMayHold(s, permissions));
  const openid = scopes.includes(OPENID_SCOPE);
  if (openid && ctx.config.singleApp)
    throw new OAuthError('invalid_scope', 'single-app mode publishes no keys, so it offers no OpenID Connect');
  const idKey = openid ? idTokenKey(ctx, client) : undefined;
  // Without offline_access the family ends with the browser session: revoked when it ends, never past its absolute expiry.
  const boundTo = scopes.includes(OFFLINE_ACCESS)
    ? undefined
    : { browserSessionId: session.id, absoluteExpiresAt: session.absoluteExpiresAt };
  const cnf = confirmation(sender);
  const { token: refreshToken, family, first } = newRefreshFamily(ctx, user.id, client, scopes, code.audience, boundTo, cnf);
  const withRefresh = client.grantTypes.includes('refresh_token');
  if (!(await ctx.store.authorizationCodes.redeem(digest, now, family, withRefresh ? first : undefined))) {
    // Another redemption won, or the code expired or its browser session ended in between.
    const again = await ctx.store.authorizationCodes.get(digest);
    if (again?.usedAt != null) return codeReplayed(ctx, client, again, ip);
    throw invalid();
  }
  return userTokenResponse(ctx, 'authorization_code', {
    userId: user.id,
    client,
    scopes,
    audience: code.audience,
    sid: family.id,
    authorizedAt,
    cnf,
    ...(withRefresh ? { refreshToken } : {}),
    ...(idKey
      ? {
          idToken: issueIdToken(ctx, idKey, {
            client,
            sub: user.id,
            authTime: code.authTime,
            nonce: code.nonce,
            acr: code.acr,
            amr: code.amr,
            sid: family.id,
          }),
        }
      : {}),
    ip,
  });
}
