import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';
const mode = process.argv[2];
const key = generateKey('ES256');
const token = signAccessToken({ iss: 'https://auth.bench', sub: 'alice', aud: 'orders', client_id: 'web', scope: 'orders:read', ttl: 3600 }, key);
const app = Fastify({ logger: false });
const verifier = createVerifier({ issuer: 'https://auth.bench', audience: 'orders', algorithms: ['ES256'], jwks: buildJwks([key]) });
if (mode === 'auth') {
  await app.register(tesseraFastify, { verifier });
  app.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({ ok: true, sub: req.principal.sub }));
} else if (mode === 'noophook') {
  app.get('/orders', { onRequest: (req, reply, done) => done() }, async () => ({ ok: true, sub: 'alice' }));
} else if (mode === 'cachedinhook') {
  app.decorateRequest('principal', null);
  app.get('/orders', { onRequest: (req, reply, done) => { req.principal = verifier.authorizeCached(req.headers.authorization, { scopes: ['orders:read'] }) ?? null; done(); } }, async (req) => ({ ok: true, sub: req.principal?.sub }));
} else if (mode === 'decorate') {
  app.decorateRequest('principal', null);
  app.get('/orders', { onRequest: (req, reply, done) => done() }, async () => ({ ok: true, sub: 'alice' }));
} else if (mode === 'hooknodecorate') {
  app.get('/orders', { onRequest: (req, reply, done) => { req.headers.authorization.length; verifier.authorizeCached(req.headers.authorization, { scopes: ['orders:read'] }); done(); } }, async (req) => ({ ok: true, sub: 'x' }));
} else if (mode === 'inhandler') {
  app.get('/orders', async (req) => { const p = verifier.authorizeCached(req.headers.authorization, { scopes: ['orders:read'] }); return { ok: true, sub: p?.sub }; });
} else {
  app.get('/orders', async () => ({ ok: true, sub: 'alice' }));
}
await verifier.authorize(`Bearer ${token}`);
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`READY ${new URL(address).port} ${token}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
