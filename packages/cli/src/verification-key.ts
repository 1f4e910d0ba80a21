import {
  ALGORITHMS,
  importSecret,
  JwksInvalidError,
  KeyInvalidError,
  parseJwks,
  type Algorithm,
  type Key,
  type KeySet,
  type SkippedKey,
} from '@tessera/core';

import { UsageError } from './errors.js';
import { readInputFile } from './io.js';
import { importKeyFile, readKeyFile } from './key-file.js';
import { parseSecretFile } from './secret-file.js';

/** `--jwks FILE`: a JWKS document, parsed by @tessera/core parseJwks with the `--alg` allowlist. */
export async function loadJwksFile(path: string, algorithms: readonly Algorithm[]): Promise<KeySet> {
  const text = (await readInputFile(path, 'JWKS file')).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new JwksInvalidError('json', `JWKS file ${path} is not valid JSON`);
  }
  const keys = parseJwks(json, { algorithms });
  if (keys.size === 0)
    throw new JwksInvalidError('empty', `JWKS file ${path} holds no usable key${describeSkipped(keys.skipped)}`);
  return keys;
}

export function describeSkipped(skipped: readonly SkippedKey[]): string {
  if (skipped.length === 0) return '';
  return ` (skipped: ${skipped.map((s) => `${s.kid ?? 'key without kid'}: ${s.message}`).join('; ')})`;
}

/**
 * `--public-key FILE`: PEM (SPKI or PKCS#1 `RSA PUBLIC KEY`), a public JWK, or an OpenSSH `.pub` line. The
 * key is pinned to the one algorithm of the allowlist that fits it.
 */
export async function loadPublicKeyFile(path: string, algorithms: readonly Algorithm[]): Promise<Key> {
  const file = await readKeyFile(path, 'public key file');
  if (file.format === 'secret') {
    throw new KeyInvalidError(
      'format',
      `${path} is not a public key (expected PEM, a JWK or an OpenSSH .pub line; use --secret-file for HMAC)`,
    );
  }
  if (file.format === 'jwk' && file.jwk?.kty === 'oct')
    throw new KeyInvalidError('secret', `${path} is an HMAC secret JWK; use --secret-file`);
  const key = pinToOne(path, algorithms, (alg) => importKeyFile(file, { alg }, '--alg'));
  if (key.kind !== 'public') {
    throw new KeyInvalidError(
      'private',
      `${path} holds a private key; give the verifier the public key (public.pem or jwks.json)`,
    );
  }
  return key;
}

/** `--secret-file FILE`: an HMAC secret as base64url text (see secret-file.ts), pinned to one HS algorithm. */
export async function loadSecretFile(path: string, algorithms: readonly Algorithm[]): Promise<Key> {
  const hmac = algorithms.filter((a) => ALGORITHMS[a].kty === 'oct');
  if (hmac.length === 0) throw new UsageError('--secret-file needs an HMAC algorithm (HS256, HS384 or HS512) in --alg');
  const text = (await readInputFile(path, 'secret file')).toString('utf8');
  const secret = parseSecretFile(text, path);
  return pinToOne(path, hmac, (alg) => importSecret(secret, { alg: alg as 'HS256' }));
}

/**
 * Imports the key once per allowed algorithm and keeps the one import that succeeds: a key is pinned to
 * exactly one algorithm. None: the most telling import error. Several (RS256 and PS256 for one RSA key):
 * a UsageError, since the allowlist must then name only one of them.
 */
function pinToOne(path: string, algorithms: readonly Algorithm[], importAs: (alg: Algorithm) => Key): Key {
  const fits: Key[] = [];
  const errors: KeyInvalidError[] = [];
  for (const alg of algorithms) {
    try {
      fits.push(importAs(alg));
    } catch (err) {
      if (!(err instanceof KeyInvalidError)) throw err;
      errors.push(err);
    }
  }
  if (fits.length > 1) {
    throw new UsageError(
      `${path} fits several algorithms of --alg (${fits.map((k) => k.alg).join(', ')}); a key is pinned to one, so list only one of them`,
    );
  }
  if (fits.length === 1) return fits[0]!;
  const telling = errors.find((e) => e.reason !== 'alg');
  if (telling) throw telling;
  throw new KeyInvalidError('alg', `${path} fits none of the algorithms of --alg (${algorithms.join(', ')})`);
}
