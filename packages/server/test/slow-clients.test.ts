/**
 * Slow clients (slowloris): connections that send a request a byte at a time, or never finish it, must not
 * hold the server: they are answered 408 and closed after the header and request timeouts, the connection
 * cap holds, and the server keeps answering meanwhile. Long-lived responses (the revocation event stream)
 * are not requests still being received, and stay open past those timeouts.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';

import { until } from '@tessera/testing';

import { adminAs, ownAdminClient, tokenOf } from './helpers/admin-api.js';
import { feedClient, feedToken, openStream, within } from './helpers/revocations.js';
import { startServer, type TestServer } from './helpers/server.js';

interface SlowClient {
  socket: Socket;
  received: string;
  closed: boolean;
}

/** Opens a connection and writes `head`, and nothing more. */
function slowClient(t: TestServer, head: string): Promise<SlowClient> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const c: SlowClient = { socket, received: '', closed: false };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (c.received += d));
    socket.on('error', () => undefined);
    socket.on('close', () => (c.closed = true));
    socket.once('connect', () => {
      socket.write(head);
      resolve(c);
    });
    socket.once('error', reject);
  });
}

/** `n` slow clients, opened a hundred at a time (the listen backlog is finite). */
async function slowClients(t: TestServer, n: number, head: (i: number) => string): Promise<SlowClient[]> {
  const out: SlowClient[] = [];
  for (let i = 0; i < n; i += 100)
    out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => slowClient(t, head(i + j))))));
  return out;
}

const HALF_HEADERS = 'GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ';
const HALF_BODY =
  'POST /oauth/token HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ngrant_type=';

function connections(t: TestServer): Promise<number> {
  return new Promise((resolve, reject) => t.server.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('slow clients', () => {
  it('slowloris: 1,000 half-sent requests do not stop /healthz and are closed after the timeouts', async () => {
    const t = await startServer({ env: { TESSERA_HEADERS_TIMEOUT: '1', TESSERA_REQUEST_TIMEOUT: '2' } });
    const clients: SlowClient[] = [];
    try {
      clients.push(...(await slowClients(t, 1_000, (i) => (i % 2 === 0 ? HALF_HEADERS : HALF_BODY))));
      // While they hold their connections, the server answers.
      const health = await fetch(`${t.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const jwks = await fetch(`${t.url}/.well-known/jwks.json`);
      assert.equal(jwks.status, 200);
      await jwks.body?.cancel();
      // Every slow connection is answered 408 in Tessera's format and closed by the server.
      await until('every slow connection closed by the server', () => clients.every((c) => c.closed), 20_000);
      for (const c of clients) {
        assert.match(c.received, /^HTTP\/1\.1 408 /, c.received.slice(0, 100));
        assert.match(c.received, /\{"error":"invalid_request","error_description":"request timeout"\}$/);
      }
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    } finally {
      for (const c of clients) c.socket.destroy();
      await t.close();
    }
  });

  it('connection-flood: connections beyond maxConnections are closed at once', async () => {
    const t = await startServer({ env: { TESSERA_MAX_CONNECTIONS: '5' } });
    const clients: SlowClient[] = [];
    try {
      clients.push(...(await slowClients(t, 5, () => HALF_HEADERS)));
      await until('the server holds the 5 connections', async () => (await connections(t)) === 5);
      const extra = await slowClient(t, HALF_HEADERS);
      await until('the connection over the cap closed', () => extra.closed);
      assert.equal(extra.received, '');
      assert.equal(
        clients.some((c) => c.closed),
        false,
        'the connections within the cap stay open',
      );
      for (const c of clients) c.socket.destroy();
      await until('the server let the 5 go', async () => (await connections(t)) === 0);
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    } finally {
      for (const c of clients) c.socket.destroy();
      await t.close();
    }
  });

  it('the revocation event stream outlives the request timeout', async () => {
    const t = await startServer({
      env: { TESSERA_HEADERS_TIMEOUT: '1', TESSERA_REQUEST_TIMEOUT: '1', TESSERA_REVOCATION_HEARTBEAT: '1' },
    });
    try {
      const admin = await tokenOf(t, await ownAdminClient(t, 'slow-admin'));
      const stream = await openStream(t, await feedToken(t, await feedClient(t, 'slow-feed')));
      assert.equal(stream.status, 200);
      // Three heartbeats a second apart: the stream has lived well past the 1 s request timeout.
      await until('three heartbeats', () => stream.named('heartbeat').length >= 3, 10_000);
      assert.equal(stream.ended, false);
      assert.equal((await adminAs(t, admin, 'POST', '/admin/revoke', { subject: 'someone' })).status, 200);
      await within(
        'the revocation on the stream',
        5_000,
        stream.next('the revocation', (e) => e.event === 'revocation' && e.data.includes('someone')),
      );
      assert.equal(stream.ended, false);
      stream.close();
      await stream.done;
    } finally {
      await t.close();
    }
  });
});
