// `npm start`: a local demo of what Tessera ships today. It runs
//   - a token issuer's JWKS endpoint (an ES256 key generated at start, published at /.well-known/jwks.json),
//   - an `orders` service (Fastify) that verifies bearer tokens locally with @tessera/verifier, fetching
//     the keys from that JWKS URL, with per-route scopes,
// and prints tokens and curl commands to try. The full auth server (login, client credentials, refresh
// tokens) replaces the demo issuer in a later release.
//   PORT=4000 npm start   (the JWKS on PORT, the orders service on PORT+1)
import { createServer } from 'node:http';

import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '127.0.0.1';
const issuer = `http://${host}:${port}`;
const key = generateKey('ES256');

const jwksServer = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' });
    res.end(JSON.stringify(buildJwks([key])));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
});
await new Promise((resolve) => jwksServer.listen(port, host, resolve));

const verifier = createVerifier({
  issuer,
  audience: 'orders',
  algorithms: ['ES256'],
  jwksUri: `${issuer}/.well-known/jwks.json`,
});
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
await app.register(tesseraFastify, { verifier, realm: 'orders' });
app.get('/healthz', { config: { tessera: { public: true } } }, async () => ({ ok: true }));
app.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({
  orders: [{ id: 1, item: 'tessera tiles', owner: req.principal.sub }],
}));
app.post('/orders', { config: { tessera: { scopes: ['orders:write'] } } }, async (req, reply) =>
  reply.code(201).send({ created: true, by: req.principal.sub }),
);
await app.listen({ port: port + 1, host });

const token = (scope) =>
  signAccessToken({ iss: issuer, sub: 'alice', aud: 'orders', client_id: 'quickstart', scope, ttl: 3600 }, key);
const reader = token('orders:read');
const writer = token('orders:read orders:write');
const orders = `http://${host}:${port + 1}/orders`;
console.log(`
Tessera quickstart
  JWKS:            ${issuer}/.well-known/jwks.json
  orders service:  ${orders}  (GET needs orders:read, POST needs orders:write)

Try:
  curl -i ${orders}                                          # 401, no token
  curl -i -H "Authorization: Bearer ${reader}" ${orders}
  curl -i -X POST -H "Authorization: Bearer ${reader}" ${orders}   # 403 insufficient_scope
  curl -i -X POST -H "Authorization: Bearer ${writer}" ${orders}

  npx tessera token decode <token>
  npx tessera token verify --jwks ${issuer}/.well-known/jwks.json --issuer ${issuer} --audience orders --alg ES256 <token>

Ctrl-C to stop.`);

const stop = async () => {
  verifier.close();
  await app.close();
  jwksServer.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
