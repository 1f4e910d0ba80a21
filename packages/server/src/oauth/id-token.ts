import { signJwt, type Algorithm, type Key } from '@tessera/core';

import type { ServerContext } from '../context.js';
import type { Client } from '../store/types.js';
import { OAuthError } from './errors.js';

/** The algorithm kept beside the main signing key for ID tokens: OpenID Connect requires RS256 for interoperability. */
export const RSA_ID_TOKEN_ALG = 'RS256' satisfies Algorithm;

/**
 * The `acr` of a login that states none (OpenID Connect Core section 2): "0", the one value the standard defines,
 * which claims no assurance level of ISO/IEC 29115. A password login alone meets no higher level that a relying
 * party could rely on, so Tessera claims none.
 */
export const DEFAULT_ACR = '0';

/** The algorithms ID tokens may be signed with: those of the key manager's tracks (none in single-app mode). */
export function idTokenAlgorithms(ctx: ServerContext): readonly Algorithm[] {
  return ctx.config.singleApp ? [] : ctx.keys.algorithms();
}

/** The algorithm of the client's ID tokens: its registration's, or the server's signing algorithm. */
export function idTokenAlgorithm(ctx: ServerContext, client: Client): Algorithm {
  return client.idTokenSignedResponseAlg ?? (ctx.config.signingAlg as Algorithm);
}

/**
 * The key that signs the client's ID tokens now: the active key of its algorithm. Taken before the code is spent,
 * so that a client registered for an algorithm this server no longer keeps (its `signingAlg` changed since) is
 * refused with its code intact.
 */
export function idTokenKey(ctx: ServerContext, client: Client): Key {
  const alg = idTokenAlgorithm(ctx, client);
  if (!idTokenAlgorithms(ctx).includes(alg))
    throw new OAuthError('server_error', `this server keeps no ${alg} key for ID tokens`);
  return ctx.keys.activeKey(alg);
}

/** What an ID token states about the authentication; times in milliseconds. */
export interface IdTokenInput {
  client: Client;
  sub: string;
  /** When the user authenticated. */
  authTime: number;
  nonce: string | null;
  acr: string | null;
  amr: readonly string[];
  /** The session (refresh-token family) the tokens belong to. */
  sid?: string;
}

/**
 * Signs an ID token (OpenID Connect Core sections 2 and 3.1.3.6) with `key` (idTokenKey: the client's algorithm):
 * iss, sub, aud (the client alone, so no `azp` is needed), exp (`idTokenTtl`), iat, auth_time, nonce when the
 * request had one, acr, amr when stated, sid. The user's profile and email claims are not in it: the code flow
 * always issues an access token, with which the client reads them from /userinfo (Core section 5.4).
 */
export function issueIdToken(ctx: ServerContext, key: Key, input: IdTokenInput): string {
  const iat = Math.floor(ctx.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: ctx.config.issuer,
    sub: input.sub,
    aud: input.client.id,
    exp: iat + ctx.config.idTokenTtl,
    iat,
    auth_time: Math.floor(input.authTime / 1000),
    ...(input.nonce !== null ? { nonce: input.nonce } : {}),
    acr: input.acr ?? DEFAULT_ACR,
    ...(input.amr.length > 0 ? { amr: [...input.amr] } : {}),
    ...(input.sid !== undefined ? { sid: input.sid } : {}),
  };
  return signJwt(claims, key, { typ: 'JWT' });
}
