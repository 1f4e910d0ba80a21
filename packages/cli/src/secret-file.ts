import { decodeBase64url, encodeBase64url, KeyInvalidError } from '@tessera/core';

/**
 * The one rule for HMAC secret files (`keys generate --alg HS256` writes them, `token sign --key` and
 * `token verify --secret-file` read them): the file holds the secret as unpadded base64url text
 * (RFC 4648 section 5), optionally followed by a newline; the decoded bytes are the key. Raw binary
 * secrets are not read, so that a file is never ambiguous; convert one with
 * `basenc --base64url -w0 < raw | tr -d =`.
 */
export function parseSecretFile(text: string, path: string): Uint8Array {
  const bytes = decodeBase64url(text.trim());
  if (bytes === undefined || bytes.length === 0) {
    throw new KeyInvalidError('secret', `${path} is not a secret file (expected the secret as unpadded base64url text)`);
  }
  return bytes;
}

export function formatSecretFile(secret: Uint8Array): string {
  return `${encodeBase64url(secret)}\n`;
}
