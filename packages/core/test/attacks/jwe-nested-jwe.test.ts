/**
 * Nested JWE-in-JWE: an encrypted token whose content is another encrypted token (or any five-segment
 * text). A decrypter that recursed would let one token cost any number of decryptions and hide the JWS
 * behind layers; Tessera takes exactly one layer: the content must be a compact JWS (`nested-jwe`).
 */
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import { ConfigError, encryptJwt, JweInvalidError } from '@tessera/core';
import { CompactEncrypt, importJWK, type JWK } from 'jose';

import { decrypterForAll, innerToken, RECIPIENTS, recipientKey, sealRaw } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const key = recipientKey(RECIPIENTS[0]!);
const dir = recipientKey(RECIPIENTS.find((r) => r.alg === 'dir')!);

describe('nested JWE in JWE', () => {
  it('jose encrypting a Tessera-encrypted token again, cty JWT: refused (nested-jwe)', async () => {
    const inner = encryptJwt(innerToken(), key.publicKey());
    const outer = await new CompactEncrypt(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: key.kid })
      .encrypt(await importJWK(key.publicKey().toJwk() as unknown as JWK, 'ECDH-ES+A256KW'));
    rejects(() => decrypterForAll().decrypt(outer, key), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'nested-jwe' });
  });

  it('three layers deep: refused at the first layer', () => {
    let token = encryptJwt(innerToken(), dir);
    for (let i = 0; i < 2; i++) {
      token = sealRaw({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' }, token, dir.keyObject.export());
    }
    rejects(() => decrypterForAll().decrypt(token, dir), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'nested-jwe' });
  });

  it('encryptJwt refuses to encrypt an encrypted token', () => {
    const inner = encryptJwt(innerToken(), key.publicKey());
    rejects(() => encryptJwt(inner, key.publicKey()), ConfigError, { code: 'ERR_CONFIG', option: 'jws' });
  });

  it('other contents that are not a JWS: empty, JSON claims, two or four dots, non-ASCII', () => {
    for (const content of [
      '',
      '{"sub":"alice"}',
      'a.b',
      'a.b.c.d',
      'a.b.c.d.e.f',
      'aé.b.c',
      Buffer.from([0xff, 0x2e, 0x61, 0x2e, 0x62]),
    ]) {
      const token = sealRaw({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' }, content, dir.keyObject.export());
      rejects(() => decrypterForAll().decrypt(token, dir), JweInvalidError, { code: 'ERR_JWE_INVALID', reason: 'plaintext' });
    }
  });
});
