// The orders service's `GET /stock/:sku`: orders asks inventory over Connect, on the user's behalf. It
// exchanges the user's token (audience "orders") for one for audience "inventory" at the auth server, then
// calls inventory with it, so inventory sees the user as `sub` and orders as `act.sub`.
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { bearerToken } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { INVENTORY_AUDIENCE } from './inventory.js';
import { exchangeToken, TokenExchangeError } from './token-exchange.js';

/** Connect codes of inventory's answers, as the HTTP status orders answers with. */
const STATUS = { [Code.NotFound]: 404, [Code.Unauthenticated]: 502, [Code.PermissionDenied]: 502 };

/** The Fastify handler; the route must require a token (the tessera plugin has verified it already). */
export function stockHandler({ tokenEndpoint, clientId, clientSecret, inventoryUrl }) {
  const inventory = createClient(InventoryService, createConnectTransport({ baseUrl: inventoryUrl, httpVersion: '1.1' }));
  return async function stock(req, reply) {
    let token;
    try {
      token = await exchangeToken({
        tokenEndpoint,
        clientId,
        clientSecret,
        subjectToken: bearerToken(req.headers.authorization),
        audience: INVENTORY_AUDIENCE,
        scope: 'inventory:read',
      });
    } catch (err) {
      if (!(err instanceof TokenExchangeError)) throw err;
      req.log.warn({ err }, 'token exchange refused');
      // The user may no longer have inventory:read (roles change), or their session ended.
      return reply.code(err.error === 'invalid_grant' ? 401 : 403).send({ error: 'inventory_not_allowed' });
    }
    try {
      const answer = await inventory.getStock({ sku: req.params.sku }, { headers: { authorization: `Bearer ${token}` } });
      return {
        sku: answer.sku,
        quantity: answer.quantity,
        for: req.principal.sub,
        inventory: { sub: answer.sub, actor: answer.actor },
      };
    } catch (err) {
      const e = ConnectError.from(err);
      req.log.warn({ err: e }, 'inventory call failed');
      return reply.code(STATUS[e.code] ?? 502).send({ error: 'inventory_failed', code: Code[e.code] });
    }
  };
}
