/**
 * ECDSA "psychic signatures" (CVE-2022-21449) and out-of-range scalars: an ECDSA verifier must check
 * 1 <= r, s <= n-1 before anything else, or r = s = 0 verifies every message under every key. Tessera
 * checks the range itself, so the outcome does not depend on the crypto library.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, KeySet, SignatureInvalidError, type Algorithm } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, signatureOf, withSignature } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const BAD_SIGNATURE = { code: 'ERR_SIGNATURE_INVALID' };

/** Group orders of P-256, P-384 and P-521. */
const ORDER = {
  ES256: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  ES384: BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  ES512: BigInt(
    '0x01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
} as const;
const SIZE = { ES256: 32, ES384: 48, ES512: 66 } as const;

function scalar(alg: keyof typeof SIZE, v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(SIZE[alg] * 2, '0'), 'hex');
}
function toBigInt(bytes: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(bytes).toString('hex'));
}
function rs(alg: keyof typeof SIZE, r: bigint, s: bigint): Buffer {
  return Buffer.concat([scalar(alg, r), scalar(alg, s)]);
}

describe('ECDSA psychic signature, ES256', () => {
  const key = generateKey('ES256', { kid: 'ec' });
  const verifier = accessVerifier(['ES256']);
  const token = forge(headerFor(key), claims(), key);
  const sig = signatureOf(token);
  const r = toBigInt(sig.subarray(0, 32));
  const s = toBigInt(sig.subarray(32));
  const n = ORDER.ES256;

  it('the untouched token verifies', () => {
    verifier.verifyAccessToken(token, key.publicKey());
  });

  const cases: Record<string, Buffer> = {
    'r = s = 0 (64 zero bytes)': Buffer.alloc(64),
    'r = 0, real s': rs('ES256', 0n, s),
    'real r, s = 0': rs('ES256', r, 0n),
    'r = s = n': rs('ES256', n, n),
    'r = n, real s': rs('ES256', n, s),
    'real r, s = n': rs('ES256', r, n),
    'r = n + 1, real s': rs('ES256', n + 1n, s),
    'real r, s = n + 1': rs('ES256', r, n + 1n),
    'r = s = 2^256 - 1': Buffer.alloc(64, 0xff),
    'r = s = n - 1': rs('ES256', n - 1n, n - 1n),
    'r = n - 1, real s': rs('ES256', n - 1n, s),
    'r = s = 1': rs('ES256', 1n, 1n),
    'r and s swapped': rs('ES256', s, r),
  };
  if (r + n < 2n ** 256n) cases['r + n, real s (equal to r modulo n)'] = rs('ES256', r + n, s);
  if (s + n < 2n ** 256n) cases['real r, s + n (equal to s modulo n)'] = rs('ES256', r, s + n);

  for (const [what, forged] of Object.entries(cases)) {
    it(`${what} is refused`, () => {
      const t = withSignature(token, forged);
      rejects(() => verifier.verifyAccessToken(t, key.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
      rejects(() => verifier.verifyAccessToken(t, new KeySet([key])), SignatureInvalidError, BAD_SIGNATURE);
    });
  }

  it('r = s = 0 is refused on any message, under any key', () => {
    for (let i = 0; i < 20; i++) {
      const other = generateKey('ES256');
      const t = withSignature(forge(headerFor(other), claims({ jti: `jti-${i}` }), other), Buffer.alloc(64));
      rejects(() => verifier.verifyAccessToken(t, other.publicKey()), SignatureInvalidError, BAD_SIGNATURE);
    }
  });

  it('(r, n - s), the other valid signature of the same message, verifies: identify tokens by jti, never by their text', () => {
    const twin = withSignature(token, rs('ES256', r, n - s));
    assert.notEqual(twin, token);
    assert.equal(verifier.verifyAccessToken(twin, key.publicKey()).claims.jti, 'jti-1');
  });
});

for (const alg of ['ES384', 'ES512'] as const satisfies readonly Algorithm[]) {
  describe(`ECDSA psychic signature, ${alg}`, () => {
    const key = generateKey(alg);
    const verifier = accessVerifier([alg]);
    const token = forge(headerFor(key), claims(), key);
    const n = ORDER[alg];

    it('the untouched token verifies', () => {
      verifier.verifyAccessToken(token, key.publicKey());
    });

    for (const [what, forged] of Object.entries({
      'r = s = 0': Buffer.alloc(2 * SIZE[alg]),
      'r = s = n': rs(alg, n, n),
      'r = s = n + 1': rs(alg, n + 1n, n + 1n),
    })) {
      it(`${what} is refused`, () => {
        rejects(
          () => verifier.verifyAccessToken(withSignature(token, forged), key.publicKey()),
          SignatureInvalidError,
          BAD_SIGNATURE,
        );
      });
    }
  });
}
