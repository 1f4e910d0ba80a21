// One Connect-node server for bench/rpc.mjs, serving inventory.v1.InventoryService (the test service of
// @tessera/rpc) over h2c and HTTP/1.1:
//   plain  no auth
//   auth   createAuthInterceptor (verified-token cache on, the default)
//   gate   withAuthGate in front + createAuthInterceptor
// Prints `READY <h1 port> <h2 port> <token>` on stdout once listening.
import { createServer as createHttp1Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';

import { connectNodeAdapter } from '@connectrpc/connect-node';
import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createAuthInterceptor, definePolicy, principalKey, PUBLIC, withAuthGate } from '@tessera/rpc';
import { createVerifier } from '@tessera/verifier';

import { InventoryService } from '../packages/rpc/dist-test/gen/inventory/v1/inventory_pb.js';

const mode = process.argv[2] ?? 'plain';
const key = generateKey('ES256');
const token = signAccessToken(
  { iss: 'https://auth.bench', sub: 'orders', aud: 'inventory', client_id: 'orders', scope: 'inventory:read', ttl: 3600 },
  key,
);
const verifier = createVerifier({
  issuer: 'https://auth.bench',
  audience: 'inventory',
  algorithms: ['ES256'],
  jwks: buildJwks([key]),
});
const auth = {
  verifier,
  policy: definePolicy(InventoryService, {
    getStock: { scopes: ['inventory:read'] },
    watchStock: { scopes: ['inventory:read'] },
    adjustStock: { scopes: ['inventory:write'] },
    health: PUBLIC,
    deleteItem: { scopes: ['inventory:admin'] },
  }),
};
const routes = (router) =>
  router.service(InventoryService, {
    getStock: (req, ctx) => ({ sku: req.sku, quantity: 42, caller: ctx.values.get(principalKey)?.sub ?? 'orders' }),
    async *watchStock() {},
    adjustStock: (req) => ({ sku: req.sku, quantity: 42 + req.delta }),
    health: () => ({ status: 'ok' }),
    deleteItem: () => ({}),
  });
const adapter = connectNodeAdapter({ routes, interceptors: mode === 'plain' ? [] : [createAuthInterceptor(auth)] });
const handler = mode === 'gate' ? withAuthGate(adapter, auth) : adapter;

const h1 = createHttp1Server(handler);
const h2 = createHttp2Server(handler);
await Promise.all([new Promise((r) => h1.listen(0, '127.0.0.1', r)), new Promise((r) => h2.listen(0, '127.0.0.1', r))]);
console.log(`READY ${h1.address().port} ${h2.address().port} ${token}`);
process.on('SIGTERM', () => process.exit(0));
