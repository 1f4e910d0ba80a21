import { ALGORITHMS, importSecret, KeyInvalidError, type Algorithm, type Key } from '@tessera/core';

import { UsageError } from './errors.js';
import { importKeyFile, readKeyFile } from './key-file.js';
import { parseSecretFile } from './secret-file.js';

export interface SigningKeyOptions {
  /** `--alg`: needed when the file does not name the algorithm (RSA PEM, secret file). */
  alg?: Algorithm;
  /** `--kid`: overrides the JWK's kid (or the thumbprint). */
  kid?: string;
}

/**
 * The `--key FILE` of `token sign`: a private JWK (or an HMAC `oct` JWK), a PEM private key (PKCS#8,
 * PKCS#1 as `ssh-keygen -m pem` writes, SEC1), or an HMAC secret file (base64url text, with `--alg HS*`).
 */
export async function loadSigningKey(path: string, options: SigningKeyOptions): Promise<Key> {
  const file = await readKeyFile(path, 'key file');
  const importOptions = { ...(options.alg ? { alg: options.alg } : {}), ...(options.kid ? { kid: options.kid } : {}) };
  let key: Key;
  if (file.format === 'secret') {
    let secret: Uint8Array;
    try {
      secret = parseSecretFile(file.text, path);
    } catch {
      throw new KeyInvalidError(
        'format',
        `${path} is not a key file (expected a private JWK, a PEM private key or a base64url secret)`,
      );
    }
    if (options.alg === undefined)
      throw new UsageError(`${path} is a secret file, which does not name its algorithm; pass --alg HS256`);
    if (ALGORITHMS[options.alg].kty !== 'oct')
      throw new UsageError(`${path} is an HMAC secret file; --alg must be HS256, HS384 or HS512`);
    key = importSecret(secret, { ...importOptions, alg: options.alg as 'HS256' });
  } else {
    key = importKeyFile(file, importOptions, '--alg');
  }
  if (key.kind === 'public') throw new KeyInvalidError('public', `${path} holds a public key; signing needs the private key`);
  return key;
}
