// The `inventory` service: a Connect service (Connect, gRPC-Web over HTTP/1.1; curl speaks the Connect
// protocol's JSON) protected by @tessera/rpc. Tokens are verified for audience "inventory" against the auth
// server's JWKS, with a revocation list that follows the server's revocation feed.
import { createServer } from 'node:http';

import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { createAuthInterceptor, definePolicy, principal, PUBLIC, withAuthGate } from '@tessera/rpc';
import { createRevocationList, createVerifier } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';

export const INVENTORY_AUDIENCE = 'inventory';

/** Every method of the service, and who may call it (a method left out would be refused to everyone). */
export const policy = definePolicy(InventoryService, {
  getStock: { scopes: ['inventory:read'] },
  health: PUBLIC,
});

const stock = new Map([
  ['tile-blue', 42],
  ['tile-gold', 7],
]);

function routes(router) {
  router.service(InventoryService, {
    getStock(req, ctx) {
      const quantity = stock.get(req.sku);
      if (quantity === undefined) throw new ConnectError(`no item ${req.sku}`, Code.NotFound);
      const caller = principal(ctx);
      // `act` names whoever called on the subject's behalf (token exchange); absent for a direct call.
      const actor = typeof caller.claims.act?.sub === 'string' ? caller.claims.act.sub : '';
      return { sku: req.sku, quantity, sub: caller.sub ?? '', actor };
    },
    health() {
      return { status: 'ok' };
    },
  });
}

/**
 * Starts inventory on `host:port`. `revocationClient` is a client holding tessera:revocations for the audience
 * `<issuer>/revocations`: the service refuses every call until its revocation list is current.
 */
export async function startInventory({ issuer, host, port, revocationClient }) {
  const revocations = createRevocationList({
    issuer,
    clientId: revocationClient.clientId,
    clientSecret: revocationClient.clientSecret,
  });
  await revocations.ready(10_000);
  const verifier = createVerifier({
    issuer,
    audience: INVENTORY_AUDIENCE,
    algorithms: ['ES256'],
    jwksUri: `${issuer}/.well-known/jwks.json`,
    revocations,
  });
  const auth = { verifier, policy, revocations };
  const handler = connectNodeAdapter({ routes, interceptors: [createAuthInterceptor(auth)] });
  // The gate refuses a call on its headers, before its body is read; the interceptor sets the principal.
  const server = createServer(withAuthGate(handler, auth));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      verifier.close();
      revocations.close();
    },
  };
}
