import {
  DEFAULT_MAX_JSON_DEPTH,
  JwsVerifier,
  parseStrictJson,
  signJwt,
  TesseraError,
  type Algorithm,
  type Key,
} from '@tessera/core';

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

/** What a verified `id_token_hint` says: whose session, for which client. */
export interface IdTokenHint {
  sub: string;
  clientId: string;
  sid: string | undefined;
  /** The `auth_time` it states (seconds), which names the login (the browser session) it was issued in. */
  authTime: number | undefined;
}

/**
 * An `id_token_hint` (OpenID Connect RP-Initiated Logout 1.0 section 2) this server issued: header and signature
 * checked by core's JwsVerifier (an ID token algorithm, the key by exact kid among the live keys of every
 * track, `typ` JWT so that an access token is no hint), `iss` this issuer, `sub` and a single `aud` present.
 * Its expiry is not checked: the specification lets a logout carry an expired ID token. Undefined when it is
 * none of this server's ID tokens.
 */
export function verifyIdTokenHint(ctx: ServerContext, token: string): IdTokenHint | undefined {
  const algorithms = idTokenAlgorithms(ctx);
  if (algorithms.length === 0) return undefined;
  try {
    const { header, payload } = new JwsVerifier({ algorithms }).verify(token, ctx.keys.idTokenKeys());
    if (header.typ !== 'JWT') return undefined;
    const claims = parseStrictJson(payload.toString('utf8'), DEFAULT_MAX_JSON_DEPTH);
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    const { iss, sub, aud, sid, auth_time } = claims as Record<string, unknown>;
    if (iss !== ctx.config.issuer || typeof sub !== 'string' || typeof aud !== 'string') return undefined;
    return {
      sub,
      clientId: aud,
      sid: typeof sid === 'string' ? sid : undefined,
      authTime: typeof auth_time === 'number' && Number.isSafeInteger(auth_time) ? auth_time : undefined,
    };
  } catch (err) {
    if (err instanceof TesseraError) return undefined;
    throw err;
  }
}
