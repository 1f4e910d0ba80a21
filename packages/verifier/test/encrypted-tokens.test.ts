/**
 * Encrypted access tokens (nested JWTs: signed by the issuer, then encrypted to this service) through the one
 * Verifier and every adapter: accepted with the claims inside, refused when encrypted to another key, when not
 * encrypted (unless allowed), or when the token inside is not validly signed. Tokens are encrypted by jose (the
 * oracle) as well as by Tessera's own encryptJwt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  ConfigError,
  encryptJwt,
  generateEncryptionKey,
  JweInvalidError,
  JweUnsupportedError,
  type EncryptionKey,
} from '@tessera/core';
import { createVerifier, type Verifier } from '@tessera/verifier';
import { CompactEncrypt, importJWK } from 'jose';

import { HOSTS, type Host } from './helpers/hosts.js';
import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

const issuer = new TestIssuer('ES256');
const serviceKey = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'orders-enc-1' });
const oldKey = generateEncryptionKey('RSA-OAEP-256', { kid: 'orders-enc-0' });
const otherService = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'orders-enc-1' });

const encrypted = (jws: string, to: EncryptionKey = serviceKey) => encryptJwt(jws, to.publicKey());

/** jose encrypts a signed token to the service's public key, as another issuer's library would. */
async function joseEncrypted(jws: string, alg: 'ECDH-ES+A256KW' | 'ECDH-ES' = 'ECDH-ES+A256KW'): Promise<string> {
  const to = alg === 'ECDH-ES' ? generateEncryptionKey('ECDH-ES', { kid: 'orders-enc-x25519', crv: 'X25519' }) : serviceKey;
  if (alg === 'ECDH-ES') extraKeys.push(to);
  const key = await importJWK(to.publicKey().toJwk() as never, alg);
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg, enc: 'A256GCM', cty: 'JWT', kid: to.kid })
    .encrypt(key);
}
const extraKeys: EncryptionKey[] = [];

/** An unsigned token (alg none) encrypted to the service key, as anyone holding its public key can make one. */
const unsignedInside = await (async () => {
  const unsigned = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${issuer.token().split('.')[1]}.`;
  return new CompactEncrypt(new TextEncoder().encode(unsigned))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: serviceKey.kid })
    .encrypt(await importJWK(serviceKey.publicKey().toJwk() as never, 'ECDH-ES+A256KW'));
})();

function verifier(extra: object = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256'],
    jwks: issuer.jwks(),
    decryptionKeys: [oldKey, serviceKey],
    ...extra,
  });
}

for (const { name, start } of HOSTS)
  describe(`encrypted access tokens (${name})`, () => {
    let host: Host;
    let plainHost: Host;
    before(async () => {
      host = await start(verifier());
      plainHost = await start(verifier({ decryption: { acceptUnencrypted: true } }));
    });
    after(async () => {
      await host.close();
      await plainHost.close();
    });

    it('accepts a token encrypted to the service, with the claims inside (twice: the second from the cache)', async () => {
      const token = encrypted(issuer.token({ sub: 'bob' }));
      for (let i = 0; i < 2; i++) {
        const r = await host.request('/orders', `Bearer ${token}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(JSON.parse(r.text).sub, 'bob');
      }
    });

    it('accepts one encrypted to an older key it still holds (rotation)', async () => {
      const r = await host.request('/orders', `Bearer ${encrypted(issuer.token(), oldKey)}`);
      assert.equal(r.status, 200, r.text);
    });

    it('refuses one encrypted to another service, a plain signed token, and one whose inner token is unsigned: 401 invalid_token', async () => {
      for (const token of [encrypted(issuer.token(), otherService), issuer.token(), unsignedInside]) {
        const r = await host.request('/orders', `Bearer ${token}`);
        assert.equal(r.status, 401, r.text);
        assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      }
    });

    it('with acceptUnencrypted, takes plain signed tokens as well as encrypted ones', async () => {
      assert.equal((await plainHost.request('/orders', `Bearer ${issuer.token()}`)).status, 200);
      assert.equal((await plainHost.request('/orders', `Bearer ${encrypted(issuer.token())}`)).status, 200);
    });

    it('accepts jose-encrypted tokens', async () => {
      const r = await host.request('/orders', `Bearer ${await joseEncrypted(issuer.token({ sub: 'carol' }))}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(JSON.parse(r.text).sub, 'carol');
    });
  });

describe('encrypted access tokens: the Verifier', () => {
  it('refuses the wrong key with one undecryptable reason, and a plain token as unsupported', async () => {
    const v = verifier();
    await assert.rejects(
      v.verify(encrypted(issuer.token(), otherService)),
      (e) => e instanceof JweInvalidError && e.reason === 'decryption',
    );
    await assert.rejects(v.verify(issuer.token()), (e) => e instanceof JweUnsupportedError);
    // Decrypted, then refused by the strict verifier: encryption is never a substitute for the signature.
    await assert.rejects(v.verify(unsignedInside), (e: Error) => {
      assert.ok(!(e instanceof JweInvalidError) && !(e instanceof JweUnsupportedError), e.message);
      assert.match((e as { code?: string }).code ?? '', /^ERR_(ALG|TOKEN)/);
      return true;
    });
  });

  it('decrypts X25519 ECDH-ES tokens from jose with a key given as a private JWK', async () => {
    const token = await joseEncrypted(issuer.token({ sub: 'dave' }), 'ECDH-ES');
    const v = verifier({ decryptionKeys: [serviceKey, extraKeys.at(-1)!.toJwk({ private: true })] });
    assert.equal((await v.verify(token)).sub, 'dave');
  });

  it('checks revocation of an encrypted token by the jti inside, cached or not', async () => {
    const revoked = new Set<string>();
    const v = verifier({ isRevoked: (p: { tokenId?: string }) => p.tokenId !== undefined && revoked.has(p.tokenId) });
    const token = encrypted(issuer.token({ jti: 'enc-jti-1' }));
    assert.equal((await v.verify(token)).tokenId, 'enc-jti-1');
    revoked.add('enc-jti-1');
    await assert.rejects(v.verify(token), { code: 'ERR_TOKEN_REVOKED' });
  });

  it('maxTokenLength caps the encrypted token as presented', async () => {
    const token = encrypted(issuer.token());
    assert.equal((await verifier({ maxTokenLength: token.length }).verify(token)).sub, 'alice');
    await assert.rejects(verifier({ maxTokenLength: token.length - 1 }).verify(token), { code: 'ERR_TOKEN_TOO_LARGE' });
  });

  it('refuses set-ups that could not decrypt or would decrypt with a public key', () => {
    assert.throws(() => verifier({ decryptionKeys: [serviceKey.publicKey()] }), ConfigError);
    assert.throws(() => verifier({ decryptionKeys: [] }), ConfigError);
    assert.throws(
      () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks(), decryption: {} }),
      ConfigError,
    );
    assert.throws(() => verifier({ decryptionKeys: [{ ...serviceKey.toJwk({ private: true }), alg: 'RSA1_5' }] }));
  });
});
