import { Buffer } from 'node:buffer';

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Values of the base64url alphabet, or -1; indexed by char code. */
const VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => (VALUE[c.charCodeAt(0)] = i));

/**
 * True when `s` is canonical unpadded base64url (RFC 7515 section 2): only the URL-safe alphabet, no
 * padding or whitespace, a length that encodes whole bytes, and zero unused bits in the last character,
 * so that every byte string has exactly one accepted encoding.
 */
export function isCanonicalBase64url(s: string): boolean {
  const rem = s.length & 3;
  if (rem === 1 || !ALPHABET.test(s)) return false;
  if (rem === 0) return true;
  const last = VALUE[s.charCodeAt(s.length - 1)]!;
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * Decodes canonical base64url; returns undefined for anything else. Node's decoder is lenient (it skips
 * characters outside the alphabet, takes `+` and `/`, stops at `=`), so the bytes are encoded again and
 * must give back `s` exactly: an encoder's output is canonical, so this accepts precisely what
 * `isCanonicalBase64url` accepts. It costs less than the alphabet scan, and this runs on every token.
 */
export function decodeBase64url(s: string): Buffer | undefined {
  const bytes = Buffer.from(s, 'base64url');
  return bytes.toString('base64url') === s ? bytes : undefined;
}

export function encodeBase64url(data: Uint8Array | string): string {
  return (
    typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  ).toString('base64url');
}
