import { importEncryptionJwk, KeyInvalidError, type EncryptionKey } from '@tessera/core';

import { readKeyFile } from './key-file.js';

/** What `keys generate --use enc --out DIR` writes: the private JWK a service decrypts with, and its public JWK. */
export const ENC_PRIVATE_FILE = 'enc-private.jwk.json';
export const ENC_PUBLIC_FILE = 'enc-public.jwk.json';

/**
 * `--decryption-key FILE`: a private encryption JWK (`use: enc`, with `alg`), as `keys generate --use enc` writes
 * it, imported by @tessera/core importEncryptionJwk (its checks: a supported algorithm and curve, a point on it,
 * public members that are the private key's). A public key is refused: it cannot decrypt.
 */
export async function loadDecryptionKeyFile(path: string): Promise<EncryptionKey> {
  const file = await readKeyFile(path, 'decryption key file');
  if (file.jwk === undefined)
    throw new KeyInvalidError('format', `${path} is not a JWK; a decryption key is a private JWK (${ENC_PRIVATE_FILE})`);
  let key: EncryptionKey;
  try {
    key = importEncryptionJwk(file.jwk);
  } catch (err) {
    if (err instanceof KeyInvalidError) throw new KeyInvalidError(err.reason, `${path}: ${err.message}`);
    throw err;
  }
  if (key.kind === 'public')
    throw new KeyInvalidError('public', `${path} holds a public key; decrypting takes the private one (${ENC_PRIVATE_FILE})`);
  return key;
}

/** The decryption keys of a repeatable `--decryption-key FILE` flag, in the order given. */
export async function loadDecryptionKeys(paths: readonly string[]): Promise<EncryptionKey[]> {
  const keys: EncryptionKey[] = [];
  for (const path of paths) keys.push(await loadDecryptionKeyFile(path));
  return keys;
}
