/**
 * Fixtures of the encrypted-token tests: the issuer's signing key and an access token signed with it, the
 * supported recipient key kinds, and a hand-built compact JWE (any header, AES-GCM under a given content key)
 * for the attacks that Tessera's own encrypter refuses to make.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, randomBytes } from 'node:crypto';

import {
  generateEncryptionKey,
  generateKey,
  JweDecrypter,
  signAccessToken,
  type EncryptionCurve,
  type EncryptionKey,
  type JweDecryptOptions,
  type KeyManagementAlgorithm,
} from '@tessera/core';

import { AUDIENCE, ISSUER, now } from './forge.js';

/** The issuer's signing key. */
export const issuerKey = generateKey('ES256', { kid: 'issuer-es256' });

/** A valid access token of ISSUER for AUDIENCE at the fixed clock, signed with `issuerKey`. */
export function innerToken(overrides: { iss?: string } = {}): string {
  return signAccessToken(
    { iss: overrides.iss ?? ISSUER, sub: 'alice', aud: AUDIENCE, client_id: 'web', scope: 'orders:read', ttl: 300 },
    issuerKey,
    { now },
  );
}

/** Every supported recipient: key management algorithm and, for ECDH-ES, curve. */
export const RECIPIENTS: readonly { alg: KeyManagementAlgorithm; crv?: EncryptionCurve; name: string }[] = [
  { alg: 'ECDH-ES+A256KW', crv: 'P-256', name: 'ECDH-ES+A256KW P-256' },
  { alg: 'ECDH-ES+A256KW', crv: 'P-384', name: 'ECDH-ES+A256KW P-384' },
  { alg: 'ECDH-ES+A256KW', crv: 'X25519', name: 'ECDH-ES+A256KW X25519' },
  { alg: 'ECDH-ES', crv: 'P-256', name: 'ECDH-ES P-256' },
  { alg: 'ECDH-ES', crv: 'P-384', name: 'ECDH-ES P-384' },
  { alg: 'ECDH-ES', crv: 'X25519', name: 'ECDH-ES X25519' },
  { alg: 'RSA-OAEP-256', name: 'RSA-OAEP-256' },
  { alg: 'dir', name: 'dir' },
];

const made = new Map<string, EncryptionKey>();

/** One key per recipient kind, generated once per test process. */
export function recipientKey(r: { alg: KeyManagementAlgorithm; crv?: EncryptionCurve; name: string }): EncryptionKey {
  let key = made.get(r.name);
  if (key === undefined) {
    key = generateEncryptionKey(r.alg, { crv: r.crv, kid: `rs-${r.name.replace(/[^A-Za-z0-9]+/g, '-')}` });
    made.set(r.name, key);
  }
  return key;
}

/** A decrypter that takes every supported algorithm (and A128GCM too). */
export function decrypterForAll(options: Partial<JweDecryptOptions> = {}): JweDecrypter {
  return new JweDecrypter({
    algorithms: ['ECDH-ES+A256KW', 'ECDH-ES', 'RSA-OAEP-256', 'dir'],
    encryptions: ['A256GCM', 'A128GCM'],
    allowDir: true,
    ...options,
  });
}

const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/**
 * A compact JWE of any header (object or raw JSON text), its content encrypted with AES-GCM under `cek`
 * (32 bytes: A256GCM; 16: A128GCM) and `encryptedKey` as given.
 */
export function sealRaw(
  header: object | string,
  content: string | Uint8Array,
  cek: Uint8Array,
  encryptedKey: Uint8Array = new Uint8Array(0),
): string {
  const h = b64(typeof header === 'string' ? header : JSON.stringify(header));
  const iv = randomBytes(12);
  const cipher = createCipheriv(cek.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', cek, iv);
  cipher.setAAD(Buffer.from(h, 'latin1'));
  const ct = Buffer.concat([cipher.update(content), cipher.final()]);
  return [h, b64(encryptedKey), b64(iv), b64(ct), b64(cipher.getAuthTag())].join('.');
}

/** The five segments of a compact JWE. */
export function parts(token: string): [string, string, string, string, string] {
  const p = token.split('.');
  if (p.length !== 5) throw new TypeError('parts: not a five-segment token');
  return p as [string, string, string, string, string];
}
