/**
 * Segment tampering of a valid encrypted token: ciphertext and tag swapped, the ciphertext of another token
 * under the same key spliced in, bits flipped in the ciphertext, IV, tag or header (the header is the AAD),
 * the encrypted key of another token. Each is refused, for every supported algorithm; none decrypts.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import { encryptJwt, JweInvalidError, KeyNotFoundError } from '@tessera/core';

import { decrypterForAll, innerToken, parts, RECIPIENTS, recipientKey } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

function flip(segment: string, at = 0): string {
  const b = Buffer.from(segment, 'base64url');
  b[at]! ^= 0x01;
  return b.toString('base64url');
}

for (const r of RECIPIENTS) {
  describe(`swapped ciphertext and tag: ${r.name}`, () => {
    const key = recipientKey(r);
    const decrypt = (token: string): string => decrypterForAll().decrypt(token, key).jws;
    const fail = (token: string, reason: string): void => {
      rejects(() => decrypt(token), JweInvalidError, { code: 'ERR_JWE_INVALID', reason });
    };
    const innerA = innerToken();
    const a = parts(encryptJwt(innerA, key.publicKey()));
    const b = parts(encryptJwt(innerToken(), key.publicKey()));

    it('ciphertext and tag swapped: the tag is not 16 bytes', () => {
      fail([a[0], a[1], a[2], a[4], a[3]].join('.'), 'tag');
    });

    it("another token's ciphertext, or its ciphertext and tag, under this token's header and key", () => {
      fail([a[0], a[1], a[2], b[3], a[4]].join('.'), 'decryption');
      fail([a[0], a[1], a[2], b[3], b[4]].join('.'), 'decryption');
    });

    it("another token's encrypted key (or IV) with this token's content", () => {
      if (r.alg !== 'dir' && r.alg !== 'ECDH-ES') fail([a[0], b[1], a[2], a[3], a[4]].join('.'), 'decryption');
      fail([a[0], a[1], b[2], a[3], a[4]].join('.'), 'decryption');
    });

    it('one bit flipped in the ciphertext, the IV or the tag', () => {
      fail([a[0], a[1], a[2], flip(a[3]), a[4]].join('.'), 'decryption');
      fail([a[0], a[1], a[2], flip(a[3], 100), a[4]].join('.'), 'decryption');
      fail([a[0], a[1], flip(a[2]), a[3], a[4]].join('.'), 'decryption');
      fail([a[0], a[1], a[2], a[3], flip(a[4], 15)].join('.'), 'decryption');
    });

    it('a header changed (the AAD): a member added, the members reordered, another kid', () => {
      const header = JSON.parse(Buffer.from(a[0], 'base64url').toString('utf8')) as Record<string, unknown>;
      const added = Buffer.from(JSON.stringify({ ...header, x: 1 })).toString('base64url');
      fail([added, a[1], a[2], a[3], a[4]].join('.'), 'decryption');
      const reordered = Buffer.from(JSON.stringify({ kid: header.kid, ...header })).toString('base64url');
      if (reordered !== a[0]) fail([reordered, a[1], a[2], a[3], a[4]].join('.'), 'decryption');
      const otherKid = Buffer.from(JSON.stringify({ ...header, kid: 'someone-else' })).toString('base64url');
      rejects(() => decrypt([otherKid, a[1], a[2], a[3], a[4]].join('.')), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
    });

    it('the untouched token decrypts (the control)', () => {
      assert.equal(decrypt(a.join('.')), innerA);
    });
  });
}
