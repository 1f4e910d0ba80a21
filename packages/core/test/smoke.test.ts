import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AccessTokenVerifier, generateKey, signAccessToken, TokenExpiredError } from '@tessera/core';

describe('sign and verify round trip', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256', 'HS256'] as const) {
    it(`${alg}: a signed access token verifies and its claims come back`, () => {
      const key = generateKey(alg);
      const token = signAccessToken(
        { iss: 'https://issuer', sub: 'alice', aud: 'orders', client_id: 'web', scope: 'orders:read', ttl: 60 },
        key,
      );
      const v = new AccessTokenVerifier({ algorithms: [alg], issuer: 'https://issuer', audience: 'orders' });
      const { claims, header } = v.verifyAccessToken(token, key.publicKey());
      assert.equal(header.typ, 'at+jwt');
      assert.equal(header.kid, key.kid);
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.scope, 'orders:read');
      assert.equal(claims.exp - claims.iat!, 60);
      const later = new AccessTokenVerifier({
        algorithms: [alg],
        issuer: 'https://issuer',
        audience: 'orders',
        now: () => Date.now() + 120_000,
      });
      assert.throws(() => later.verifyAccessToken(token, key), TokenExpiredError);
    });
  }
});

describe('extra claims', () => {
  it('a claim named __proto__ is carried as a claim, not as a prototype', () => {
    const key = generateKey('HS256');
    const token = signAccessToken(
      {
        iss: 'https://issuer',
        sub: 'alice',
        aud: 'orders',
        client_id: 'web',
        ttl: 60,
        claims: JSON.parse('{"__proto__": {"admin": true}, "tenant": "t1"}'),
      },
      key,
    );
    const { claims } = new AccessTokenVerifier({
      algorithms: ['HS256'],
      issuer: 'https://issuer',
      audience: 'orders',
    }).verifyAccessToken(token, key);
    assert.equal(claims.tenant, 't1');
    assert.deepEqual(Object.getOwnPropertyDescriptor(claims, '__proto__')?.value, { admin: true });
    assert.equal((claims as Record<string, unknown>).admin, undefined);
    assert.equal(Object.getPrototypeOf(claims), Object.prototype);
  });
});
