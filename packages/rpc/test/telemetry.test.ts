/**
 * OpenTelemetry traces across a call, with the SDK registered (in-memory exporter): the client interceptor's span,
 * the W3C trace context it sends, the server interceptor's span (the child of that context) and the verifier's
 * span inside it: one trace, each span the child of the one before. Refusals end the spans with status ERROR.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { Code, createClient, type ConnectError, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createTokenInterceptor } from '@tessera/rpc';
import { registerTestTracing } from '@tessera/testing';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { startInventory, type Inventory } from './helpers/inventory.js';
import { localToken, localVerifier, tokenClient } from './helpers/local-tokens.js';

const tracing = registerTestTracing();
const token = (scope: string) => localToken(scope, 'caller-not-in-telemetry');

const byKind = (kind: SpanKind) => tracing.spans('rpc.call').filter((s) => s.kind === kind);
function one(spans: ReadableSpan[], what: string): ReadableSpan {
  assert.equal(spans.length, 1, `${spans.length} ${what} spans`);
  return spans[0]!;
}

describe('rpc.call spans: client -> server -> tessera.verify in one trace', () => {
  let inv: Inventory;
  before(async () => {
    inv = await startInventory({ verifier: localVerifier() });
  });
  after(() => inv.close());
  beforeEach(() => tracing.reset());

  for (const [name, transport] of [
    ['Connect', (interceptors: Interceptor[]) => createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', interceptors })],
    ['gRPC', (interceptors: Interceptor[]) => createGrpcTransport({ baseUrl: inv.h2, interceptors })],
  ] as const) {
    it(`${name}: an accepted call: three spans, each the parent of the next, one trace id`, async () => {
      const bearer = token('inventory:read');
      const client = createClient(InventoryService, transport([createTokenInterceptor(() => bearer)]));
      assert.equal((await client.getStock({ sku: 'sku-1' })).quantity, 42);
      const clientSpan = one(byKind(SpanKind.CLIENT), 'client');
      const serverSpan = one(byKind(SpanKind.SERVER), 'server');
      const verify = one(tracing.spans('tessera.verify'), 'tessera.verify');
      const trace = clientSpan.spanContext().traceId;
      assert.equal(serverSpan.spanContext().traceId, trace);
      assert.equal(verify.spanContext().traceId, trace);
      assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
      assert.equal(verify.parentSpanContext?.spanId, serverSpan.spanContext().spanId);
      for (const span of [clientSpan, serverSpan]) {
        assert.equal(span.attributes['rpc.system'], 'connect_rpc');
        assert.equal(span.attributes['rpc.service'], 'inventory.v1.InventoryService');
        assert.equal(span.attributes['rpc.method'], 'GetStock');
        assert.equal(span.status.code, SpanStatusCode.UNSET);
      }
      assert.equal(serverSpan.attributes['tessera.outcome'], 'ok');
      assert.equal(clientSpan.attributes['tessera.outcome'], undefined);
      assert.equal(verify.attributes['tessera.outcome'], 'ok');
      for (const span of tracing.spans())
        for (const value of Object.values(span.attributes)) {
          assert.ok(!String(value).includes('caller-not-in-telemetry'), `${span.name} holds the subject`);
          assert.ok(!String(value).includes(bearer.split('.')[2]!), `${span.name} holds the token`);
        }
    });

    it(`${name}: a call refused for its scopes: status ERROR with the reason on client and server spans`, async () => {
      const client = createClient(InventoryService, transport([createTokenInterceptor(() => token('inventory:read'))]));
      await assert.rejects(client.adjustStock({ sku: 'a', delta: 1 }), (e: ConnectError) => e.code === Code.PermissionDenied);
      const clientSpan = one(byKind(SpanKind.CLIENT), 'client');
      const serverSpan = one(byKind(SpanKind.SERVER), 'server');
      const verify = one(tracing.spans('tessera.verify'), 'tessera.verify');
      assert.equal(serverSpan.attributes['tessera.outcome'], 'insufficient_scope');
      assert.equal(serverSpan.attributes['rpc.connect_rpc.error_code'], 'permission_denied');
      assert.deepEqual(serverSpan.status, { code: SpanStatusCode.ERROR, message: 'insufficient_scope' });
      assert.deepEqual(clientSpan.status, { code: SpanStatusCode.ERROR, message: 'insufficient_scope' });
      assert.equal(clientSpan.attributes['rpc.connect_rpc.error_code'], 'permission_denied');
      assert.equal(verify.attributes['tessera.outcome'], 'ERR_INSUFFICIENT_SCOPE');
      assert.equal(verify.parentSpanContext?.spanId, serverSpan.spanContext().spanId);
      assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
    });
  }

  it('a call with no token (no client interceptor): the server span is a root, refused token_missing', async () => {
    const client = createClient(InventoryService, createConnectTransport({ baseUrl: inv.h2, httpVersion: '2' }));
    await assert.rejects(client.getStock({ sku: 'a' }), (e: ConnectError) => e.code === Code.Unauthenticated);
    const serverSpan = one(byKind(SpanKind.SERVER), 'server');
    assert.equal(serverSpan.parentSpanContext, undefined);
    assert.equal(serverSpan.attributes['tessera.outcome'], 'token_missing');
    assert.equal(serverSpan.status.code, SpanStatusCode.ERROR);
    assert.equal(
      one(tracing.spans('tessera.verify'), 'tessera.verify').parentSpanContext?.spanId,
      serverSpan.spanContext().spanId,
    );
  });

  it('a public method: the server span says public, no verification span', async () => {
    const client = createClient(InventoryService, createConnectTransport({ baseUrl: inv.h2, httpVersion: '2' }));
    assert.equal((await client.health({})).status, 'ok');
    assert.equal(one(byKind(SpanKind.SERVER), 'server').attributes['tessera.outcome'], 'public');
    assert.equal(tracing.spans('tessera.verify').length, 0);
  });

  it('a response stream ended by the token expiry: both spans end with it, ERROR token_expired, in one trace', async () => {
    const client = tokenClient(inv, localToken('inventory:read', 'caller', 1));
    let messages = 0;
    await assert.rejects(
      (async () => {
        for await (const event of client.watchStock({ sku: 'a', intervalMs: 20 })) if (event.sku === 'a') messages++;
      })(),
      (e: ConnectError) => e.code === Code.Unauthenticated,
    );
    assert.ok(messages > 0);
    const clientSpan = await waitFor(() => byKind(SpanKind.CLIENT)[0]);
    const serverSpan = await waitFor(() => byKind(SpanKind.SERVER)[0]);
    assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
    assert.equal(serverSpan.attributes['rpc.method'], 'WatchStock');
    assert.equal(serverSpan.attributes['tessera.outcome'], 'token_expired');
    assert.deepEqual(serverSpan.status, { code: SpanStatusCode.ERROR, message: 'token_expired' });
    assert.deepEqual(clientSpan.status, { code: SpanStatusCode.ERROR, message: 'token_expired' });
  });
});

/** A stream's spans end when each side sees it closed: after the client's loop has ended. */
async function waitFor<T>(get: () => T | undefined): Promise<T> {
  const { until } = await import('@tessera/testing');
  return until('the server span', get);
}
