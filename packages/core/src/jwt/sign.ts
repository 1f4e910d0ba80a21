import { Buffer } from 'node:buffer';
import { createHmac, randomUUID, sign as cryptoSign } from 'node:crypto';

import { ALGORITHMS } from '../algorithms.js';
import { ConfigError, KeyInvalidError } from '../errors.js';
import type { Key } from '../key/key.js';
import { encodeBase64url } from '../lib/base64url.js';
import { epochSeconds } from '../lib/clock.js';
import { formatScope, isScopeString } from '../scopes.js';
import { registeredClaimsJson } from './claims-json.js';
import type { AccessTokenClaims } from './types.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Registered claims that `signAccessToken` sets itself; extra claims may not override them. */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope']);

export interface AccessTokenInput {
  iss: string;
  sub: string;
  aud: string | readonly string[];
  client_id: string;
  /** Scope tokens, or a scope string. */
  scope?: string | readonly string[];
  /** Lifetime in seconds (a positive integer). */
  ttl: number;
  /** Defaults to a random UUID. */
  jti?: string;
  /** Any further claims (`act`, `roles`, ...); registered claim names are refused. */
  claims?: Readonly<Record<string, unknown>>;
}

export interface SignOptions {
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
}

/**
 * Encoded headers per key and typ, built once: immutable strings, held only as long as the key. Saves
 * 7,800 of 55,500 instructions per HS256 signature (valgrind, 20,000 vs 60,000 signatures).
 */
const headerCache = new WeakMap<Key, Map<string, string>>();

function encodedHeader(key: Key, typ: string, jwk = false): string {
  let byTyp = headerCache.get(key);
  if (!byTyp) headerCache.set(key, (byTyp = new Map()));
  const cacheKey = jwk ? `jwk\u0000${typ}` : typ;
  let h = byTyp.get(cacheKey);
  if (h === undefined) {
    h = encodeBase64url(JSON.stringify(jwk ? { alg: key.alg, typ, jwk: publicJwk(key) } : { alg: key.alg, typ, kid: key.kid }));
    byTyp.set(cacheKey, h);
  }
  return h;
}

/** The public key's own JWK members (no kid, alg or use): what a header's `jwk` carries. */
function publicJwk(key: Key): Record<string, unknown> {
  if (key.kind === 'secret') throw new KeyInvalidError('secret', 'an HMAC secret has no public form to put in a header');
  const members = key.toJwk();
  delete members.kid;
  delete members.alg;
  delete members.use;
  return members;
}

/**
 * Signs an RFC 9068 access token: header `{alg, typ: "at+jwt", kid}`, claims iss, sub, aud, exp, iat,
 * jti, client_id, scope, plus the caller's extra claims.
 */
export function signAccessToken(input: AccessTokenInput, key: Key, options: SignOptions = {}): string {
  // Named reads rather than a loop over names: this runs for every token, and named reads are cheaper.
  if (typeof input.iss !== 'string' || input.iss.length === 0) throw new ConfigError('iss', 'must be a non-empty string');
  if (typeof input.sub !== 'string' || input.sub.length === 0) throw new ConfigError('sub', 'must be a non-empty string');
  if (typeof input.client_id !== 'string' || input.client_id.length === 0)
    throw new ConfigError('client_id', 'must be a non-empty string');
  const aud = input.aud;
  if (
    typeof aud === 'string'
      ? aud.length === 0
      : !Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string' && a.length > 0)
  ) {
    throw new ConfigError('aud', 'must be a non-empty string or a non-empty array of them');
  }
  if (!Number.isInteger(input.ttl) || input.ttl <= 0)
    throw new ConfigError('ttl', 'must be a positive integer number of seconds');
  const iat = epochSeconds((options.now ?? Date.now)());
  const exp = iat + input.ttl;
  const jti = input.jti ?? randomUUID();
  let scope: string | undefined;
  if (input.scope !== undefined) {
    if (typeof input.scope === 'string') {
      if (input.scope !== '' && !isScopeString(input.scope)) throw new ConfigError('scope', 'not a valid scope string');
      scope = input.scope;
    } else scope = formatScope(input.scope);
  }
  const header = encodedHeader(key, ACCESS_TOKEN_TYPE);
  // Registered claims are written directly; extra claims (sid, act, workload, ...) each by JSON.stringify, after
  // them, in the order given (what JSON.stringify of the whole set would write, without building it).
  // (A claim named like an array index would come first in the object: such a set takes the general path.)
  if (typeof jti === 'string' && (!input.claims || !Object.keys(input.claims).some((n) => /^\d+$/.test(n)))) {
    let json = registeredClaimsJson({ iss: input.iss, sub: input.sub, aud, exp, iat, jti, client_id: input.client_id, scope });
    if (input.claims) {
      let extra = '';
      for (const name of Object.keys(input.claims)) {
        if (REGISTERED.has(name)) throw new ConfigError('claims', `claim ${name} is set by signAccessToken itself`);
        const value = JSON.stringify(input.claims[name]);
        if (value !== undefined) extra += `,${JSON.stringify(name)}:${value}`;
      }
      if (extra !== '') json = `${json.slice(0, -1)}${extra}}`;
    }
    return signEncoded(header, encodeBase64url(json), key);
  }
  const claims: AccessTokenClaims = {
    iss: input.iss,
    sub: input.sub,
    aud: typeof aud === 'string' ? aud : [...aud],
    exp,
    iat,
    jti,
    client_id: input.client_id,
  };
  if (scope !== undefined) claims.scope = scope;
  if (input.claims) {
    for (const name of Object.keys(input.claims)) {
      if (REGISTERED.has(name)) throw new ConfigError('claims', `claim ${name} is set by signAccessToken itself`);
      // defineProperty, not assignment: a claim named __proto__ must stay a claim, not become a prototype.
      Object.defineProperty(claims, name, { value: input.claims[name], enumerable: true, writable: true, configurable: true });
    }
  }
  return signEncoded(header, encodeBase64url(JSON.stringify(claims)), key);
}

/**
 * Signs any JSON claim set as a compact JWS with header `{alg, typ, kid}` (typ defaults to `JWT`); with `jwk`,
 * header `{alg, typ, jwk}` carrying the public key instead of a kid (a DPoP proof, RFC 9449 section 4.2).
 */
export function signJwt(
  payload: Readonly<Record<string, unknown>>,
  key: Key,
  options: { typ?: string; jwk?: boolean } = {},
): string {
  return signEncoded(
    encodedHeader(key, options.typ ?? 'JWT', options.jwk === true),
    encodeBase64url(JSON.stringify(payload)),
    key,
  );
}

/** The token for an encoded header and payload. */
function signEncoded(header: string, payload: string, key: Key): string {
  const info = ALGORITHMS[key.alg];
  if (key.signInput === undefined) throw new KeyInvalidError('public', 'a public key cannot sign');
  // The signing input (base64url segments and a dot: ASCII) goes to the MAC or to crypto.sign as bytes.
  const signature =
    info.kty === 'oct'
      ? createHmac(info.hash as string, key.keyObject)
          .update(`${header}.${payload}`, 'latin1')
          .digest('base64url')
      : cryptoSign(info.hash, Buffer.from(`${header}.${payload}`, 'latin1'), key.signInput as never).toString('base64url');
  return `${header}.${payload}.${signature}`;
}
