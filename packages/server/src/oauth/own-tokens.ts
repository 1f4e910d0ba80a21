import { JwsVerifier, TesseraError, type AccessTokenClaims, type Algorithm } from '@tessera/core';

import type { ServerContext } from '../context.js';

const ALL: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];
const jws = new JwsVerifier({ algorithms: ALL });

/**
 * Reads an access token this server issued: signature by one of its live keys, typ at+jwt, iss equal to
 * the issuer. Returns its claims, or undefined for anything else. Expiry and revocation are the caller's.
 */
export function readOwnAccessToken(ctx: ServerContext, token: string): AccessTokenClaims | undefined {
  try {
    const { header, payload } = jws.verify(token, ctx.keys.verificationKeys());
    if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) return undefined;
    const claims = JSON.parse(payload.toString('utf8')) as AccessTokenClaims;
    if (claims.iss !== ctx.config.issuer || typeof claims.exp !== 'number' || typeof claims.jti !== 'string') return undefined;
    return claims;
  } catch (err) {
    if (err instanceof TesseraError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}
