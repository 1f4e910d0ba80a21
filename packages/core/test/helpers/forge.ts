/**
 * Hand-built tokens for the attack tests: any header and payload (objects, raw JSON text, raw bytes),
 * signed under any algorithm with any key, including the wrong one. Tessera's own signer refuses to make
 * most of these, which is the point.
 */
import { Buffer } from 'node:buffer';
import { constants, createHmac, KeyObject, sign as cryptoSign } from 'node:crypto';

import { AccessTokenVerifier, ALGORITHMS, Key, type AccessTokenVerifyOptions, type Algorithm } from '@tessera/core';

export const ISSUER = 'https://auth.tessera.test';
export const AUDIENCE = 'orders';
/** The fixed clock of every hand-built token and verifier, in seconds since the epoch. */
export const NOW = 1_700_000_000;
export const now = (): number => NOW * 1000;

/** A valid RFC 9068 claim set for ISSUER and AUDIENCE at NOW, with `overrides` on top. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'alice',
    aud: AUDIENCE,
    exp: NOW + 300,
    iat: NOW,
    jti: 'jti-1',
    client_id: 'web',
    scope: 'orders:read',
    ...overrides,
  };
}

/** `claims()` without the named claims. */
export function claimsWithout(...names: string[]): Record<string, unknown> {
  const c = claims();
  for (const name of names) delete c[name];
  return c;
}

/** The header Tessera's signer writes for `key`, with `overrides` on top. */
export function headerFor(key: Key, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...overrides };
}

/** An access-token verifier for ISSUER and AUDIENCE on the fixed clock. */
export function accessVerifier(
  algorithms: readonly Algorithm[],
  options: Partial<AccessTokenVerifyOptions> = {},
): AccessTokenVerifier {
  return new AccessTokenVerifier({ algorithms, issuer: ISSUER, audience: AUDIENCE, now, ...options });
}

/**
 * A header or payload: an object or array (serialized by JSON.stringify), a string (JSON text, encoded as
 * UTF-8 exactly as written), or raw bytes (encoded as they are, valid UTF-8 or not).
 */
export type Part = string | Uint8Array | object;

export function b64url(data: string | Uint8Array): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64url');
}

export function encodePart(part: Part): string {
  if (part instanceof Uint8Array || typeof part === 'string') return b64url(part);
  return b64url(JSON.stringify(part));
}

/** A signing key: a Tessera key, a node:crypto key, or the raw bytes (or text) of an HMAC secret. */
export type SigningKey = Key | KeyObject | Uint8Array | string;

/** The JWS signature of `signingInput` under `alg`, whatever the key is pinned to. */
export function signature(alg: Algorithm, key: SigningKey, signingInput: string): Buffer {
  const info = ALGORITHMS[alg];
  const material = key instanceof Key ? key.keyObject : key;
  const data = Buffer.from(signingInput, 'latin1');
  if (info.kty === 'oct') {
    const secret = typeof material === 'string' ? Buffer.from(material, 'utf8') : material;
    return createHmac(info.hash!, secret).update(data).digest();
  }
  if (!(material instanceof KeyObject)) throw new TypeError(`${alg} needs a private key, not secret bytes`);
  if (info.kty === 'EC') return cryptoSign(info.hash, data, { key: material, dsaEncoding: 'ieee-p1363' });
  if (info.pss) {
    return cryptoSign(info.hash, data, {
      key: material,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  return cryptoSign(info.hash, data, material);
}

/** A compact JWS of `header` and `payload`, signed under `alg` (default: the key's own) with `key`. */
export function forge(header: Part, payload: Part, key: SigningKey, alg?: Algorithm): string {
  const signWith = alg ?? (key instanceof Key ? key.alg : undefined);
  if (signWith === undefined) throw new TypeError('forge: name the algorithm for a raw key');
  const input = `${encodePart(header)}.${encodePart(payload)}`;
  return `${input}.${signature(signWith, key, input).toString('base64url')}`;
}

/** A compact JWS with an empty signature segment. */
export function unsigned(header: Part, payload: Part): string {
  return `${encodePart(header)}.${encodePart(payload)}.`;
}

export function segments(token: string): [header: string, payload: string, signature: string] {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TypeError('segments: not a three-segment token');
  return parts as [string, string, string];
}

/** The token's signature bytes. */
export function signatureOf(token: string): Buffer {
  return Buffer.from(segments(token)[2], 'base64url');
}

/** The token with its signature segment replaced by the canonical encoding of `sig`. */
export function withSignature(token: string, sig: Uint8Array): string {
  const [h, p] = segments(token);
  return `${h}.${p}.${Buffer.from(sig).toString('base64url')}`;
}

/**
 * The same bytes as a canonical base64url segment, with some unused trailing bits set: a second spelling
 * that a lenient decoder reads as the original. Needs a segment whose length is not a multiple of 4.
 */
export function withTrailingBits(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unused = segment.length % 4 === 2 ? 4 : segment.length % 4 === 3 ? 2 : 0;
  if (unused === 0) throw new TypeError('withTrailingBits: this segment has no unused bits');
  const last = alphabet.indexOf(segment[segment.length - 1]!);
  return segment.slice(0, -1) + alphabet[last | 1]!;
}
