/**
 * Unsigned inner JWT: anyone can encrypt to a resource server's public key, so encryption proves nothing
 * about the sender. A token whose content is an `alg: none` JWT (or one signed with a key the verifier does
 * not trust, or whose signature was changed) decrypts, and is then refused by the strict verifier: an
 * encrypted token is accepted only when the JWS inside verifies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AlgorithmNotAllowedError,
  EncryptedAccessTokenVerifier,
  encryptJwt,
  generateKey,
  SignatureInvalidError,
  TokenTypeError,
} from '@tessera/core';
import { CompactEncrypt, importJWK, type JWK } from 'jose';

import { AUDIENCE, claims, forge, headerFor, ISSUER, now, segments, unsigned, withSignature } from '../helpers/forge.js';
import { innerToken, issuerKey, RECIPIENTS, recipientKey, sealRaw } from '../helpers/jwe.js';
import { rejects } from '../helpers/rejects.js';

const key = recipientKey(RECIPIENTS[0]!);
const dir = recipientKey(RECIPIENTS.find((r) => r.alg === 'dir')!);

function verifier(): EncryptedAccessTokenVerifier {
  return new EncryptedAccessTokenVerifier({
    decryption: { algorithms: ['ECDH-ES+A256KW', 'dir'], allowDir: true },
    verification: { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, now },
  });
}

async function joseEncrypt(content: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(content))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: key.kid })
    .encrypt(await importJWK(key.publicKey().toJwk() as unknown as JWK, 'ECDH-ES+A256KW'));
}

describe('unsigned inner JWT', () => {
  it('alg none inside (encrypted by jose): decrypts, then refused by the verifier (ERR_ALG_NOT_ALLOWED)', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const token = await joseEncrypt(unsigned({ alg, typ: 'at+jwt', kid: issuerKey.kid }, claims()));
      rejects(() => verifier().verifyAccessToken(token, key, issuerKey.publicKey()), AlgorithmNotAllowedError, {
        code: 'ERR_ALG_NOT_ALLOWED',
      });
    }
  });

  it('alg none inside a dir token sealed by hand: refused the same', () => {
    const token = sealRaw(
      { alg: 'dir', enc: 'A256GCM', cty: 'JWT' },
      unsigned({ alg: 'none', typ: 'at+jwt' }, claims()),
      dir.keyObject.export(),
    );
    rejects(() => verifier().verifyAccessToken(token, dir, issuerKey.publicKey()), AlgorithmNotAllowedError, {
      code: 'ERR_ALG_NOT_ALLOWED',
    });
  });

  it("the issuer's alg with the signature stripped or changed: refused (ERR_SIGNATURE_INVALID)", async () => {
    const inner = innerToken();
    const [h, p] = segments(inner);
    const stripped = await joseEncrypt(`${h}.${p}.`);
    rejects(() => verifier().verifyAccessToken(stripped, key, issuerKey.publicKey()), SignatureInvalidError, {
      code: 'ERR_SIGNATURE_INVALID',
    });
    const changed = await joseEncrypt(withSignature(inner, new Uint8Array(64).fill(1)));
    rejects(() => verifier().verifyAccessToken(changed, key, issuerKey.publicKey()), SignatureInvalidError, {
      code: 'ERR_SIGNATURE_INVALID',
    });
  });

  it("signed with an attacker's key under the issuer's kid: refused (ERR_SIGNATURE_INVALID)", async () => {
    const attacker = generateKey('ES256', { kid: issuerKey.kid });
    const token = encryptJwt(forge(headerFor(attacker), claims(), attacker), key.publicKey());
    rejects(() => verifier().verifyAccessToken(token, key, issuerKey.publicKey()), SignatureInvalidError, {
      code: 'ERR_SIGNATURE_INVALID',
    });
  });

  it('a signed token of another type (typ JWT, an ID token) inside: refused (ERR_TOKEN_TYPE)', () => {
    const token = encryptJwt(forge(headerFor(issuerKey, { typ: 'JWT' }), claims(), issuerKey), key.publicKey());
    rejects(() => verifier().verifyAccessToken(token, key, issuerKey.publicKey()), TokenTypeError, { code: 'ERR_TOKEN_TYPE' });
  });

  it('the properly signed token inside verifies (the control)', () => {
    const { claims: verified } = verifier().verifyAccessToken(
      encryptJwt(innerToken(), key.publicKey()),
      key,
      issuerKey.publicKey(),
    );
    assert.equal(verified.sub, 'alice');
  });
});
