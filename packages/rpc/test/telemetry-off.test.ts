/**
 * Without an OpenTelemetry SDK (nothing registered in this process) the interceptors' spans are the API's no-op:
 * calls, refusals and streams work as ever, nothing throws, and no trace context is sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Code, type ConnectError, type Interceptor } from '@connectrpc/connect';

import { startInventory, type Inventory } from './helpers/inventory.js';
import { localToken, localVerifier, tokenClient } from './helpers/local-tokens.js';

describe('rpc interceptors without an OpenTelemetry SDK', () => {
  let inv: Inventory;
  const headersSeen: (string | null)[] = [];
  // Records, on the server, whether a call came with a traceparent header.
  const recorder: Interceptor = (next) => (req) => {
    headersSeen.push(req.header.get('traceparent'));
    return next(req);
  };
  before(async () => {
    inv = await startInventory({ verifier: localVerifier(), interceptors: [recorder] });
  });
  after(() => inv.close());

  it('an accepted call, a refused one and a stream: answers as ever, no traceparent sent', async () => {
    const client = tokenClient(inv, localToken('inventory:read'));
    assert.equal((await client.getStock({ sku: 'a' })).quantity, 42);
    await assert.rejects(client.adjustStock({ sku: 'a', delta: 1 }), (e: ConnectError) => e.code === Code.PermissionDenied);
    let n = 0;
    for await (const event of client.watchStock({ sku: 'a', intervalMs: 1 })) if (event.sku === 'a' && ++n === 2) break;
    assert.equal(n, 2);
    assert.ok(headersSeen.length >= 2);
    assert.ok(headersSeen.every((h) => h === null));
  });
});
