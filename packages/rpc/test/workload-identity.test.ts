/**
 * Workload identity end to end (issue "workload identity federation"): the `orders` service runs with no secret
 * in its configuration, only the auth server's issuer URL, its client id and the path of its Kubernetes projected
 * service-account token. Its ServiceTokenSource exchanges that token for access tokens at a real auth server that
 * trusts the cluster (the Kubernetes stand-in: OpenID Connect discovery and JWKS), and it calls `inventory` over
 * Connect, which verifies with its one Verifier and requires a scope. It keeps working across (i) kubelet rotating
 * the token file (the old token has expired when the new one is needed: the server refuses it) and (ii) the
 * cluster rotating its signing key with the old key dropped (the server refetches its keys on the unknown kid).
 * A SPIFFE JWT-SVID file, sent as jwt-spiffe, authenticates a client its trust domain's path rule names.
 * Renewals are forced by moving one clock (server, verifier, token source) past the access token's lifetime.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { decodeUnverified } from '@tessera/core';
import { createTokenInterceptor } from '@tessera/rpc';
import { contextOf, parseWorkloadIssuer } from '@tessera/server/internal';
import {
  recordingFetch,
  SteppedClock,
  startKubernetesIssuer,
  startSpireServer,
  writeProjectedToken,
  writeSvid,
  type KubernetesIssuer,
  type SpireServer,
} from '@tessera/testing';
import { createVerifier, ServiceTokenSource, TokenRequestError, type Verifier } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { AUDIENCE, startAuthServer, type AuthServer } from './helpers/auth-server.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';
const ORDERS_SA = 'system:serviceaccount:shop:orders';

describe('workload identity end to end: orders calls inventory with no secret', () => {
  let auth: AuthServer;
  let k8s: KubernetesIssuer;
  let spire: SpireServer;
  let verifier: Verifier;
  let inv: Inventory;
  let dir: string;
  // One clock for the auth server, inventory's verifier and the token sources, moved forward instead of waiting.
  const clock = new SteppedClock();
  const now = clock.now;
  /** Seconds to add to the real time for a token issued now on the test's clock. */
  const issuedNow = () => Math.round((clock.now() - Date.now()) / 1000);

  before(async () => {
    // Every refusal written to the audit log (none suppressed per second): the tests read why the server refused.
    auth = await startAuthServer({ now, overrides: { auditFailuresPerSecond: 0 } });
    k8s = await startKubernetesIssuer();
    spire = await startSpireServer({ trustDomain: 'example.org' });
    dir = mkdtempSync(join(tmpdir(), 'tessera-workload-e2e-'));
    const client = { authMethod: 'workload_identity', accessTokenTtl: 300 } as const;
    await auth.client('orders', ['inventory:read'], client);
    await auth.client('shop-workers', ['inventory:read'], client);
    const at = Date.now();
    for (const wire of [
      {
        name: 'shop-cluster',
        issuer: k8s.issuer,
        keys: { discovery: true },
        audience: auth.url,
        single_use: false,
        rules: [{ client: 'orders', claims: { sub: ORDERS_SA } }],
      },
      {
        name: 'spire',
        issuer: 'spiffe://example.org',
        keys: { spiffe_bundle_endpoint: spire.bundleUrl },
        audience: auth.url,
        single_use: false,
        rules: [{ client: 'shop-workers', claims: { sub: 'spiffe://example.org/ns/shop/sa/*' } }],
      },
    ]) {
      await contextOf(auth.server).store.workloadIssuers.create({ ...parseWorkloadIssuer(wire), createdAt: at, updatedAt: at });
    }
    verifier = createVerifier({
      issuer: auth.url,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri: `${auth.url}/.well-known/jwks.json`,
      now,
    });
    inv = await startInventory({ verifier, now });
  });
  after(async () => {
    await inv.close();
    verifier.close();
    await auth.close();
    await k8s.close();
    await spire.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A Connect client of inventory whose calls carry `source`'s tokens (inventory:read). */
  const inventoryClient = (source: ServiceTokenSource) =>
    createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(source, { audience: AUDIENCE, scope: ['inventory:read'] })],
      }),
    );

  /** Why the server last refused a workload token, as its audit log says. */
  const lastRefusal = async () =>
    (await contextOf(auth.server).store.audit.query({ type: 'client.workload_refused', limit: 1 }))[0]?.data.reason;

  /** Presents `assertion` at the token endpoint directly: the server's verdict on a token the source no longer sends. */
  const present = (
    assertion: string,
    as: { client_id?: string; client_assertion_type: string } = { client_id: 'orders', client_assertion_type: JWT_BEARER },
  ) =>
    fetch(`${auth.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...as, client_assertion: assertion }),
    });

  it('a Kubernetes projected token: calls work across a token file rotation and a signing key rotation', async () => {
    const volume = join(dir, 'orders-pod', 'tessera-token');
    // kubelet: a token for the pod's service account, audience the auth server, written as a projected volume.
    const kubeletWrites = async () => {
      const token = await k8s.token({
        namespace: 'shop',
        serviceAccount: 'orders',
        audience: auth.url,
        expirationSeconds: 600,
        podName: 'orders-5d8c7b9f4-x2x7q',
        nodeName: 'node-1',
        iatOffset: issuedNow(),
      });
      return { token, file: await writeProjectedToken(volume, token) };
    };
    const first = await kubeletWrites();

    // The orders service's whole configuration.
    const ordersConfig = { issuer: auth.url, clientId: 'orders', workloadTokenFile: first.file };
    assert.deepEqual(Object.keys(ordersConfig).sort(), ['clientId', 'issuer', 'workloadTokenFile'], 'no secret');
    const sent: string[] = [];
    const orders = inventoryClient(
      new ServiceTokenSource({ ...ordersConfig, now, fetch: recordingFetch('client_assertion', sent) }),
    );

    const call = async () => {
      const reply = await orders.getStock({ sku: 'sku-1' });
      assert.equal(reply.caller, 'orders');
      const seen = inv.seen.calls.at(-1)!;
      assert.equal(seen.method, 'getStock');
      assert.deepEqual(seen.workload, { iss: k8s.issuer, sub: ORDERS_SA }, 'inventory sees who the workload is');
      return seen;
    };

    const c1 = await call();
    assert.equal((await call()).tokenId, c1.tokenId, 'the cached access token serves the next call');
    assert.deepEqual(sent, [first.token]);

    // (i) Ten minutes on: kubelet has rotated the token file; the first token and the access token have expired.
    clock.advance(700_000);
    const second = await kubeletWrites();
    assert.equal(second.file, first.file);
    assert.equal((await present(first.token)).status, 401, 'the server refuses the expired first token');
    assert.equal(await lastRefusal(), 'exp_expired');
    const c2 = await call();
    assert.notEqual(c2.tokenId, c1.tokenId, 'a renewed access token');
    assert.deepEqual(sent, [first.token, second.token], 'the renewal sent the token kubelet wrote');
    assert.notEqual(decodeUnverified(second.token).payload.jti, decodeUnverified(first.token).payload.jti);

    // (ii) The cluster rotates its service-account signing key and drops the old one; kubelet writes a token
    // signed with the new key. Past the access token's lifetime (and the server's refetch cooldown), the next
    // call needs a token, and the server meets a kid it does not know.
    const oldKid = decodeUnverified(second.token).header.kid;
    await k8s.rotateKeys({ keepOld: false });
    clock.advance(400_000);
    const third = await kubeletWrites();
    const newKid = decodeUnverified(third.token).header.kid;
    assert.notEqual(newKid, oldKid);
    const keyRequests = k8s.requests;
    const c3 = await call();
    assert.ok(k8s.requests > keyRequests, 'the server refetched the cluster keys for the unknown kid');
    assert.notEqual(c3.tokenId, c2.tokenId);
    assert.deepEqual(sent, [first.token, second.token, third.token]);
    // The second token has not expired, but its key is gone from the keys the server now holds.
    assert.ok((decodeUnverified(second.token).payload.exp as number) * 1000 > now());
    assert.equal((await present(second.token)).status, 401, 'a token of the dropped key is refused');
    assert.equal(await lastRefusal(), 'ERR_KEY_NOT_FOUND');
    assert.equal((await call()).tokenId, c3.tokenId);
  });

  it('a SPIFFE JWT-SVID file sent as jwt-spiffe authenticates the client its path rule names', async () => {
    const svidDir = join(dir, 'spiffe-helper');
    mkdirSync(svidDir);
    const file = join(svidDir, 'jwt_svid.token');
    const svid = (spiffeId: string) => spire.svid({ spiffeId, audience: auth.url, iatOffset: issuedNow() });
    const first = await svid('/ns/shop/sa/orders');
    await writeSvid(file, first);
    const sent: string[] = [];
    const source = new ServiceTokenSource({
      issuer: auth.url,
      clientId: 'shop-workers',
      workloadTokenFile: file,
      assertionType: 'jwt-spiffe',
      now,
      fetch: recordingFetch('client_assertion', sent),
    });
    const workers = inventoryClient(source);
    const reply = await workers.getStock({ sku: 'sku-2' });
    assert.equal(reply.caller, 'shop-workers');
    const seen = inv.seen.calls.at(-1)!;
    assert.deepEqual(seen.workload, { iss: 'spiffe://example.org', sub: 'spiffe://example.org/ns/shop/sa/orders' });

    // spiffe-helper rewrites the file with a fresh SVID; past the first one's 300 s and the access token's
    // lifetime, the next call renews with the new SVID (the first is refused by then).
    clock.advance(400_000);
    const second = await svid('/ns/shop/sa/orders');
    await writeSvid(file, second);
    assert.equal((await workers.getStock({ sku: 'sku-2' })).caller, 'shop-workers');
    assert.notEqual(inv.seen.calls.at(-1)!.tokenId, seen.tokenId);
    assert.deepEqual(sent, [first, second]);
    const stale = await present(first, { client_assertion_type: JWT_SPIFFE });
    assert.equal(stale.status, 401, 'the expired first SVID is refused');
    assert.equal(await lastRefusal(), 'exp_expired');

    // An SVID of another namespace matches no rule: refused, and the call is never sent.
    await writeSvid(file, await svid('/ns/billing/sa/orders'));
    const calls = inv.seen.calls.length;
    const other = new ServiceTokenSource({
      issuer: auth.url,
      clientId: 'shop-workers',
      workloadTokenFile: file,
      assertionType: 'jwt-spiffe',
      now,
    });
    await assert.rejects(
      inventoryClient(other).getStock({ sku: 'sku-2' }),
      (err: unknown) =>
        err instanceof ConnectError &&
        err.code === Code.Unauthenticated &&
        err.cause instanceof TokenRequestError &&
        err.cause.error === 'invalid_client',
    );
    assert.equal(inv.seen.calls.length, calls);
  });
});
