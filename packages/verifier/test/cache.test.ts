/** The verified-token cache: bounded, never outlives a token, and always consults revocation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TokenClaimError, TokenExpiredError } from '@tessera/core';
import { bearerToken, createVerifier, TokenMissingError, TokenRevokedError } from '@tessera/verifier';

import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

const issuer = new TestIssuer('EdDSA');

function verifierAt(clock: { t: number }, extra: object = {}) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['EdDSA'],
    jwks: issuer.jwks(),
    clockTolerance: 0,
    now: () => clock.t,
    ...extra,
  });
}

describe('verified-token cache', () => {
  it('a cached entry never outlives its token: after exp the token is refused', async () => {
    const clock = { t: Date.now() };
    const v = verifierAt(clock);
    const token = issuer.token({ ttl: 60 }, { now: () => clock.t });
    await v.verify(token);
    assert.equal(v.cacheSize, 1);
    clock.t += 59_000;
    await v.verify(token);
    clock.t += 2_000;
    await assert.rejects(v.verify(token), TokenExpiredError);
    assert.equal(v.cacheSize, 0);
  });

  it('a cached entry never outlives maxTokenAge: 10 minutes after issue a token is refused with maxTokenAge 60', async () => {
    const clock = { t: Date.now() };
    const v = verifierAt(clock, { maxTokenAge: 60 });
    const token = issuer.token({ ttl: 3600 }, { now: () => clock.t });
    await v.verify(token);
    assert.equal(v.authorizeCached(`Bearer ${token}`)?.sub, 'alice');
    clock.t += 60_000;
    await v.verify(token);
    clock.t += 540_000;
    // Both cache paths re-verify, and the full verification refuses the token as too old.
    assert.equal(v.authorizeCached(`Bearer ${token}`), undefined);
    await assert.rejects(
      v.verify(token),
      (e: unknown) => e instanceof TokenClaimError && e.claim === 'iat' && e.reason === 'too_old',
    );
    assert.equal(v.cacheSize, 0);
  });

  it('is bounded: the least recently used entry goes first', async () => {
    const v = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      jwks: issuer.jwks(),
      cache: { maxEntries: 3 },
    });
    const tokens = Array.from({ length: 5 }, (_, i) => issuer.token({ sub: `user-${i}` }));
    for (const t of tokens) await v.verify(t);
    assert.equal(v.cacheSize, 3);
  });

  it('the revocation hook is consulted on cache hits too', async () => {
    const revoked = new Set<string>();
    const v = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      jwks: issuer.jwks(),
      isRevoked: (p) => revoked.has(p.sub!),
    });
    const token = issuer.token({ sub: 'carol' });
    assert.equal((await v.verify(token)).sub, 'carol');
    revoked.add('carol');
    await assert.rejects(v.verify(token), TokenRevokedError);
  });

  it('invalidate() drops the matching entries', async () => {
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], jwks: issuer.jwks() });
    await v.verify(issuer.token({ sub: 'dave' }));
    await v.verify(issuer.token({ sub: 'erin' }));
    assert.equal(
      v.invalidate((p) => p.sub === 'dave'),
      1,
    );
    assert.equal(v.cacheSize, 1);
  });

  it('can be turned off', async () => {
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], jwks: issuer.jwks(), cache: false });
    await v.verify(issuer.token());
    assert.equal(v.cacheSize, 0);
  });

  it("a hit is the same token in full: a token that shares a cached one's signature but not its claims is verified, and refused", async () => {
    const v = verifierAt({ t: Date.now() });
    const token = issuer.token({ sub: 'alice', scope: 'orders:read' });
    await v.verify(token);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${signature}`;
    assert.equal(v.authorizeCached(`Bearer ${forged}`), undefined);
    await assert.rejects(v.verify(forged), { code: 'ERR_SIGNATURE_INVALID' });
    await assert.rejects(v.authorize(`Bearer ${forged}`), { code: 'ERR_SIGNATURE_INVALID' });
    // The genuine token is still a hit, in every header form the strict parse accepts.
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `Bearer   ${token}  `])
      assert.equal(v.authorizeCached(header)?.sub, 'alice', header);
  });

  it('a refused token is never cached', async () => {
    const v = createVerifier({ issuer: ISSUER, audience: 'billing', algorithms: ['EdDSA'], jwks: issuer.jwks() });
    await assert.rejects(v.verify(issuer.token()));
    assert.equal(v.cacheSize, 0);
  });
});

describe('principal', () => {
  it('carries sub, client, scopes, token id and expiry', async () => {
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], publicKey: issuer.key.toPem() });
    const p = await v.verify(issuer.token({ scope: 'orders:read orders:write', client_id: 'mobile', jti: 'j-1' }));
    assert.deepEqual(p.scopes, ['orders:read', 'orders:write']);
    assert.equal(p.clientId, 'mobile');
    assert.equal(p.tokenId, 'j-1');
    assert.equal(p.expiresAt, p.claims.exp);
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.scopes));
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header, any case, with surrounding spaces', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('BEARER  abc.def.ghi '), 'abc.def.ghi');
  });
  for (const [header, malformed] of [
    [undefined, false],
    ['', false],
    ['Basic Zm9vOmJhcg==', false],
    ['Bearer', true],
    ['Bearer a b', true],
    ['Bearer a,b', true],
    ['Bearer "abc"', true],
  ] as const) {
    it(`refuses ${JSON.stringify(header)} (${malformed ? 'invalid_request' : 'no credential'})`, () => {
      assert.throws(
        () => bearerToken(header),
        (e: unknown) => e instanceof TokenMissingError && e.malformed === malformed,
      );
    });
  }
});

describe('configuration', () => {
  it('needs exactly one key source and an algorithm allowlist', () => {
    assert.throws(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'] }), /exactly one/);
    assert.throws(
      () =>
        createVerifier({
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['EdDSA'],
          jwks: issuer.jwks(),
          jwksUri: 'https://x.test/jwks',
        }),
      /exactly one/,
    );
    assert.throws(
      () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: [], jwks: issuer.jwks() }),
      /algorithms/,
    );
    assert.throws(
      () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['none' as 'EdDSA'], jwks: issuer.jwks() }),
      /algorithms/,
    );
    assert.throws(
      () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], jwksUri: 'ftp://x.test/jwks' }),
      /jwksUri/,
    );
  });
  it('a secret needs exactly one HMAC algorithm', () => {
    assert.throws(
      () => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], secret: new Uint8Array(32) }),
      /secret/,
    );
  });
});
