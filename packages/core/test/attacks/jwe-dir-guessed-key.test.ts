/**
 * `alg: dir` with a guessed key: under `dir` the content key is the shared secret itself, so a decrypter that
 * takes `dir` without being told to lets anyone who can name a key try one. Tessera refuses `dir` unless the
 * decrypter is built with `allowDir: true`; with it, a token sealed under any other key (a guess, all zeros,
 * another recipient's secret, the recipient's public key bytes) fails at the tag, and a `dir` token never
 * reaches an asymmetric key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  ConfigError,
  encryptJwt,
  generateEncryptionKey,
  JweDecrypter,
  JweInvalidError,
  JweUnsupportedError,
  KeyNotFoundError,
} from '@tessera/core';

import { innerToken, sealRaw } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const dir = generateEncryptionKey('dir', { kid: 'shared' });
const ecdh = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'ec' });
const header = { alg: 'dir', enc: 'A256GCM', cty: 'JWT', kid: 'shared' };

describe('alg dir with a guessed key', () => {
  it('dir in the allowlist without allowDir is a configuration error', () => {
    rejects(() => new JweDecrypter({ algorithms: ['dir'] }), ConfigError, { code: 'ERR_CONFIG', option: 'algorithms' });
    rejects(() => new JweDecrypter({ algorithms: ['ECDH-ES+A256KW', 'dir'], allowDir: false }), ConfigError, {
      code: 'ERR_CONFIG',
      option: 'algorithms',
    });
  });

  it('a dir token is refused as unsupported by a decrypter not configured for dir, even under the right secret', () => {
    const token = encryptJwt(innerToken(), dir);
    const decrypter = new JweDecrypter({ algorithms: ['ECDH-ES+A256KW'], allowDir: true });
    rejects(() => decrypter.decrypt(token, [dir, ecdh]), JweUnsupportedError, { code: 'ERR_JWE_UNSUPPORTED', parameter: 'alg' });
  });

  it('with allowDir, a token sealed under a guessed secret fails at the tag', () => {
    const decrypter = new JweDecrypter({ algorithms: ['dir'], allowDir: true });
    const guesses = [randomBytes(32), Buffer.alloc(32), generateEncryptionKey('dir').keyObject.export(), Buffer.alloc(32, 0xff)];
    for (const guess of guesses) {
      rejects(() => decrypter.decrypt(sealRaw(header, innerToken(), guess), dir), JweInvalidError, {
        code: 'ERR_JWE_INVALID',
        reason: 'decryption',
      });
    }
    const inner = innerToken();
    assert.equal(decrypter.decrypt(sealRaw(header, inner, dir.keyObject.export()), dir).jws, inner);
  });

  it('a 128-bit guess under A128GCM is refused unless A128GCM is allowed, and fails at the tag when it is', () => {
    const token = sealRaw({ ...header, enc: 'A128GCM' }, innerToken(), randomBytes(16));
    rejects(() => new JweDecrypter({ algorithms: ['dir'], allowDir: true }).decrypt(token, dir), JweUnsupportedError, {
      code: 'ERR_JWE_UNSUPPORTED',
      parameter: 'enc',
    });
    const both = new JweDecrypter({ algorithms: ['dir'], allowDir: true, encryptions: ['A256GCM', 'A128GCM'] });
    rejects(() => both.decrypt(token, dir), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'decryption' });
  });

  it("a dir token naming an ECDH key's kid, or its public key bytes as the secret, finds no key", () => {
    const decrypter = new JweDecrypter({ algorithms: ['dir', 'ECDH-ES+A256KW'], allowDir: true });
    const spki = ecdh.publicKeyObject.export({ format: 'der', type: 'spki' }).subarray(-32);
    const token = sealRaw({ ...header, kid: 'ec' }, innerToken(), spki);
    rejects(() => decrypter.decrypt(token, [dir, ecdh]), KeyNotFoundError, { code: 'ERR_KEY_NOT_FOUND' });
  });

  it('a dir token with a non-empty encrypted key is refused', () => {
    const token = sealRaw(header, innerToken(), dir.keyObject.export(), randomBytes(40));
    rejects(() => new JweDecrypter({ algorithms: ['dir'], allowDir: true }).decrypt(token, dir), JweInvalidError, {
      code: 'ERR_JWE_INVALID',
      reason: 'header',
    });
  });
});
