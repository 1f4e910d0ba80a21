/**
 * Truncated tag: AES-GCM in node:crypto accepts tags of 4 to 16 bytes unless told the length, and a 4-byte
 * tag is forged in about 2^32 tries. Tessera takes exactly 16 bytes (and a 12-byte IV): a token whose tag
 * is a prefix of the right tag, however long, is refused as `tag`; an IV of another length as `iv`.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import { encryptJwt, JweInvalidError } from '@tessera/core';

import { decrypterForAll, innerToken, parts, RECIPIENTS, recipientKey } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

describe('truncated tag', () => {
  for (const r of RECIPIENTS) {
    it(`${r.name}: the right tag cut to 0, 4, 8, 12, 15 bytes or extended to 17 is refused (tag)`, () => {
      const key = recipientKey(r);
      const [h, ek, iv, ct, tag] = parts(encryptJwt(innerToken(), key.publicKey()));
      const full = Buffer.from(tag, 'base64url');
      assert.equal(full.length, 16);
      for (const n of [0, 4, 8, 12, 15]) {
        const token = [h, ek, iv, ct, full.subarray(0, n).toString('base64url')].join('.');
        rejects(() => decrypterForAll().decrypt(token, key), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'tag' });
      }
      const longer = Buffer.concat([full, Buffer.alloc(1)]).toString('base64url');
      rejects(() => decrypterForAll().decrypt([h, ek, iv, ct, longer].join('.'), key), JweInvalidError, {
        code: 'ERR_JWE_INVALID',
        reason: 'tag',
      });
    });

    it(`${r.name}: an IV of 8, 16 or 0 bytes is refused (iv)`, () => {
      const key = recipientKey(r);
      const [h, ek, iv, ct, tag] = parts(encryptJwt(innerToken(), key.publicKey()));
      const right = Buffer.from(iv, 'base64url');
      for (const other of [right.subarray(0, 8), Buffer.concat([right, Buffer.alloc(4)]), Buffer.alloc(0)]) {
        const token = [h, ek, other.toString('base64url'), ct, tag].join('.');
        rejects(() => decrypterForAll().decrypt(token, key), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'iv' });
      }
    });
  }
});
