/**
 * Type tests for the public API, checked by tsc when the tests compile: each `@ts-expect-error` line must
 * fail to type-check, so a loosened type breaks the build.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createVerifier, type Principal } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';

import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

describe('public types', () => {
  it('request.principal is a typed Principal in Fastify routes, and route config is checked', async () => {
    const issuer = new TestIssuer('ES256');
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks() });
    const app = Fastify();
    await app.register(tesseraFastify, { verifier });
    app.get('/t', { config: { tessera: { scopes: ['orders:read'], mode: 'any' } } }, async (req) => {
      const p: Principal | null = req.principal;
      const sub: string | undefined = p?.sub;
      const scopes: readonly string[] | undefined = p?.scopes;
      void (() => {
        // @ts-expect-error scopes are read-only
        p?.scopes.push('admin');
      });
      return { sub, scopes };
    });
    // @ts-expect-error mode is 'all' or 'any'
    app.get('/u', { config: { tessera: { mode: 'some' } } }, async () => ({}));
    const res = await app.inject({ url: '/t', headers: { authorization: `Bearer ${issuer.token()}` } });
    assert.equal(res.json().sub, 'alice');
    await app.close();
  });

  it('createVerifier demands an algorithm allowlist of known algorithms', () => {
    const issuer = new TestIssuer('ES256');
    // @ts-expect-error algorithms is required
    assert.throws(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: issuer.jwks() }));
    // @ts-expect-error 'none' is not an Algorithm
    assert.throws(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['none'], jwks: issuer.jwks() }));
  });

  it('the Fastify entry has named exports only: no default export', async () => {
    const entry = await import('@tessera/verifier/fastify');
    assert.equal('default' in entry, false);
    assert.equal(typeof entry.tesseraFastify, 'function');
  });
});
