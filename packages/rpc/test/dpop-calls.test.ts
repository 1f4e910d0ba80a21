/**
 * DPoP-bound tokens (RFC 9449) over Connect and gRPC against a real auth server: a ServiceTokenSource with a DPoP key
 * feeding createTokenInterceptor, the service's interceptor (with and without withAuthGate) checking each call's
 * proof for the method's URL. The rightful holder is accepted (unary and a server stream); the token copied to a
 * client without the key is refused, as are a proof for another method and a proof sent twice; with server nonces,
 * the client retries once with the nonce it is given; authorizedFetch proves plain HTTP calls.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { authorizedFetch, createTokenInterceptor, DPOP_NONCE_HEADER, REFUSAL_HEADER, type RefusalEvent } from '@tessera/rpc';
import { createDpopProof, DpopKey, ServiceTokenSource } from '@tessera/verifier';
import { withAuth } from '@tessera/verifier/node';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { AUDIENCE, startAuthServer, startVerifier, type AuthServer, type Creds } from './helpers/auth-server.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

const boundSource = (auth: AuthServer, c: Creds, dpopKey: DpopKey) =>
  new ServiceTokenSource({ tokenEndpoint: auth.tokenEndpoint, clientId: c.id, clientSecret: c.secret, dpopKey });

/** The refusal of `call`, which must fail. */
async function refusal(call: Promise<unknown>): Promise<{ code: Code; reason: string | null }> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ConnectError, String(err));
    return { code: err.code, reason: err.metadata.get(REFUSAL_HEADER) };
  }
  assert.fail('the call was accepted');
}

/** An interceptor sending `authorization` and, when given, the proof `proof(url)` makes for the call's URL. */
function handMade(authorization: string, proof?: (url: string) => string): Interceptor {
  return (next) => (req) => {
    req.header.set('authorization', authorization);
    if (proof) req.header.set('dpop', proof(req.url));
    return next(req);
  };
}

for (const gate of [true, false]) {
  describe(`DPoP-bound tokens at the service (${gate ? 'with' : 'without'} withAuthGate)`, () => {
    let auth: AuthServer;
    let v: Awaited<ReturnType<typeof startVerifier>>;
    let inv: Inventory;
    let orders: Creds;
    const refusals: RefusalEvent[] = [];

    before(async () => {
      auth = await startAuthServer();
      v = await startVerifier(auth);
      inv = await startInventory({ verifier: v.verifier, revocations: v.revocations, gate, onRefusal: (e) => refusals.push(e) });
      orders = await auth.client('orders', ['inventory:read', 'inventory:write']);
    });
    after(async () => {
      await inv.close();
      v.close();
      await auth.close();
    });

    const transports = (interceptors: Interceptor[]): [string, Transport][] => [
      ['Connect', createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', interceptors })],
      ['gRPC', createGrpcTransport({ baseUrl: inv.h2, interceptors })],
      ['Connect HTTP/1.1', createConnectTransport({ baseUrl: inv.h1, httpVersion: '1.1', interceptors })],
    ];

    it('the holder of the key: unary calls and a server stream accepted, each with a proof of its own', async () => {
      const key = DpopKey.generate();
      const source = boundSource(auth, orders, key);
      for (const [name, transport] of transports([createTokenInterceptor(source, { audience: AUDIENCE })])) {
        const client = createClient(InventoryService, transport);
        const before = inv.seen.calls.length;
        assert.equal((await client.getStock({ sku: 'a' })).caller, 'orders', name);
        assert.equal((await client.adjustStock({ sku: 'a', delta: 1 })).caller, 'orders', name);
        for await (const event of client.watchStock({ sku: 'a', intervalMs: 10 })) {
          assert.equal(event.sku, 'a', name);
          break;
        }
        assert.deepEqual(
          inv.seen.calls.slice(before).map((c) => c.method),
          ['getStock', 'adjustStock', 'watchStock'],
          name,
        );
      }
    });

    it('the token copied to a client without the key is refused: as Bearer, as DPoP without a proof, with a thief key', async () => {
      const token = await boundSource(auth, orders, DpopKey.generate()).getToken({ audience: AUDIENCE });
      const thief = DpopKey.generate();
      const cases: [string, Interceptor, string][] = [
        ['as Bearer', createTokenInterceptor(() => token), 'token_invalid'],
        ['DPoP without a proof', handMade(`DPoP ${token}`), 'dpop_invalid'],
        ["a proof by the thief's key", createTokenInterceptor(() => token, { dpopKey: thief }), 'dpop_invalid'],
      ];
      for (const [name, interceptor, reason] of cases)
        for (const [transportName, transport] of transports([interceptor])) {
          const client = createClient(InventoryService, transport);
          const before = inv.seen.calls.length;
          assert.deepEqual(
            await refusal(client.getStock({ sku: 'a' })),
            { code: Code.Unauthenticated, reason },
            `${name} (${transportName})`,
          );
          const stream = client.watchStock({ sku: 'a' });
          assert.deepEqual(
            await refusal(stream[Symbol.asyncIterator]().next()),
            { code: Code.Unauthenticated, reason },
            `${name}, a stream (${transportName})`,
          );
          assert.equal(inv.seen.calls.length, before, 'no handler ran');
        }
    });

    it('a proof for another method, or the same proof sent twice, is refused', async () => {
      const key = DpopKey.generate();
      const token = await boundSource(auth, orders, key).getToken({ audience: AUDIENCE });
      const proof = (url: string) => createDpopProof({ key, method: 'POST', url, accessToken: token });
      const forGetStock = handMade(`DPoP ${token}`, (url) => proof(url.replace(/AdjustStock$/, 'GetStock')));
      const client = createClient(
        InventoryService,
        createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', interceptors: [forGetStock] }),
      );
      assert.equal((await client.getStock({ sku: 'a' })).caller, 'orders', 'the proof for GetStock does for GetStock');
      assert.deepEqual(await refusal(client.adjustStock({ sku: 'a', delta: 1 })), {
        code: Code.Unauthenticated,
        reason: 'dpop_invalid',
      });
      const once = proof(`${inv.h2}/inventory.v1.InventoryService/GetStock`);
      const replaying = createClient(
        InventoryService,
        createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', interceptors: [handMade(`DPoP ${token}`, () => once)] }),
      );
      assert.equal((await replaying.getStock({ sku: 'a' })).caller, 'orders');
      assert.deepEqual(await refusal(replaying.getStock({ sku: 'a' })), { code: Code.Unauthenticated, reason: 'dpop_invalid' });
      assert.ok(refusals.some((e) => e.reason === 'dpop_invalid' && e.path === 'inventory.v1.InventoryService/AdjustStock'));
    });

    it('a key other than the source one is refused when the interceptor is made', () => {
      const source = boundSource(auth, orders, DpopKey.generate());
      assert.throws(() => createTokenInterceptor(source, { dpopKey: DpopKey.generate() }), /not the key/);
    });
  });
}

describe("DPoP behind a proxy: the verifier's externalOrigin", () => {
  let auth: AuthServer;
  let v: Awaited<ReturnType<typeof startVerifier>>;
  let inv: Inventory;
  let orders: Creds;
  before(async () => {
    auth = await startAuthServer();
    v = await startVerifier(auth, { externalOrigin: 'https://inventory.example' });
    inv = await startInventory({ verifier: v.verifier, gate: true });
    orders = await auth.client('orders', ['inventory:read']);
  });
  after(async () => {
    await inv.close();
    v.close();
    await auth.close();
  });

  it('a proof names the external origin and the method path; one naming the address the proxy forwards to is refused', async () => {
    const key = DpopKey.generate();
    const token = await boundSource(auth, orders, key).getToken({ audience: AUDIENCE });
    const client = (htu: (url: string) => string) =>
      createClient(
        InventoryService,
        createConnectTransport({
          baseUrl: inv.h2,
          httpVersion: '2',
          interceptors: [
            handMade(`DPoP ${token}`, (url) => createDpopProof({ key, method: 'POST', url: htu(url), accessToken: token })),
          ],
        }),
      );
    const external = (url: string) => `https://inventory.example${new URL(url).pathname}`;
    assert.equal((await client(external).getStock({ sku: 'a' })).caller, 'orders');
    assert.deepEqual(await refusal(client((url) => url).getStock({ sku: 'a' })), {
      code: Code.Unauthenticated,
      reason: 'dpop_invalid',
    });
  });
});

describe('DPoP server nonces at the service', () => {
  let auth: AuthServer;
  let v: Awaited<ReturnType<typeof startVerifier>>;
  let inv: Inventory;
  let orders: Creds;
  let http: Server;
  let base: string;
  let nonce = 'nonce-1';
  const refusals: RefusalEvent[] = [];

  before(async () => {
    auth = await startAuthServer({ overrides: { dpopNonce: true } });
    v = await startVerifier(auth, { dpopNonce: () => [nonce] });
    inv = await startInventory({ verifier: v.verifier, gate: true, onRefusal: (e) => refusals.push(e) });
    orders = await auth.client('orders', ['inventory:read']);
    http = createServer(withAuth(v.verifier, (_req, res, p) => void res.end(JSON.stringify({ sub: p.sub, jkt: p.jkt })), {}));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => (http.closeAllConnections(), http.close(() => r())));
    await inv.close();
    v.close();
    await auth.close();
  });

  it('a call without the nonce is refused with it (dpop_nonce); the interceptor retries once and keeps it', async () => {
    const key = DpopKey.generate();
    const client = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(boundSource(auth, orders, key), { audience: AUDIENCE })],
      }),
    );
    assert.equal((await client.getStock({ sku: 'a' })).caller, 'orders');
    assert.deepEqual(
      refusals.map((e) => e.reason),
      ['dpop_nonce'],
    );
    assert.equal((await client.getStock({ sku: 'a' })).caller, 'orders');
    assert.equal(refusals.length, 1, 'the nonce was kept');
    nonce = 'nonce-2';
    assert.equal((await client.getStock({ sku: 'a' })).caller, 'orders', 'a new nonce: one more retry');
    assert.equal(refusals.length, 2);

    const token = await boundSource(auth, orders, key).getToken({ audience: AUDIENCE });
    const bare = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [handMade(`DPoP ${token}`, (url) => createDpopProof({ key, method: 'POST', url, accessToken: token }))],
      }),
    );
    try {
      await bare.getStock({ sku: 'a' });
      assert.fail('accepted without the nonce');
    } catch (err) {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.metadata.get(REFUSAL_HEADER), 'dpop_nonce');
      assert.equal(err.metadata.get(DPOP_NONCE_HEADER), 'nonce-2');
    }
  });

  it('authorizedFetch proves plain HTTP calls with the source key, retrying once on use_dpop_nonce', async () => {
    const key = DpopKey.generate();
    const statuses: number[] = [];
    const call = authorizedFetch(boundSource(auth, orders, key), {
      audience: AUDIENCE,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    const res = await call(`${base}/stock`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sub: 'orders', jkt: key.jkt });
    assert.deepEqual(statuses, [401, 200]);
    assert.equal((await call(`${base}/stock`, { method: 'POST', body: 'x' })).status, 200);
    assert.deepEqual(statuses, [401, 200, 200], 'the nonce was kept');

    // The nonce changes: two calls refused at once both retry (each with the nonce its own proof lacked).
    nonce = 'nonce-3';
    const both = await Promise.all([call(`${base}/stock`), call(`${base}/stock`)]);
    assert.deepEqual(
      both.map((r) => r.status),
      [200, 200],
    );
    // A body that was read by the first request (an async iterable) is not sent again empty: the refusal is returned.
    nonce = 'nonce-4';
    async function* upload() {
      yield new TextEncoder().encode('payload');
    }
    const streamed = await call(`${base}/stock`, { method: 'POST', body: upload() as never, duplex: 'half' } as RequestInit);
    assert.equal(streamed.status, 401);
  });
});
