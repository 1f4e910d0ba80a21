/**
 * The server API over HTTP, with service tokens from a real auth server: each method needs its scope, bad
 * bodies are refused and change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createGateway, type Gateway } from '@tessera/realtime';
import { until } from '@tessera/testing';
import { Centrifuge, type Subscription } from 'centrifuge';
import WebSocket from 'ws';

import { startAuthServer, type AuthServer } from './helpers/auth.js';
import { CHANNELS, once } from './helpers/gateway.js';

describe('server API', () => {
  let auth: AuthServer;
  let gateway: Gateway;
  let url: string;
  let wsUrl: string;
  let closeVerifier: () => void;
  let client: Centrifuge;
  let sub: Subscription;
  let publisher: string;
  let reader: string;
  let admin: string;
  const received: unknown[] = [];

  const call = async (method: string, body: unknown, token?: string, init: RequestInit = {}) => {
    const res = await fetch(`${url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  before(async () => {
    auth = await startAuthServer();
    await auth.user('dan');
    const v = await auth.gatewayVerifier();
    closeVerifier = v.close;
    gateway = createGateway({ verifier: v.verifier, revocations: v.revocations, channels: CHANNELS });
    ({ url, wsUrl } = await gateway.listen());
    publisher = await auth.serviceToken(['realtime:publish']);
    reader = await auth.serviceToken(['realtime:presence', 'realtime:history']);
    admin = await auth.serviceToken(['realtime:disconnect']);
    client = new Centrifuge(wsUrl, { websocket: WebSocket, token: await auth.login('dan') });
    client.connect();
    sub = client.newSubscription('chat:room:api');
    sub.on('publication', (p: { data: unknown }) => received.push(p.data));
    sub.subscribe();
    await once(sub, 'subscribed');
  });
  after(async () => {
    client.disconnect();
    await gateway.close();
    closeVerifier();
    await auth.close();
  });

  it('publish with realtime:publish reaches the subscriber and returns the stream position', async () => {
    const r = await call('publish', { channel: 'chat:room:api', data: { text: 'from the back end' } }, publisher);
    assert.equal(r.status, 200);
    const result = r.body!.result as { offset: number; epoch: string };
    assert.equal(typeof result.epoch, 'string');
    assert.ok(result.offset >= 1);
    await until('the publication at the subscriber', () => received.length > 0);
    assert.deepEqual(received.at(-1), { text: 'from the back end' });
  });

  it('no token: 401 with a Bearer challenge; a token without the scope: 403 insufficient_scope; nothing published', async () => {
    const before = received.length;
    const none = await call('publish', { channel: 'chat:room:api', data: 1 });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await call('publish', { channel: 'chat:room:api', data: 1 }, reader);
    assert.equal(wrong.status, 403);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const user = await call('publish', { channel: 'chat:room:api', data: 1 }, await auth.login('dan'));
    assert.equal(user.status, 403);
    // A publication allowed after the refused ones: the channel delivers in order, so it comes after any of them.
    assert.equal((await call('publish', { channel: 'chat:room:api', data: 'marker' }, publisher)).status, 200);
    await until('the marker at the subscriber', () => received.includes('marker'));
    assert.deepEqual(received.slice(before), ['marker']);
  });

  it('bad bodies: 400 invalid_request naming the problem; unknown path 404; GET 405', async () => {
    for (const [body, what] of [
      ['{"channel":', 'not JSON'],
      ['[]', 'JSON object'],
      [{ data: 1 }, 'channel'],
      [{ channel: 'chat:room:api' }, 'data'],
      [{ channel: 'nowhere:x', data: 1 }, 'unknown channel'],
      [{ channel: 'chat:bad channel', data: 1 }, 'invalid channel'],
    ] as const) {
      const r = await call('publish', body, publisher);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body!.error, 'invalid_request');
      assert.match(String(r.body!.error_description), new RegExp(what));
    }
    assert.equal((await call('nope', {}, publisher)).status, 404);
    const get = await fetch(`${url}/api/publish`, { headers: { authorization: `Bearer ${publisher}` } });
    assert.equal(get.status, 405);
    const huge = await call('publish', { channel: 'chat:room:api', data: 'x'.repeat(200_000) }, publisher);
    assert.equal(huge.status, 413);
  });

  it('broadcast, presence, presence_stats, history', async () => {
    const b = await call('broadcast', { channels: ['chat:room:api', 'news:x'], data: 'to all' }, publisher);
    assert.equal(b.status, 200);
    const p = await call('presence', { channel: 'chat:room:api' }, reader);
    assert.equal(p.status, 200);
    const presence = (p.body!.result as { presence: Record<string, { user: string }> }).presence;
    assert.deepEqual(
      Object.values(presence).map((i) => i.user),
      ['user-dan'],
    );
    const s = await call('presence_stats', { channel: 'chat:room:api' }, reader);
    assert.deepEqual(s.body!.result, { num_clients: 1, num_users: 1 });
    const h = await call('history', { channel: 'chat:room:api', limit: 10 }, reader);
    assert.equal(h.status, 200);
    const pubs = (h.body!.result as { publications: { data: unknown }[] }).publications.map((x) => x.data);
    assert.deepEqual(pubs.slice(-1), ['to all']);
    const noHistory = await call('history', { channel: 'news:x' }, reader);
    assert.equal(noHistory.status, 400);
  });

  it('disconnect a user with realtime:disconnect: their connection is closed with 3503, no reconnect', async () => {
    const c = new Centrifuge(wsUrl, { websocket: WebSocket, token: await auth.login('dan') });
    c.connect();
    await once(c, 'connected');
    assert.equal((await call('disconnect', { user: 'user-dan' }, publisher)).status, 403);
    const cut = once<{ code: number }>(c, 'disconnected');
    const r = await call('disconnect', { user: 'user-dan' }, admin);
    assert.equal(r.status, 200);
    assert.equal((await cut).code, 3503);
    assert.equal(c.state, 'disconnected');
  });
});
