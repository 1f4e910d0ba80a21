/**
 * RSA1_5 downgrade (Bleichenbacher's 1998 padding oracle, which RSAES-PKCS1-v1_5 invites): a token encrypted
 * with RSAES-PKCS1-v1_5 to the recipient's RSA-OAEP-256 key is refused as unsupported before any RSA
 * operation, and no decrypter, key or import can be made to take RSA1_5. Within RSA-OAEP-256 every failure
 * up to the tag (a garbage encrypted key, one of the wrong length, a key of the wrong size inside) is the same
 * refusal with the same message as a bad tag.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  ConfigError,
  encryptJwt,
  generateEncryptionKey,
  importEncryptionJwk,
  JweDecrypter,
  JweInvalidError,
  JweUnsupportedError,
  KeyInvalidError,
  type KeyManagementAlgorithm,
} from '@tessera/core';
import { CompactEncrypt, importJWK, type JWK } from 'jose';

import { innerToken, parts, sealRaw } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const rsa = generateEncryptionKey('RSA-OAEP-256');
const decrypter = new JweDecrypter({ algorithms: ['RSA-OAEP-256'] });
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

describe('RSA1_5 downgrade', () => {
  it("a token jose encrypts with RSA1_5 to the recipient's RSA key is refused as unsupported (alg)", async () => {
    const publicKey = await importJWK(rsa.publicKey().toJwk() as unknown as JWK, 'RSA1_5');
    const token = await new CompactEncrypt(new TextEncoder().encode(innerToken()))
      .setProtectedHeader({ alg: 'RSA1_5', enc: 'A256GCM', cty: 'JWT', kid: rsa.kid })
      .encrypt(publicKey);
    rejects(() => decrypter.decrypt(token, rsa), JweUnsupportedError, { code: 'ERR_JWE_UNSUPPORTED', parameter: 'alg' });
  });

  it('RSA1_5, RSA-OAEP (SHA-1) and other algorithms cannot be allowed, keyed or imported', () => {
    for (const alg of ['RSA1_5', 'RSA-OAEP', 'RSA-OAEP-384', 'A256KW', 'A256GCMKW', 'PBES2-HS256+A128KW', 'none']) {
      rejects(() => new JweDecrypter({ algorithms: [alg as KeyManagementAlgorithm] }), ConfigError, {
        code: 'ERR_CONFIG',
        option: 'algorithms',
      });
      rejects(() => importEncryptionJwk({ ...rsa.toJwk({ private: true }), alg }), KeyInvalidError, {
        code: 'ERR_KEY_INVALID',
        reason: 'alg',
      });
    }
  });

  it('every RSA-OAEP failure before the tag is the one refusal of a bad tag (no padding oracle)', () => {
    const good = encryptJwt(innerToken(), rsa.publicKey());
    const [h, ek, iv, ct, tag] = parts(good);
    const bytes = rsa.modulusBytes;
    const variants = {
      'random encrypted key': b64(randomBytes(bytes)),
      'encrypted key one byte short': b64(randomBytes(bytes - 1)),
      'encrypted key one byte long': b64(randomBytes(bytes + 1)),
      'empty encrypted key': '',
      'valid OAEP, a 16-byte key inside': b64(
        publicEncrypt(
          { key: rsa.publicKeyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          randomBytes(16),
        ),
      ),
      'valid OAEP, SHA-1 instead of SHA-256': b64(
        publicEncrypt({ key: rsa.publicKeyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, randomBytes(32)),
      ),
      'PKCS#1 v1.5 padding': b64(
        publicEncrypt({ key: rsa.publicKeyObject, padding: constants.RSA_PKCS1_PADDING }, randomBytes(32)),
      ),
    };
    const badTag = Buffer.from(tag, 'base64url');
    badTag[0]! ^= 1;
    const reference = rejects(() => decrypter.decrypt([h, ek, iv, ct, b64(badTag)].join('.'), rsa), JweInvalidError, {
      code: 'ERR_JWE_INVALID',
      reason: 'decryption',
    });
    for (const [name, encryptedKey] of Object.entries(variants)) {
      const e = rejects(() => decrypter.decrypt([h, encryptedKey, iv, ct, tag].join('.'), rsa), JweInvalidError, {
        code: 'ERR_JWE_INVALID',
        reason: 'decryption',
      });
      assert.equal(e.message, reference.message, name);
    }
    assert.ok(decrypter.decrypt(good, rsa).jws.length > 0);
  });

  it('an RSA1_5 header on a token sealed by hand is refused before the key is used', () => {
    const token = sealRaw(
      { alg: 'RSA1_5', enc: 'A256GCM', cty: 'JWT' },
      innerToken(),
      randomBytes(32),
      randomBytes(rsa.modulusBytes),
    );
    rejects(() => decrypter.decrypt(token, rsa), JweUnsupportedError, { code: 'ERR_JWE_UNSUPPORTED', parameter: 'alg' });
  });
});
