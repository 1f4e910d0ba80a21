// One Fastify server for bench/http.mjs: `plain` (no auth), `shell` (no auth, an empty plugin registered the
// way `auth` registers Tessera's) or `auth` (behind the Tessera plugin, cache on).
// Prints `READY <port> <token>` on stdout once listening.
import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';
import fp from 'fastify-plugin';

const mode = process.argv[2] ?? 'plain';
const key = generateKey('ES256');
const token = signAccessToken(
  { iss: 'https://auth.bench', sub: 'alice', aud: 'orders', client_id: 'web', scope: 'orders:read', ttl: 3600 },
  key,
);
const app = Fastify({ logger: false });
if (mode === 'auth') {
  const verifier = createVerifier({
    issuer: 'https://auth.bench',
    audience: 'orders',
    algorithms: ['ES256'],
    jwks: buildJwks([key]),
  });
  await app.register(tesseraFastify, { verifier });
  app.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({ ok: true, sub: req.principal.sub }));
} else if (mode === 'shell') {
  // The same registration as `auth`, of a plugin that does nothing.
  await app.register(fp(async () => {}));
  app.get('/orders', async () => ({ ok: true, sub: 'alice' }));
} else {
  app.get('/orders', async () => ({ ok: true, sub: 'alice' }));
}
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`READY ${new URL(address).port} ${token}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
