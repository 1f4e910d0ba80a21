/**
 * The invalid-curve attack on ECDH-ES (Jager, Schwenk, Somorovsky 2015): an epk that is not a point of the
 * recipient key's curve (off the curve, on a weaker curve of the same field, of another curve, or an X25519
 * point of low order) makes the shared secret leak the private key a few bits at a time. Every such epk is
 * refused as `epk` before any key agreement, for both ECDH-ES algorithms.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  encryptJwt,
  generateEncryptionKey,
  JweInvalidError,
  type EncryptionKey,
  type KeyManagementAlgorithm,
} from '@tessera/core';

import { decrypterForAll, innerToken, parts } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const int32 = (n: bigint, bytes = 32): string => b64(Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex'));

/** A token made for `key` by Tessera, with its header's epk replaced (the rest of the header kept). */
function withEpk(key: EncryptionKey, epk: unknown): string {
  const [h, ek, iv, ct, tag] = parts(encryptJwt(innerToken(), key.publicKey()));
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  header.epk = epk;
  return [b64(Buffer.from(JSON.stringify(header))), ek, iv, ct, tag].join('.');
}

function refusedEpk(key: EncryptionKey, epk: unknown): void {
  rejects(() => decrypterForAll().decrypt(withEpk(key, epk), key), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'epk' });
}

describe('invalid curve: what node:crypto does on its own (checked again by Tessera before it is asked)', () => {
  it('createPublicKey refuses an off-curve P-256 point, and X25519 agreement with the zero point throws', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const y = Buffer.from(jwk.y!, 'base64url');
    y[31]! ^= 1;
    assert.throws(() => createPublicKey({ key: { ...jwk, y: b64(y) }, format: 'jwk' }));
    const zero = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(Buffer.alloc(32)) }, format: 'jwk' });
    const privateKey = generateKeyPairSync('x25519').privateKey;
    assert.throws(() => diffieHellman({ privateKey, publicKey: zero }));
  });
});

for (const alg of ['ECDH-ES+A256KW', 'ECDH-ES'] as KeyManagementAlgorithm[]) {
  describe(`invalid curve: ${alg}`, () => {
    const p256 = generateEncryptionKey(alg, { crv: 'P-256' });
    const x25519 = generateEncryptionKey(alg, { crv: 'X25519' });
    const good = p256.publicKey().toJwk();

    it("the token's own epk decrypts (the control)", () => {
      assert.ok(decrypterForAll().decrypt(encryptJwt(innerToken(), p256.publicKey()), p256).jws.length > 0);
    });

    it('a point off the curve (y changed by one bit) is refused', () => {
      const [h] = parts(encryptJwt(innerToken(), p256.publicKey()));
      const epk = (JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { epk: { x: string; y: string } }).epk;
      const y = Buffer.from(epk.y, 'base64url');
      y[31]! ^= 1;
      refusedEpk(p256, { ...epk, y: b64(y) });
    });

    it("a random (x, y), a point of another curve of the same field (y^2 = x^3 - 3x + b'), is refused", () => {
      for (let i = 0; i < 8; i++) refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: b64(randomBytes(32)), y: b64(randomBytes(32)) });
    });

    it('coordinates not below the field prime (x = p, y = p + 1 wrapped) are refused', () => {
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: int32(P256_P), y: good.y });
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: good.x, y: int32(2n ** 256n - 1n) });
    });

    it('the point at infinity, spelled as (0, 0), is refused', () => {
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: int32(0n), y: int32(0n) });
    });

    it('a P-384 point given to a P-256 key, as P-384 or claimed to be P-256, is refused', () => {
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
      refusedEpk(p256, p384);
      refusedEpk(p256, { ...p384, crv: 'P-256' });
    });

    it('an X25519 epk to a P-256 key and a P-256 epk to an X25519 key are refused', () => {
      refusedEpk(p256, x25519.publicKey().toJwk());
      refusedEpk(x25519, { kty: 'EC', crv: 'P-256', x: good.x, y: good.y });
    });

    it('an epk with other members (a private d, a kid, ...) or of the wrong shape is refused', () => {
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: good.x, y: good.y, d: b64(randomBytes(32)) });
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: good.x, y: good.y, kid: 'k' });
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: good.x });
      refusedEpk(p256, 'not a key');
      refusedEpk(p256, [good.x, good.y]);
      refusedEpk(p256, null);
      refusedEpk(p256, undefined); // no epk at all
      // A JWK nested one level deeper is past the header's depth limit, refused before the epk is read.
      rejects(() => decrypterForAll().decrypt(withEpk(p256, { jwk: good }), p256), JweInvalidError, {
        code: 'ERR_JWE_INVALID',
        reason: 'header',
      });
      refusedEpk(p256, { kty: 'EC', crv: 'P-256', x: `${good.x as string}=`, y: good.y });
    });

    it('X25519 points of low order (all-zero shared secret) are refused', () => {
      const lowOrder = [
        0n,
        1n,
        // Points of order 8 (Bernstein's list, little-endian u) and p - 1, p, p + 1 (u reduced mod p).
        0x00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n,
        0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5fn,
        2n ** 255n - 19n - 1n,
        2n ** 255n - 19n,
        2n ** 255n - 19n + 1n,
      ];
      for (const u of lowOrder) {
        const le = Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse();
        refusedEpk(x25519, { kty: 'OKP', crv: 'X25519', x: b64(le) });
      }
    });

    it('an X25519 epk of the wrong length is refused', () => {
      refusedEpk(x25519, { kty: 'OKP', crv: 'X25519', x: b64(randomBytes(31)) });
      refusedEpk(x25519, { kty: 'OKP', crv: 'X25519', x: b64(randomBytes(33)) });
    });
  });
}
