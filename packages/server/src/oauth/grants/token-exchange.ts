import { TokenError, TokenExpiredError, TokenNotYetValidError, type AccessTokenClaims } from '@tessera/core';
import { TokenRevokedError } from '@tessera/verifier';

import type { ServerContext } from '../../context.js';
import type { Client } from '../../store/types.js';
import { OAuthError } from '../errors.js';
import { param, type Form } from '../form.js';
import { accessTokenTtl, confirmation, issueAccessToken, type Sender, type TokenResponse } from '../issue.js';
import { verifyOwnAccessToken } from '../own-tokens.js';
import { grantAudience, grantScopes, requestedScopes } from '../policy.js';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Delegation chains longer than this are refused: each hop nests one more `act`. */
export const MAX_ACT_DEPTH = 5;

interface Act {
  sub: string;
  act?: Act;
}

function actDepth(act: unknown): number {
  let depth = 0;
  let a = act as Act | undefined;
  while (typeof a === 'object' && a !== null) {
    depth++;
    if (depth > MAX_ACT_DEPTH + 1) break;
    a = a.act;
  }
  return depth;
}

/** The subject token's claims, verified as one of this issuer's access tokens; each refusal says why. */
async function subjectClaims(ctx: ServerContext, token: string): Promise<Readonly<AccessTokenClaims>> {
  try {
    return (await verifyOwnAccessToken(ctx, token)).claims;
  } catch (err) {
    if (err instanceof TokenExpiredError) throw new OAuthError('invalid_grant', 'the subject token has expired');
    if (err instanceof TokenNotYetValidError) throw new OAuthError('invalid_grant', 'the subject token is not valid yet');
    if (err instanceof TokenRevokedError) throw new OAuthError('invalid_grant', 'the subject token has been revoked');
    if (err instanceof TokenError)
      throw new OAuthError('invalid_grant', 'the subject token is not a valid access token of this issuer');
    throw err;
  }
}

/**
 * Token exchange (RFC 8693), on behalf of: a service holding an access token of a user (the subject token)
 * gets a token for a downstream audience. The subject token must be one of this issuer's access tokens,
 * unexpired, unrevoked, and issued for the calling client (its `aud` holds the client id): a service can only
 * exchange tokens that were sent to it. The new token keeps `sub` (and the session `sid`, so that ending the
 * session revokes it too), names the calling client in `act` (nesting the subject token's `act` for each
 * further hop, at most MAX_ACT_DEPTH), carries the scopes both the subject token and the client allow (and, for
 * a user, the user's current roles), is for an audience the client may request, and expires no later than the
 * subject token. A client registered with `mayImpersonate` gets tokens without `act` (impersonation).
 */
export async function tokenExchangeGrant(
  ctx: ServerContext,
  client: Client,
  form: Form,
  ip: string,
  authorizedAt: number,
  sender: Sender,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes('urn:ietf:params:oauth:grant-type:token-exchange'))
    throw new OAuthError('unauthorized_client', 'this client may not use token exchange');
  const subjectToken = param(form, 'subject_token', true);
  const subjectType = param(form, 'subject_token_type', true);
  if (subjectType !== ACCESS_TOKEN_TYPE) throw new OAuthError('invalid_request', 'subject_token_type must be an access token');
  if (param(form, 'actor_token') !== undefined || param(form, 'actor_token_type') !== undefined)
    throw new OAuthError('invalid_request', 'actor_token is not supported: the authenticated client is the actor');
  const requestedType = param(form, 'requested_token_type');
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE)
    throw new OAuthError('invalid_request', 'only access tokens can be requested');

  const claims = await subjectClaims(ctx, subjectToken);
  const now = ctx.now();
  // Within the verifier's clock tolerance past its exp a token still verifies, but it has no lifetime left
  // to hand on: the new token must not outlive it.
  if (claims.exp * 1000 <= now) throw new OAuthError('invalid_grant', 'the subject token has expired');
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.includes(client.id)) throw new OAuthError('invalid_grant', 'the subject token was not issued to this client');
  if (typeof claims.sub !== 'string') throw new OAuthError('invalid_grant', 'the subject token names no subject');
  // A sender-constrained subject token (DPoP, `cnf.jkt`) is exchanged only for a token bound to the caller's key: a
  // bound token never comes out of an exchange as a bearer token.
  const bound = typeof claims.cnf === 'object' && claims.cnf !== null ? (claims.cnf as Record<string, unknown>) : {};
  if (bound.jkt !== undefined && sender.jkt === undefined)
    throw new OAuthError('invalid_dpop_proof', 'a DPoP-bound subject token is exchanged only with a DPoP proof of the caller');
  // A certificate-bound subject token (RFC 8705, `cnf.x5t#S256`) is exchanged only over mutual TLS with that
  // certificate, and the new token is bound to it (or to the caller's DPoP key) in turn.
  const x5t = bound['x5t#S256'];
  if (x5t !== undefined && (typeof x5t !== 'string' || x5t !== sender.certificate))
    throw new OAuthError(
      'invalid_grant',
      'a certificate-bound subject token is exchanged only over mutual TLS with the certificate it is bound to',
    );
  const cnf = confirmation(x5t === undefined ? sender : { ...sender, bindCertificate: true });
  const depth = actDepth(claims.act);
  if (depth >= MAX_ACT_DEPTH) throw new OAuthError('invalid_grant', 'the delegation chain is too long');

  // What the subject may still have: a user's current roles (a disabled user gets nothing), else the subject
  // token's own scopes.
  let subjectScopes = typeof claims.scope === 'string' && claims.scope !== '' ? claims.scope.split(' ') : [];
  const user = claims.sub === claims.client_id ? undefined : await ctx.store.users.getById(claims.sub);
  if (user) {
    if (user.disabled) throw new OAuthError('invalid_grant', 'the subject token has been revoked');
    const permissions = await ctx.store.roles.permissionsOf(user.roles);
    subjectScopes = subjectScopes.filter((s) => permissions.includes(s));
  }
  const scopes = grantScopes(
    requestedScopes(form),
    client.scopes.filter((s) => subjectScopes.includes(s)),
  );
  const audience = grantAudience(form, client);
  const act: Act | undefined = client.mayImpersonate
    ? undefined
    : { sub: client.id, ...(claims.act ? { act: claims.act as Act } : {}) };
  const remaining = Math.floor(claims.exp - now / 1000);
  const ttl = Math.max(1, Math.min(accessTokenTtl(ctx, client), remaining));
  const { token, jti, expiresIn, tokenType } = await issueAccessToken(ctx, {
    sub: claims.sub,
    client,
    scopes,
    audience,
    ttl,
    authorizedAt,
    cnf,
    subjectIsUser: user !== undefined,
    ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
    ...(act ? { claims: { act } } : {}),
  });
  await ctx.audit.record({
    type: 'token.exchanged',
    outcome: 'success',
    subject: claims.sub,
    clientId: client.id,
    ip,
    data: {
      jti,
      from: claims.jti ?? null,
      aud: audience,
      scope: scopes.join(' '),
      impersonation: !act,
      depth: act ? depth + 1 : depth,
    },
  });
  return {
    access_token: token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: tokenType,
    expires_in: expiresIn,
    scope: scopes.join(' '),
  };
}
