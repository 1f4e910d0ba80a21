import { TokenError, type AccessTokenClaims } from '@tessera/core';
import { TokenRevokedError } from '@tessera/verifier';

import type { ServerContext } from '../context.js';
import { verifyOwnAccessToken } from '../oauth/own-tokens.js';
import { revokeSession as revokeFamily } from '../revocation/revoke-session.js';
import type { Actor } from './actor.js';
import { REVOCATION_RECORD_SKEW_S } from '../revocation/record-skew.js';

export type TokenTypeHint = 'access_token' | 'refresh_token';

/** What `revokeToken` did: the kind of token revoked, or nothing (unknown, foreign, expired). */
export type TokenRevocation = { revoked: true; kind: TokenTypeHint } | { revoked: false };

/**
 * Revokes one token this server issued (RFC 7009 semantics): a refresh token revokes its whole family and
 * the family's access tokens; an access token is revoked by jti until it expires. With `clientId` (the
 * revocation endpoint) only that client's tokens are revoked; without it (the operator's `tessera token
 * revoke --dir`) any token of this server. The hint names where to look first (RFC 7009 section 2.1).
 */
export async function revokeToken(
  ctx: ServerContext,
  by: Actor,
  token: string,
  options: { hint?: string; clientId?: string } = {},
): Promise<TokenRevocation> {
  const now = ctx.now();
  const owned = (clientId: string | undefined) => options.clientId === undefined || options.clientId === clientId;
  const asRefresh = async (): Promise<TokenRevocation> => {
    const found = await ctx.store.refreshFamilies.findToken(ctx.master.refreshDigest(token));
    if (!found || !owned(found.family.clientId)) return { revoked: false };
    const ttl = (await ctx.store.clients.get(found.family.clientId))?.accessTokenTtl ?? ctx.config.accessTokenTtl;
    // The family and its revocation record in one transaction; a retry completes a revoke left half done.
    if (await revokeFamily(ctx, found.family.id, { family: 'revoked', record: 'rfc7009' }, ttl, now)) {
      await ctx.audit.record({
        type: 'token.revoked',
        outcome: 'success',
        ...by,
        subject: found.family.userId,
        clientId: found.family.clientId,
        data: { kind: 'refresh_token', family: found.family.id },
      });
    }
    return { revoked: true, kind: 'refresh_token' };
  };
  const asAccess = async (): Promise<TokenRevocation> => {
    const claims = await liveAccessToken(ctx, token);
    if (!claims || !owned(claims.client_id)) return { revoked: false };
    await ctx.revocations.revoke('jti', claims.jti!, {
      expiresAt: (claims.exp + REVOCATION_RECORD_SKEW_S) * 1000,
      reason: 'rfc7009',
      now,
    });
    await ctx.audit.record({
      type: 'token.revoked',
      outcome: 'success',
      ...by,
      subject: claims.sub,
      clientId: claims.client_id,
      data: { kind: 'access_token', jti: claims.jti },
    });
    return { revoked: true, kind: 'access_token' };
  };
  const [first, second] = options.hint === 'access_token' ? [asAccess, asRefresh] : [asRefresh, asAccess];
  const r = await first();
  return r.revoked ? r : second();
}

/**
 * The claims of an access token this server issued that has not expired, revoked or not: revoking it again
 * is answered as the first time (RFC 7009). Undefined for any other token.
 */
async function liveAccessToken(ctx: ServerContext, token: string): Promise<Readonly<AccessTokenClaims> | undefined> {
  try {
    return (await verifyOwnAccessToken(ctx, token)).claims;
  } catch (err) {
    if (err instanceof TokenRevokedError && err.principal !== undefined) return err.principal.claims;
    if (err instanceof TokenError) return undefined;
    throw err;
  }
}
