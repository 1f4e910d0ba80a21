/**
 * The wire, byte by byte, with a bare `ws` client: malformed frames, limits, pings, slow readers. Each
 * refusal uses the protocol's own error or disconnect code and changes nothing for anyone else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { ManualClock } from './helpers/clock.js';
import { Raw } from './helpers/raw.js';
import { sleep, startGateway, type Harness } from './helpers/gateway.js';

const CHAT = ['chat:room:*:subscribe', 'chat:room:*:publish', 'news:*:subscribe'];

describe('wire protocol', () => {
  let h: Harness;
  // The connect timeout, pings and pongs run on this clock: those tests move it instead of waiting.
  const clock = new ManualClock();
  const raws: Raw[] = [];
  const raw = () => {
    const r = new Raw(h.wsUrl);
    raws.push(r);
    return r;
  };
  before(async () => {
    h = await startGateway({
      clock,
      limits: {
        maxSubscriptions: 2,
        publishRate: 1,
        publishBurst: 3,
        maxMessageBytes: 4096,
        connectTimeoutMs: 400,
        pingIntervalMs: 300,
        pongTimeoutMs: 300,
      },
    });
  });
  after(async () => {
    for (const r of raws) r.ws.terminate();
    await h.close();
  });

  it('connect reply: client, version, expires, ttl, ping interval and pong request', async () => {
    const r = raw();
    const m = await r.connect(h.token('alice', CHAT, 120));
    const c = m.connect as Record<string, unknown>;
    assert.equal(typeof c.client, 'string');
    assert.equal(c.expires, true);
    assert.ok((c.ttl as number) >= 118 && (c.ttl as number) <= 120);
    assert.equal(c.pong, true);
    assert.equal(typeof c.ping, 'number');
  });

  for (const [name, frame] of [
    ['not JSON', '{"id":1,'],
    ['a JSON array', '[1,2]'],
    ['a command without id', '{"subscribe":{"channel":"chat:room:1"}}'],
    ['id zero', '{"id":0,"subscribe":{"channel":"chat:room:1"}}'],
    ['two methods in one command', '{"id":3,"subscribe":{"channel":"chat:room:1"},"publish":{"channel":"chat:room:1","data":1}}'],
    ['params that are not an object', '{"id":3,"subscribe":"chat:room:1"}'],
  ] as const) {
    it(`a malformed frame (${name}) after connect: closed with 3501 bad request, nothing published`, async () => {
      const watcher = raw();
      await watcher.connect(h.token('watcher', CHAT));
      watcher.send({ id: 2, subscribe: { channel: 'chat:room:1' } });
      await watcher.reply(2);
      const r = raw();
      await r.connect(h.token('bob', CHAT));
      r.send(frame);
      const closed = await r.closed;
      assert.equal(closed.code, 3501);
      assert.equal(closed.reason, 'bad request');
      // A publication after the bad frame: the channel delivers in order, so it comes after anything the frame published.
      await h.gateway.publish('chat:room:1', 'marker');
      const pub = (m: Record<string, unknown>) => (m.push as { pub?: { data: unknown } } | undefined)?.pub;
      assert.equal(pub(await watcher.next((m) => pub(m) !== undefined))!.data, 'marker');
      assert.equal(watcher.messages.filter(pub).length, 1, 'only the marker');
      assert.equal(watcher.ws.readyState, WebSocket.OPEN);
    });
  }

  it('a command before connect: 3501', async () => {
    const r = raw();
    await r.open();
    r.send({ id: 1, subscribe: { channel: 'chat:room:1' } });
    assert.equal((await r.closed).code, 3501);
  });

  it('connect without a token, or with the token only in the URL: 3500 invalid token', async () => {
    const r = raw();
    await r.open();
    r.send({ id: 1, connect: {} });
    assert.equal((await r.closed).code, 3500);
    const q = new Raw(`${h.wsUrl}?token=${h.token('alice', CHAT)}`);
    raws.push(q);
    await q.open();
    q.send({ id: 1, connect: {} });
    assert.equal((await q.closed).code, 3500);
  });

  it('a DPoP-bound token (cnf.jkt) without its proof: 3500 invalid token, not a bearer token', async () => {
    const r = raw();
    await r.open();
    r.send({
      id: 1,
      connect: { token: h.token('alice', CHAT, 60, { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }) },
    });
    assert.equal((await r.closed).code, 3500);
  });

  it('no connect within the connect timeout: 3502 stale', async () => {
    const r = raw();
    await r.open();
    await clock.advance(400);
    assert.equal((await r.closed).code, 3502);
  });

  it('a binary frame: 3501', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    r.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await r.closed).code, 3501);
  });

  it('a message over the size limit: closed with 1009 before it is parsed', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    r.send({ id: 2, publish: { channel: 'chat:room:1', data: 'x'.repeat(5000) } });
    assert.equal((await r.closed).code, 1009);
  });

  it('an unknown method: error 104, the connection stays; a bad field type: error 107', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    r.send({ id: 2, teleport: {} });
    assert.deepEqual((await r.reply(2)).error, { code: 104, message: 'method not found' });
    r.send({ id: 3, subscribe: { channel: 42 } });
    assert.deepEqual((await r.reply(3)).error, { code: 107, message: 'bad request' });
    r.send({ id: 4, rpc: { method: 'x', data: {} } });
    assert.deepEqual((await r.reply(4)).error, { code: 104, message: 'method not found' });
    r.send({ id: 5, ping: {} });
    assert.deepEqual((await r.reply(5)).ping, {});
  });

  it('several commands in one frame are answered each by id', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    r.send(
      { id: 2, subscribe: { channel: 'news:a' } },
      { id: 3, subscribe: { channel: 'news:a' } },
      { id: 4, unsubscribe: { channel: 'news:a' } },
    );
    assert.deepEqual(await r.reply(2), { id: 2, subscribe: {} });
    assert.deepEqual((await r.reply(3)).error, { code: 105, message: 'already subscribed' });
    assert.deepEqual(await r.reply(4), { id: 4, unsubscribe: {} });
  });

  it('a burst of 300 commands is answered in full: the socket is paused while they drain, not closed', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    for (let f = 0; f < 3; f++) r.send(...Array.from({ length: 100 }, (_, i) => ({ id: 10 + f * 100 + i, ping: {} })));
    await r.reply(309);
    assert.equal(r.messages.filter((m) => typeof m.id === 'number' && m.id >= 10).length, 300);
    assert.equal(r.ws.readyState, WebSocket.OPEN);
  });

  it('subscriptions per connection are capped: 106 limit exceeded', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    r.send(
      { id: 2, subscribe: { channel: 'chat:room:1' } },
      { id: 3, subscribe: { channel: 'chat:room:2' } },
      { id: 4, subscribe: { channel: 'chat:room:3' } },
    );
    assert.ok((await r.reply(3)).subscribe);
    assert.deepEqual((await r.reply(4)).error, { code: 106, message: 'limit exceeded' });
  });

  it('publish rate per connection: past the burst, 111 too many requests (temporary)', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    const cmds = [2, 3, 4, 5].map((id) => ({ id, publish: { channel: 'chat:room:rate', data: id } }));
    r.send(...cmds);
    for (const id of [2, 3, 4]) assert.deepEqual((await r.reply(id)).publish, {});
    assert.deepEqual((await r.reply(5)).error, { code: 111, message: 'too many requests', temporary: true });
  });

  it('server pings are {}; a client that does not answer is closed with 3012 no pong', async () => {
    const r = raw();
    await r.connect(h.token('alice', CHAT));
    const pinged = r.next((m) => Object.keys(m).length === 0);
    await clock.advance(300);
    await pinged;
    await clock.advance(300);
    assert.equal((await r.closed).code, 3012);
  });

  it('a client that answers pings stays', async () => {
    const r = raw();
    let pings = 0;
    r.ws.on('message', (d) => {
      if (d.toString() !== '{}') return;
      pings++;
      r.ws.send('{}');
    });
    await r.connect(h.token('alice', CHAT));
    // Four ping intervals, each one longer than the pong timeout.
    for (let i = 1; i <= 4; i++) {
      await clock.advance(300);
      await r.next(() => pings >= i);
      // A command sent after the pong is answered after the pong was read: the pong timer is off.
      r.send({ id: 100 + i, ping: {} });
      await r.reply(100 + i);
    }
    assert.equal(r.ws.readyState, WebSocket.OPEN);
  });
});

describe('slow consumer', () => {
  it('a client that stops reading is disconnected with 3008 once its send buffer passes the limit', async () => {
    const h = await startGateway({ limits: { maxBufferedBytes: 256 * 1024, pingIntervalMs: 60_000 } });
    try {
      const r = new Raw(h.wsUrl);
      await r.connect(h.token('slow', CHAT));
      r.send({ id: 2, subscribe: { channel: 'chat:room:flood' } });
      await r.reply(2);
      // Stop reading: the kernel buffers fill, then the gateway's send buffer grows.
      (r.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const payload = 'x'.repeat(16 * 1024);
      const deadline = Date.now() + 15_000;
      while (h.gateway.stats().connections > 0 && Date.now() < deadline) {
        for (let i = 0; i < 50; i++) await h.gateway.publish('chat:room:flood', payload);
        await sleep(5);
      }
      assert.equal(h.gateway.stats().connections, 0, 'the slow client was let go');
      const mem = process.memoryUsage().rss;
      assert.ok(mem < 1.5 * 1024 ** 3);
      (r.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      assert.equal((await r.closed).code, 3008);
    } finally {
      await h.close();
    }
  });
});
