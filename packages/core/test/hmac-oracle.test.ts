/**
 * node:crypto's `createHmac` is the oracle here: for HS256, HS384 and HS512, secrets shorter than, as long
 * as and longer than the hash's block (a longer one is hashed first), and signing inputs of any length, the
 * MAC Tessera signs with is createHmac's, a token MACed by createHmac verifies, and one with any other MAC
 * (another spelling of the right one included) is refused.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { importSecret, JwsVerifier, SignatureInvalidError, signJwt, TokenMalformedError } from '@tessera/core';

import { forge, segments, withSignature, withTrailingBits } from './helpers/forge.js';
import { rejects } from './helpers/rejects.js';

const HASH = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;
const MIN = { HS256: 32, HS384: 48, HS512: 64 } as const;
type HmacAlg = keyof typeof HASH;
const ALGS = Object.keys(HASH) as HmacAlg[];

/** A claim set of any Unicode text (lone surrogates included), up to about 9 KiB once encoded. */
const claimSet = fc.record({ iss: fc.string(), n: fc.nat(), pad: fc.string({ unit: 'binary', maxLength: 3000 }) });

function oracle(alg: HmacAlg, secret: Uint8Array, signingInput: string): string {
  return createHmac(HASH[alg], secret).update(signingInput, 'latin1').digest('base64url');
}

describe('HMAC against createHmac', () => {
  for (const alg of ALGS) {
    it(`${alg}: signJwt's MAC is createHmac's, for secrets of ${MIN[alg]} to 300 bytes and any claim set`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: MIN[alg], maxLength: 300 }), claimSet, (secret, payload) => {
          const key = importSecret(secret, { alg });
          // Twice with one key: the second call reuses (or grows) the buffers the first one left.
          for (const p of [payload, { ...payload, pad: payload.pad.repeat(3) }]) {
            const [h, c, s] = segments(signJwt(p, key));
            assert.equal(s, oracle(alg, secret, `${h}.${c}`));
          }
        }),
        { numRuns: 150 },
      );
    });

    it(`${alg}: a token MACed by createHmac verifies, and a different MAC is refused as before`, () => {
      const verifier = new JwsVerifier({ algorithms: [alg], maxTokenLength: 1 << 20 });
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: MIN[alg], maxLength: 300 }),
          claimSet,
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (secret, payload, at, flip) => {
            const key = importSecret(secret, { alg });
            const token = forge({ alg, typ: 'JWT' }, payload, Buffer.from(secret), alg);
            assert.equal(verifier.verify(token, key).payload.toString('base64url'), segments(token)[1]);
            const mac = Buffer.from(segments(token)[2], 'base64url');
            mac[at % mac.length] = mac[at % mac.length]! ^ flip;
            rejects(() => verifier.verify(withSignature(token, mac), key), SignatureInvalidError, {
              code: 'ERR_SIGNATURE_INVALID',
            });
            // A MAC of the wrong length, and the right MAC spelled with trailing bits set.
            rejects(() => verifier.verify(withSignature(token, mac.subarray(1)), key), SignatureInvalidError, {
              code: 'ERR_SIGNATURE_INVALID',
            });
            const [h, c, s] = segments(token);
            if (s.length % 4 !== 0) {
              rejects(() => verifier.verify(`${h}.${c}.${withTrailingBits(s)}`, key), TokenMalformedError, {
                code: 'ERR_TOKEN_MALFORMED',
                reason: 'base64url',
              });
            }
            rejects(() => verifier.verify(`${h}.${c}.${s}=`, key), TokenMalformedError, {
              code: 'ERR_TOKEN_MALFORMED',
              reason: 'base64url',
            });
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it('secrets one byte either side of the block size, where RFC 2104 hashes a long key first', () => {
    for (const alg of ALGS) {
      const block = alg === 'HS256' ? 64 : 128;
      for (const size of [MIN[alg], block - 1, block, block + 1, 2 * block]) {
        const secret = Buffer.alloc(size, size);
        const [h, c, s] = segments(signJwt({ size }, importSecret(secret, { alg })));
        assert.equal(s, oracle(alg, secret, `${h}.${c}`), `${alg}, ${size}-byte secret`);
      }
    }
  });

  it('one secret under two algorithms keeps a MAC per algorithm', () => {
    const secret = Buffer.alloc(64, 7);
    const k256 = importSecret(secret, { alg: 'HS256' });
    const k512 = importSecret(secret, { alg: 'HS512' });
    for (const key of [k256, k512, k256]) {
      const [h, c, s] = segments(signJwt({ a: 1 }, key));
      assert.equal(s, oracle(key.alg as HmacAlg, secret, `${h}.${c}`));
    }
  });
});
