/**
 * One trace across the system (the "Operate it" issue's test of telemetry): a service calls another over Connect
 * with a ServiceTokenSource feeding createTokenInterceptor. Its client span `rpc.call` holds the token request,
 * whose W3C trace context the auth server continues (`tessera.token`, its outcome and grant), and the call itself,
 * which the called service continues (`rpc.call`, server side) around its verifier's `tessera.verify` and the first
 * JWKS fetch (`tessera.jwks.fetch`). Everything read from the trace SDK's in-memory exporter, every span in one
 * trace, each the child of the right one; no token or secret in any attribute.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createTokenInterceptor } from '@tessera/rpc';
import { registerTestTracing } from '@tessera/testing';
import { ServiceTokenSource } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { AUDIENCE, startAuthServer, startVerifier, type AuthServer, type Creds } from './helpers/auth-server.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

const tracing = registerTestTracing();

/** The one span `name` (of `kind`) in trace `traceId` (all traces when undefined): other work of the processes, such as
 * the revocation list following the auth server, makes traces of its own. */
function only(name: string, kind?: SpanKind, traceId?: string): ReadableSpan {
  const spans = tracing
    .spans(name)
    .filter((s) => (kind === undefined || s.kind === kind) && (traceId === undefined || s.spanContext().traceId === traceId));
  assert.equal(spans.length, 1, `${spans.length} ${name} spans`);
  return spans[0]!;
}
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan) => s.spanContext().spanId;

describe('one trace across the auth server, an rpc call and a verifier', () => {
  let auth: AuthServer;
  let v: Awaited<ReturnType<typeof startVerifier>>;
  let inv: Inventory;
  let orders: Creds;

  before(async () => {
    auth = await startAuthServer();
    v = await startVerifier(auth);
    inv = await startInventory({ verifier: v.verifier, revocations: v.revocations });
    orders = await auth.client('orders', ['inventory:read']);
  });
  after(async () => {
    await inv.close();
    v.close();
    await auth.close();
  });

  it('token request, call and verification are one trace, each span the child of the one that caused it', async () => {
    tracing.reset();
    const source = new ServiceTokenSource({
      tokenEndpoint: auth.tokenEndpoint,
      clientId: orders.id,
      clientSecret: orders.secret,
    });
    const client = createClient(
      InventoryService,
      createConnectTransport({
        baseUrl: inv.h2,
        httpVersion: '2',
        interceptors: [createTokenInterceptor(source, { audience: AUDIENCE, scope: ['inventory:read'] })],
      }),
    );
    assert.equal((await client.getStock({ sku: 'sku-1' })).caller, 'orders');

    const call = only('rpc.call', SpanKind.CLIENT);
    const trace = call.spanContext().traceId;
    const token = only('tessera.token', undefined, trace);
    const served = only('rpc.call', SpanKind.SERVER, trace);
    const verify = only('tessera.verify', undefined, trace);
    const jwks = only('tessera.jwks.fetch', undefined, trace);
    // The token request and the call are the only token request and served call there were: both in this trace.
    assert.equal(tracing.spans('tessera.token').length, 1);
    assert.equal(tracing.spans('rpc.call').length, 2);

    // The auth server continued the token request's context: its span is the child of the caller's call.
    assert.equal(parentOf(token), idOf(call));
    assert.equal(token.attributes['oauth.grant_type'], 'client_credentials');
    assert.equal(token.attributes['oauth.client_id'], 'orders');
    assert.equal(token.attributes['tessera.outcome'], 'success');
    // The called service continued the call; its verification (and the JWKS fetch it waited for) are inside.
    assert.equal(parentOf(served), idOf(call));
    assert.equal(parentOf(verify), idOf(served));
    assert.equal(parentOf(jwks), idOf(verify));
    assert.equal(verify.attributes['tessera.outcome'], 'ok');
    assert.equal(served.attributes['tessera.outcome'], 'ok');

    // No credential in any attribute of any span of the trace.
    const values = tracing
      .spans()
      .flatMap((s) => Object.values(s.attributes as Attributes))
      .map(String);
    for (const secret of [orders.secret, await source.getToken({ audience: AUDIENCE, scope: ['inventory:read'] })])
      assert.ok(!values.some((v) => v.includes(secret)), 'a credential in a span attribute');
  });
});
