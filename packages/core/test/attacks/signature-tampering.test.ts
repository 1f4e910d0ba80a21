/**
 * Signature tampering: a signature cut short, extended, moved to another token, or with one bit flipped
 * must never verify, and neither may a token whose signed content changed by one bit. For every
 * algorithm the auth server signs with.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, KeySet, SignatureInvalidError } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, segments, signatureOf, withSignature } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const BAD_SIGNATURE = { code: 'ERR_SIGNATURE_INVALID' };

/** The Ed25519 group order L. */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** True when `bytes` is still a JSON object with as many members as `original`: a change only the signature can catch. */
function isObjectWithSameMembers(bytes: Uint8Array, original: Uint8Array): boolean {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    const count = Object.keys(JSON.parse(Buffer.from(original).toString('utf8')) as object).length;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length === count;
  } catch {
    return false;
  }
}

function flipBit(bytes: Uint8Array, bit: number): Buffer {
  const out = Buffer.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const) {
  describe(`signature tampering, ${alg}`, () => {
    const key = generateKey(alg, { kid: `${alg}-key` });
    const other = generateKey(alg, { kid: `${alg}-key` });
    const verifier = accessVerifier([alg]);
    const tokenA = forge(headerFor(key), claims({ jti: 'a', sub: 'alice' }), key);
    const tokenB = forge(headerFor(key), claims({ jti: 'b', sub: 'mallory', scope: 'orders:admin' }), key);
    const sig = signatureOf(tokenA);

    const refuse = (token: string): void => {
      rejects(() => verifier.verifyAccessToken(token, key.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
      rejects(() => verifier.verifyAccessToken(token, new KeySet([key])), SignatureInvalidError, BAD_SIGNATURE);
    };

    it('the untouched tokens verify', () => {
      verifier.verifyAccessToken(tokenA, key.publicKey());
      verifier.verifyAccessToken(tokenB, key.publicKey());
    });

    it('an empty signature is refused', () => refuse(withSignature(tokenA, Buffer.alloc(0))));
    it('a signature with its last byte cut is refused', () => refuse(withSignature(tokenA, sig.subarray(0, -1))));
    it('a signature with its first byte cut is refused', () => refuse(withSignature(tokenA, sig.subarray(1))));
    it('a signature cut to half its length is refused', () => refuse(withSignature(tokenA, sig.subarray(0, sig.length >> 1))));
    it('a signature with a zero byte appended is refused', () =>
      refuse(withSignature(tokenA, Buffer.concat([sig, Buffer.alloc(1)]))));
    it('a signature with a zero byte prepended is refused', () =>
      refuse(withSignature(tokenA, Buffer.concat([Buffer.alloc(1), sig]))));
    it('a signature repeated twice is refused', () => refuse(withSignature(tokenA, Buffer.concat([sig, sig]))));
    it('a signature of all zero bytes is refused', () => refuse(withSignature(tokenA, Buffer.alloc(sig.length))));

    it("token A's signature on token B's header and payload is refused", () => {
      refuse(withSignature(tokenB, sig));
      refuse(withSignature(tokenA, signatureOf(tokenB)));
    });

    it("token A's header with token B's payload and signature is refused", () => {
      const [headerA] = segments(tokenA);
      const [, payloadB, sigB] = segments(tokenB);
      const otherHeader = forge(headerFor(key, { typ: 'application/at+jwt' }), claims(), key);
      refuse(`${segments(otherHeader)[0]}.${payloadB}.${sigB}`);
      refuse(`${headerA}.${segments(otherHeader)[1]}.${sigB}`);
    });

    it('a signature made by another key with the same kid is refused', () => {
      refuse(forge(headerFor(key), claims({ jti: 'a', sub: 'alice' }), other));
    });

    it('single-bit flips across the whole signature are refused', () => {
      // Every bit of the HMAC; every third (ECDSA, EdDSA) or seventh (RSA) bit of the slower signatures.
      const step = { HS256: 1, ES256: 3, EdDSA: 3, RS256: 7 }[alg];
      for (let bit = 0; bit < sig.length * 8; bit += step) refuse(withSignature(tokenA, flipBit(sig, bit)));
    });

    it('a one-bit change of the signed claims that leaves valid JSON is refused', () => {
      const [h, , s] = segments(tokenA);
      const payload = Buffer.from(JSON.stringify(claims({ jti: 'a', sub: 'alice' })));
      let changed = 0;
      for (let bit = 0; bit < payload.length * 8; bit += 8) {
        const flipped = flipBit(payload, bit);
        if (!isObjectWithSameMembers(flipped, payload)) continue;
        changed++;
        refuse(`${h}.${flipped.toString('base64url')}.${s}`);
      }
      assert.ok(changed > 50);
    });

    if (alg === 'EdDSA') {
      it('an Ed25519 signature with S + L (the same S modulo L) is refused', () => {
        const s = BigInt('0x' + Buffer.from(sig.subarray(32)).reverse().toString('hex'));
        const sPlusL = Buffer.from((s + ED25519_L).toString(16).padStart(64, '0'), 'hex').reverse();
        refuse(withSignature(tokenA, Buffer.concat([sig.subarray(0, 32), sPlusL])));
      });
    }
  });
}
