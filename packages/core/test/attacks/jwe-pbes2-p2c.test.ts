/**
 * PBES2 with an enormous iteration count (p2c of 10^9: a decrypter that honours it spends hours in PBKDF2
 * per token, CVE-2022-36083 and others). PBES2 is never a supported algorithm: the header is refused as
 * unsupported before p2c is read, so the refusal costs what any header check costs (a decrypter that ran
 * the iterations would time this test out).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { ConfigError, JweDecrypter, JweInvalidError, JweUnsupportedError, type KeyManagementAlgorithm } from '@tessera/core';

import { decrypterForAll, innerToken, RECIPIENTS, recipientKey, sealRaw } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

describe('PBES2 p2c of 10^9', () => {
  for (const alg of ['PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW']) {
    it(`${alg} with p2c 1000000000 is refused as unsupported, whatever the keys`, () => {
      const token = sealRaw(
        { alg, enc: 'A256GCM', cty: 'JWT', p2c: 1_000_000_000, p2s: b64(randomBytes(16)) },
        innerToken(),
        randomBytes(32),
        randomBytes(40),
      );
      const keys = RECIPIENTS.map(recipientKey);
      rejects(() => decrypterForAll().decrypt(token, keys), JweUnsupportedError, {
        code: 'ERR_JWE_UNSUPPORTED',
        parameter: 'alg',
      });
    });

    it(`${alg} cannot be put in a decrypter's allowlist`, () => {
      rejects(() => new JweDecrypter({ algorithms: [alg as KeyManagementAlgorithm] }), ConfigError, {
        code: 'ERR_CONFIG',
        option: 'algorithms',
      });
    });
  }

  it('a p2c on a supported algorithm is refused as a parameter of another algorithm', () => {
    const key = recipientKey(RECIPIENTS[0]!);
    const token = sealRaw(
      { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', p2c: 1_000_000_000, p2s: b64(randomBytes(16)) },
      innerToken(),
      randomBytes(32),
      randomBytes(40),
    );
    rejects(() => decrypterForAll().decrypt(token, key), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'header' });
  });
});
