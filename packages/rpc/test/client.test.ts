/**
 * The client side against a real auth server: a ServiceTokenSource feeding createTokenInterceptor (Connect
 * and gRPC transports), @grpc/grpc-js call credentials, and authorizedFetch for plain HTTP; the cached token
 * reused by the next call; no call sent without a token.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { Code, createClient, type ConnectError } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { authorizedFetch, createTokenInterceptor, REFUSAL_HEADER } from '@tessera/rpc';
import { ServiceTokenSource } from '@tessera/verifier';
import { withAuth } from '@tessera/verifier/node';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { AUDIENCE, startAuthServer, startVerifier, type AuthServer, type Creds } from './helpers/auth-server.js';
import { grpcJsClient } from './helpers/callers.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

/** A ServiceTokenSource whose requests to the token endpoint are counted (the real fetch does them). */
function countingSource(auth: AuthServer, c: Creds, tokenEndpoint = auth.tokenEndpoint) {
  const counter = { requests: 0 };
  const source = new ServiceTokenSource({
    tokenEndpoint,
    clientId: c.id,
    clientSecret: c.secret,
    fetch: (input, init) => {
      counter.requests++;
      return fetch(input, init);
    },
  });
  return { source, counter };
}

describe('client interceptor and fetch wrapper', () => {
  let auth: AuthServer;
  let v: Awaited<ReturnType<typeof startVerifier>>;
  let inv: Inventory;
  let orders: Creds;

  before(async () => {
    auth = await startAuthServer();
    v = await startVerifier(auth);
    inv = await startInventory({ verifier: v.verifier, revocations: v.revocations, gate: true });
    orders = await auth.client('orders', ['inventory:read', 'inventory:write']);
  });
  after(async () => {
    await inv.close();
    v.close();
    await auth.close();
  });

  const watched = () => inv.seen.calls.slice();

  for (const [name, transport] of [
    [
      'Connect',
      (interceptors: ReturnType<typeof createTokenInterceptor>[]) =>
        createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', interceptors }),
    ],
    [
      'gRPC',
      (interceptors: ReturnType<typeof createTokenInterceptor>[]) => createGrpcTransport({ baseUrl: inv.h2, interceptors }),
    ],
  ] as const) {
    it(`${name}: a ServiceTokenSource token on every call; the second call reuses the cached token`, async () => {
      const { source, counter } = countingSource(auth, orders);
      const client = createClient(
        InventoryService,
        transport([createTokenInterceptor(source, { audience: AUDIENCE, scope: ['inventory:read'] })]),
      );
      const before = watched().length;
      const first = await client.getStock({ sku: 'sku-1' });
      const second = await client.getStock({ sku: 'sku-2' });
      assert.equal(first.caller, 'orders');
      assert.equal(second.caller, 'orders');
      assert.equal(counter.requests, 1, 'one token request for two calls');
      const calls = watched().slice(before);
      assert.equal(calls.length, 2);
      assert.equal(calls[0]!.tokenId, calls[1]!.tokenId, 'the same token');
    });
  }

  it('one token per audience and scope set: a write call gets its own', async () => {
    const { source, counter } = countingSource(auth, orders);
    const read = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(source, { audience: AUDIENCE, scope: 'inventory:read' })],
      }),
    );
    const write = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(source, { audience: AUDIENCE, scope: 'inventory:write' })],
      }),
    );
    await read.getStock({ sku: 'a' });
    assert.equal((await write.adjustStock({ sku: 'a', delta: 2 })).quantity, 44);
    await assert.rejects(
      read.adjustStock({ sku: 'a', delta: 1 }),
      (e: ConnectError) => e.code === Code.PermissionDenied && e.metadata.get(REFUSAL_HEADER) === 'insufficient_scope',
    );
    assert.equal(counter.requests, 2);
  });

  it('a function as the token provider', async () => {
    const token = await auth.token(orders, { scope: 'inventory:read' });
    const client = createClient(
      InventoryService,
      createConnectTransport({ baseUrl: inv.h1, httpVersion: '1.1', interceptors: [createTokenInterceptor(() => token)] }),
    );
    assert.equal((await client.getStock({ sku: 'x' })).caller, 'orders');
  });

  it('token endpoint unreachable: Unavailable, and no call is sent', async () => {
    const closed = await closedPort();
    const { source } = countingSource(auth, orders, `http://127.0.0.1:${closed}/oauth/token`);
    const client = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(source, { audience: AUDIENCE })],
      }),
    );
    const before = watched().length;
    await assert.rejects(
      client.getStock({ sku: 'x' }),
      (e: ConnectError) => e.code === Code.Unavailable && /no access token/.test(e.rawMessage),
    );
    assert.equal(watched().length, before);
  });

  it('credentials refused by the auth server: Unauthenticated, and no call is sent', async () => {
    const { source } = countingSource(auth, { id: orders.id, secret: 'not-the-secret' });
    const client = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(source, { audience: AUDIENCE })],
      }),
    );
    await assert.rejects(
      client.getStock({ sku: 'x' }),
      (e: ConnectError) => e.code === Code.Unauthenticated && /invalid_client/.test(e.rawMessage),
    );
  });

  it('@grpc/grpc-js: call credentials from a ServiceTokenSource', async () => {
    const { source, counter } = countingSource(auth, orders);
    const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
      source.getToken({ audience: AUDIENCE, scope: 'inventory:read' }).then(
        (token) => {
          const md = new grpc.Metadata();
          md.set('authorization', `Bearer ${token}`);
          callback(null, md);
        },
        (err: Error) => callback(err),
      );
    });
    const client = grpcJsClient(new URL(inv.h2).host);
    type WithOptions = (
      req: object,
      md: grpc.Metadata,
      options: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: { caller: string }) => void,
    ) => void;
    const getStock = client.GetStock.bind(client) as unknown as WithOptions;
    const call = () =>
      new Promise<{ caller: string }>((resolve, reject) =>
        getStock({ sku: 'x' }, new grpc.Metadata(), { credentials: callCredentials }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
    assert.equal((await call()).caller, 'orders');
    assert.equal((await call()).caller, 'orders');
    assert.equal(counter.requests, 1);
    const plain = await new Promise<grpc.ServiceError | null>((resolve) =>
      getStock({ sku: 'x' }, new grpc.Metadata(), {}, (err) => resolve(err)),
    );
    assert.equal(plain?.code, grpc.status.UNAUTHENTICATED, 'without the credentials');
    client.close();
  });

  describe('authorizedFetch', () => {
    let http: Server;
    let base: string;
    before(async () => {
      // A plain HTTP route of the same service, guarded by the verifier's node:http adapter.
      http = createServer(
        withAuth(
          v.verifier,
          (req, res, p) => void res.end(JSON.stringify({ sub: p.sub, scopes: p.scopes, trace: req.headers['x-trace'] })),
          { scopes: ['inventory:read'] },
        ),
      );
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => (http.closeAllConnections(), http.close(() => r()))));

    it('adds the bearer token to plain HTTP calls, one token for many calls', async () => {
      const { source, counter } = countingSource(auth, orders);
      const call = authorizedFetch(source, { audience: AUDIENCE, scope: ['inventory:read'] });
      for (let i = 0; i < 3; i++) {
        const res = await call(`${base}/stock`, { headers: { accept: 'application/json' } });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { sub: 'orders', scopes: ['inventory:read'] });
      }
      assert.equal(counter.requests, 1);
      assert.equal((await fetch(`${base}/stock`)).status, 401, 'and the route does refuse a call without it');
    });

    it('replaces an Authorization header the request had, and keeps the others (Request input)', async () => {
      const { source } = countingSource(auth, orders);
      const call = authorizedFetch(source, { audience: AUDIENCE, scope: 'inventory:read' });
      const res = await call(new Request(`${base}/stock`, { headers: { authorization: 'Bearer stale', 'x-trace': '1' } }));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { sub: 'orders', scopes: ['inventory:read'], trace: '1' });
    });

    it('calls a Connect method with plain fetch (Connect protocol, JSON)', async () => {
      const { source } = countingSource(auth, orders);
      const call = authorizedFetch(source, { audience: AUDIENCE, scope: 'inventory:read' });
      const res = await call(`${inv.h1}/inventory.v1.InventoryService/GetStock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'sku-9' }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { sku: 'sku-9', quantity: 42, caller: 'orders' });
    });
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
