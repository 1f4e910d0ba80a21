/**
 * The Fastify plugin fails closed whatever the order of registration: a route declared before the plugin, or
 * after an un-awaited register, is still authenticated (before its handler), with its own policy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

const issuer = new TestIssuer('EdDSA');
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['EdDSA'], jwks: issuer.jwks() });

async function statuses(app: FastifyInstance, token: string, calls: Record<string, string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, url] of Object.entries(calls)) {
    const bare = await app.inject({ method: 'POST', url, payload: { x: 1 } });
    const authed = await app.inject({ method: 'POST', url, payload: { x: 1 }, headers: { authorization: `Bearer ${token}` } });
    out[name] = bare.statusCode * 1000 + authed.statusCode;
  }
  return out;
}

function routes(app: FastifyInstance): void {
  app.post('/private', async (req) => ({ sub: req.principal?.sub }));
  app.post('/scoped', { config: { tessera: { scopes: ['orders:admin'] } } }, async () => ({ ok: true }));
  app.post('/public', { config: { tessera: { public: true } } }, async () => ({ ok: true }));
}

describe('fastify plugin: order of registration', () => {
  const token = issuer.token({ scope: 'orders:read' });
  // bare status * 1000 + status with a token lacking orders:admin
  const expected = { private: 401200, scoped: 401403, public: 200200, missing: 404404 };
  const calls = { private: '/private', scoped: '/scoped', public: '/public', missing: '/nowhere' };

  it('registered and awaited first (the documented way)', async () => {
    const app = Fastify({ logger: false });
    await app.register(tesseraFastify, { verifier });
    routes(app);
    assert.deepEqual(await statuses(app, token, calls), expected);
    await app.close();
  });

  it('routes declared before the plugin', async () => {
    const app = Fastify({ logger: false });
    routes(app);
    await app.register(tesseraFastify, { verifier });
    assert.deepEqual(await statuses(app, token, calls), expected);
    await app.close();
  });

  it('register not awaited', async () => {
    const app = Fastify({ logger: false });
    void app.register(tesseraFastify, { verifier });
    routes(app);
    assert.deepEqual(await statuses(app, token, calls), expected);
    await app.close();
  });
});
