import { importKey, KeyInvalidError, type ImportOptions, type Key } from '@tessera/core';
import { keyTextFormat } from '@tessera/core/internal';

import { UsageError } from './errors.js';
import { readInputFile } from './io.js';

/** How a key file is written, decided from its text alone. */
export type KeyFileFormat = 'jwk' | 'pem' | 'openssh' | 'secret';

export interface KeyFile {
  path: string;
  format: KeyFileFormat;
  text: string;
  /** The parsed JWK, for `jwk` files. */
  jwk?: Record<string, unknown>;
}

/**
 * Reads a key file and tells its format as `importKey` does (a JWK, PEM, an OpenSSH public key line), or
 * else an HMAC secret file (see secret-file.ts).
 */
export async function readKeyFile(path: string, what: string): Promise<KeyFile> {
  const text = (await readInputFile(path, what)).toString('utf8');
  const format = keyTextFormat(text) ?? 'secret';
  if (format !== 'jwk') return { path, format, text };
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new KeyInvalidError('jwk', `${what} ${path} starts like a JWK but is not valid JSON`);
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new KeyInvalidError('jwk', `${what} ${path} is not a JWK`);
  return { path, format, text, jwk: jwk as Record<string, unknown> };
}

/**
 * Imports a JWK, PEM or OpenSSH key file with @tessera/core importKey. A key that does not name its
 * algorithm (RSA keys in PEM or OpenSSH form, JWKs without `alg` of type RSA or oct) needs `alg`: without
 * it the import fails with a UsageError naming `flag`.
 */
export function importKeyFile(file: KeyFile, options: ImportOptions, flag: string): Key {
  try {
    return importKey(file.jwk ?? file.text, options);
  } catch (err) {
    const unnamed = file.format !== 'jwk' || file.jwk?.alg === undefined;
    if (options.alg === undefined && unnamed && err instanceof KeyInvalidError && err.reason === 'alg') {
      throw new UsageError(`${file.path} does not name its algorithm; pass ${flag} (e.g. RS256)`);
    }
    throw err;
  }
}
