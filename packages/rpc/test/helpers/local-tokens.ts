import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createTokenInterceptor } from '@tessera/rpc';
import { createVerifier, type Verifier } from '@tessera/verifier';

import { InventoryService } from '../gen/inventory/v1/inventory_pb.js';
import type { Inventory } from './inventory.js';

/** Tokens signed in the test itself (no auth server), for the inventory service's audience. */
const ISSUER = 'https://auth.test';
const AUDIENCE = 'https://inventory.test';
const key = generateKey('ES256');

/** A Verifier of the local tokens. */
export function localVerifier(): Verifier {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: buildJwks([key]) });
}

/** A local token with these scopes, for `sub`, living `ttl` seconds. */
export function localToken(scope: string, sub = 'caller', ttl = 300): string {
  return signAccessToken({ iss: ISSUER, sub, aud: AUDIENCE, client_id: 'orders', scope, ttl }, key);
}

/** An inventory client over Connect (h2c) whose calls carry `token` through createTokenInterceptor. */
export function tokenClient(inv: Inventory, token: string): Client<typeof InventoryService> {
  return createClient(
    InventoryService,
    createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', interceptors: [createTokenInterceptor(() => token)] }),
  );
}
