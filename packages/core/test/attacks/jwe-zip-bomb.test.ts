/**
 * Zip bomb: `zip: "DEF"` asks the decrypter to inflate the content (RFC 7516 section 4.1.3); a few hundred
 * bytes of deflate inflate to megabytes (CVE-2024-28180 and others). Tessera never inflates: a token with
 * any `zip` header is refused as unsupported, even one whose tag verifies under the right key.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { deflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';

import { generateEncryptionKey, JweUnsupportedError } from '@tessera/core';

import { decrypterForAll, innerToken, sealRaw } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const dir = generateEncryptionKey('dir');
const cek = dir.keyObject.export();

describe('zip bomb', () => {
  it('a correctly encrypted and authenticated DEF-compressed bomb (1 MiB of zeros) is refused (zip)', () => {
    const bomb = deflateRawSync(Buffer.alloc(1 << 20));
    const token = sealRaw({ alg: 'dir', enc: 'A256GCM', cty: 'JWT', zip: 'DEF' }, bomb, cek);
    rejects(() => decrypterForAll().decrypt(token, dir), JweUnsupportedError, { code: 'ERR_JWE_UNSUPPORTED', parameter: 'zip' });
  });

  it('a compressed valid access token is refused too: zip is never taken, whatever it holds', () => {
    const token = sealRaw({ alg: 'dir', enc: 'A256GCM', cty: 'JWT', zip: 'DEF' }, deflateRawSync(innerToken()), cek);
    rejects(() => decrypterForAll().decrypt(token, dir), JweUnsupportedError, { code: 'ERR_JWE_UNSUPPORTED', parameter: 'zip' });
  });

  for (const zip of ['def', 'GZIP', '', null, 0]) {
    it(`zip ${JSON.stringify(zip)} is refused`, () => {
      const token = sealRaw({ alg: 'dir', enc: 'A256GCM', cty: 'JWT', zip }, innerToken(), cek);
      rejects(() => decrypterForAll().decrypt(token, dir), JweUnsupportedError, {
        code: 'ERR_JWE_UNSUPPORTED',
        parameter: 'zip',
      });
    });
  }

  it('the same token without zip decrypts (the control)', () => {
    const inner = innerToken();
    const token = sealRaw({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' }, inner, cek);
    assert.equal(decrypterForAll().decrypt(token, dir).jws, inner);
  });
});
