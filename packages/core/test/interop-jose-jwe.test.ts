/**
 * Encrypted access tokens against jose, both ways, for every supported key management algorithm, curve and
 * content encryption: jose's compactDecrypt and jwtDecrypt open what Tessera's encryptJwt makes (from the key's
 * exported JWK), and Tessera's JweDecrypter opens what jose's CompactEncrypt and EncryptJWT make.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { EncryptedAccessTokenVerifier, encryptJwt, importEncryptionJwk, type ContentEncryption } from '@tessera/core';
import { compactDecrypt, CompactEncrypt, EncryptJWT, importJWK, jwtDecrypt, jwtVerify, type JWK, type KeyLike } from 'jose';

import { AUDIENCE, ISSUER, now } from './helpers/forge.js';
import { decrypterForAll, innerToken, issuerKey, RECIPIENTS, recipientKey } from './helpers/jwe.js';

const ENCS: readonly ContentEncryption[] = ['A256GCM', 'A128GCM'];

async function joseKey(jwk: Record<string, unknown>, alg: string): Promise<KeyLike | Uint8Array> {
  return importJWK(jwk as unknown as JWK, alg);
}

describe('encrypted access tokens: Tessera to jose', () => {
  for (const r of RECIPIENTS) {
    for (const enc of ENCS) {
      // A dir key is one size: the 32-byte key generated for A256GCM cannot serve A128GCM.
      if (r.alg === 'dir' && enc === 'A128GCM') continue;
      it(`${r.name} ${enc}: jose's compactDecrypt and jwtDecrypt open Tessera's token; the JWS inside verifies`, async () => {
        const key = recipientKey(r);
        const inner = innerToken();
        const token = encryptJwt(inner, key.publicKey(), { enc });
        const privateJwk = key.toJwk({ private: true });
        const decryptKey = await joseKey(privateJwk, r.alg);
        const opts = { keyManagementAlgorithms: [r.alg], contentEncryptionAlgorithms: [enc] };
        const { plaintext, protectedHeader } = await compactDecrypt(token, decryptKey, opts);
        assert.equal(new TextDecoder().decode(plaintext), inner);
        assert.equal(protectedHeader.alg, r.alg);
        assert.equal(protectedHeader.enc, enc);
        assert.equal(protectedHeader.cty, 'JWT');
        assert.equal(protectedHeader.typ, 'at+jwt');
        assert.equal(protectedHeader.kid, key.kid);
        if (r.alg.startsWith('ECDH')) assert.equal((protectedHeader.epk as { crv: string }).crv, r.crv);
        // jwtDecrypt decrypts it too (a failed decryption is ERR_JWE_DECRYPTION_FAILED), then refuses the content
        // as a claims set: it is a JWS, a nested JWT, which jwtDecrypt leaves to the caller.
        await assert.rejects(jwtDecrypt(token, decryptKey, opts), { code: 'ERR_JWT_INVALID' });
        const { payload } = await jwtVerify(
          new TextDecoder().decode(plaintext),
          await importJWK(issuerKey.toJwk() as unknown as JWK, 'ES256'),
          {
            issuer: ISSUER,
            audience: AUDIENCE,
            typ: 'at+jwt',
            currentDate: new Date(now()),
          },
        );
        assert.equal(payload.sub, 'alice');
      });
    }
  }
});

describe('encrypted access tokens: jose to Tessera', () => {
  for (const r of RECIPIENTS) {
    for (const enc of ENCS) {
      if (r.alg === 'dir' && enc === 'A128GCM') continue;
      it(`${r.name} ${enc}: Tessera opens jose's CompactEncrypt (nested JWT) and verifies the token inside`, async () => {
        const key = recipientKey(r);
        const encryptTo = await joseKey(key.publicKey().toJwk({ private: r.alg === 'dir' }), r.alg);
        const inner = innerToken();
        const token = await new CompactEncrypt(new TextEncoder().encode(inner))
          .setProtectedHeader({ alg: r.alg, enc, cty: 'JWT', kid: key.kid })
          .encrypt(encryptTo);
        const opened = decrypterForAll().decrypt(token, [key]);
        assert.equal(opened.jws, inner);
        assert.equal(opened.key, key);
        const verifier = new EncryptedAccessTokenVerifier({
          decryption: { algorithms: [r.alg], encryptions: [enc], allowDir: r.alg === 'dir' },
          verification: { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, now },
        });
        const { claims, jweHeader, decryptionKey } = verifier.verifyAccessToken(token, key, issuerKey.publicKey());
        assert.equal(claims.sub, 'alice');
        assert.equal(jweHeader.alg, r.alg);
        assert.equal(decryptionKey.kid, key.kid);
      });

      it(`${r.name} ${enc}: jose's EncryptJWT (claims, no JWS inside) is refused: the content must be a signed JWT`, async () => {
        const key = recipientKey(r);
        const encryptTo = await joseKey(key.publicKey().toJwk({ private: r.alg === 'dir' }), r.alg);
        const token = await new EncryptJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice' })
          .setProtectedHeader({ alg: r.alg, enc, cty: 'JWT', typ: 'at+jwt' })
          .encrypt(encryptTo);
        assert.throws(() => decrypterForAll().decrypt(token, key), { code: 'ERR_JWE_INVALID', reason: 'plaintext' });
      });
    }
  }

  it("a key imported from jose's JWK decrypts jose's token (importEncryptionJwk)", async () => {
    const key = recipientKey(RECIPIENTS[0]!);
    const imported = importEncryptionJwk(key.toJwk({ private: true }));
    const token = await new CompactEncrypt(new TextEncoder().encode(innerToken()))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT' })
      .encrypt(await joseKey(key.toJwk(), 'ECDH-ES+A256KW'));
    assert.equal(decrypterForAll().decrypt(token, imported).key, imported);
  });
});
