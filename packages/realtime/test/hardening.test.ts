/**
 * What a hostile or unlucky client must not be able to do: crash a node with deep JSON, hold unbounded
 * memory with large history replies, burn CPU with token checks, or leave the client and the gateway
 * disagreeing about a subscription when the server ends it (or the client leaves) while it is being made.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createGateway, MemoryBroker } from '@tessera/realtime';
import { until } from '@tessera/testing';
import WebSocket from 'ws';

import { CHANNELS, once, startGateway, type Harness } from './helpers/gateway.js';

const RIGHTS = [
  'chat:room:*:subscribe',
  'chat:room:*:publish',
  'chat:room:*:history',
  'chat:room:*:presence',
  'news:*:subscribe',
];

/** A raw client: the frames it receives, and how its socket closed. */
async function raw(url: string) {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => {
    for (const line of d.toString().split('\n')) if (line) messages.push(JSON.parse(line) as Record<string, unknown>);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, messages, closed };
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('hostile input', () => {
  let h: Harness;
  before(async () => {
    h = await startGateway({
      channels: { namespaces: { chat: { history: { size: 100, ttlSeconds: 60 }, presence: true, joinLeave: true }, news: {} } },
      limits: { maxBufferedBytes: 256 * 1024, maxMessageBytes: 256 * 1024 },
    });
  });
  after(() => h.close());

  it('data nested deeper than 64 levels: 3501, nothing published, the node and its subscribers carry on', async () => {
    const watcher = h.client({ token: h.token('watcher', RIGHTS) });
    watcher.connect();
    const sub = watcher.newSubscription('chat:room:deep');
    const seen: unknown[] = [];
    sub.on('publication', (p: { data: unknown }) => seen.push(p.data));
    sub.subscribe();
    await once(sub, 'subscribed');
    const r = await raw(h.wsUrl);
    r.ws.send(JSON.stringify({ id: 1, connect: { token: h.token('mallory', RIGHTS) } }));
    await until('the connect reply', () => r.messages.some((m) => m.id === 1));
    r.ws.send(`{"id":2,"publish":{"channel":"chat:room:deep","data":${nested(5_000)}}}`);
    assert.equal(await r.closed, 3501);
    // Within the bound it goes through, to everyone.
    await sub.publish(JSON.parse(nested(60)));
    await until('the publication', () => seen.length === 1);
    assert.equal((await h.gateway.history('chat:room:deep', { limit: 10 })).publications.length, 1);
    const api = await fetch(`${h.url}/api/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token('svc', ['realtime:publish'])}` },
      body: `{"channel":"chat:room:deep","data":${nested(5_000)}}`,
    });
    assert.equal(api.status, 400);
    assert.match(((await api.json()) as { error_description: string }).error_description, /nests deeper/);
    watcher.disconnect();
  });

  it('a history reply holds at most maxBufferedBytes: a client that asks for all and stops reading holds no more', async () => {
    const big = 'x'.repeat(30 * 1024);
    for (let i = 0; i < 100; i++) await h.gateway.publish('chat:room:big', { i, big });
    const c = h.client({ token: h.token('reader', RIGHTS) });
    c.connect();
    await once(c, 'connected');
    const all = await c.history('chat:room:big', { limit: -1 });
    assert.ok(all.publications.length > 0 && all.publications.length < 100, `${all.publications.length} publications`);
    assert.ok(JSON.stringify(all.publications).length <= 256 * 1024);
    // The newest first, paged with `since`: the client can still read everything.
    assert.equal(all.offset, 100);
    c.disconnect();
  });

  it('token checks per connection are rate-limited: a stream of connects with expired tokens ends in 3013', async () => {
    const r = await raw(h.wsUrl);
    const expired = h.token('eve', RIGHTS, -10);
    for (let id = 1; id <= 60; id++) r.ws.send(JSON.stringify({ id, connect: { token: expired } }));
    assert.equal(await r.closed, 3013);
    const answered = r.messages.filter((m) => (m.error as { code?: number } | undefined)?.code === 109).length;
    assert.ok(answered >= 40 && answered <= 55, `${answered} verified before the cut`);
  });
});

/**
 * A MemoryBroker whose subscribe waits at a gate the test opens, as a slow Redis would keep it waiting: the window
 * the races below need, held open exactly as long as the test says.
 */
class GatedSubscribeBroker extends MemoryBroker {
  /** Subscribes at the gate now, and through it so far. */
  waiting = 0;
  passed = 0;
  private gate!: Promise<void>;
  private openGate!: () => void;

  constructor() {
    super();
    this.hold();
  }

  /** Holds the next subscribes at the gate. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  /** Lets the waiting subscribes (and any later one) through. */
  release(): void {
    this.openGate();
  }

  override async subscribe(channel: string): Promise<void> {
    this.waiting++;
    await this.gate;
    this.waiting--;
    await super.subscribe(channel);
    this.passed++;
  }
}

describe('server-side changes while a subscribe is in flight', () => {
  let h: Harness;
  const broker = new GatedSubscribeBroker();
  before(async () => {
    h = await startGateway({ broker });
  });
  after(() => h.close());

  it('an API unsubscribe during the subscribe reaches the client after its reply: both agree it is over', async () => {
    broker.hold();
    const c = h.client({ token: h.token('ann', RIGHTS) });
    c.connect();
    await once(c, 'connected');
    const sub = c.newSubscription('news:feed');
    const unsubscribed = once<{ code: number }>(sub, 'unsubscribed', 5_000);
    sub.subscribe();
    await until('the subscribe to wait for the broker', () => broker.waiting === 1);
    await h.gateway.unsubscribeUser('ann', 'news:feed');
    broker.release();
    assert.equal((await unsubscribed).code, 2000);
    assert.equal(sub.state, 'unsubscribed');
    assert.equal(h.gateway.stats().subscriptions, 0);
    c.disconnect();
  });

  it('a client gone during the subscribe leaves no presence entry behind', async () => {
    const r = await raw(h.wsUrl);
    r.ws.send(JSON.stringify({ id: 1, connect: { token: h.token('ghost', RIGHTS) } }));
    await until('the connect reply', () => r.messages.some((m) => m.id === 1));
    // A channel new to the node: the subscribe waits for the broker, and the client goes meanwhile.
    broker.hold();
    const passed = broker.passed;
    r.ws.send(JSON.stringify({ id: 2, subscribe: { channel: 'chat:room:ghost' } }));
    await until('the subscribe to wait for the broker', () => broker.waiting === 1);
    r.ws.terminate();
    await until('the gateway to see the client go', () => h.gateway.stats().connections === 0);
    broker.release();
    // What the subscribe does once through (history, presence) runs on the in-memory broker, without timers: done
    // by the time a timer (the next check of until) fires.
    await until('the subscribe through the broker', () => broker.passed === passed + 1);
    assert.deepEqual(Object.keys(await h.gateway.presence('chat:room:ghost')), []);
    assert.equal(h.gateway.stats().subscriptions, 0);
  });
});

describe('connections per user', () => {
  it('past maxConnectionsPerUser a new connection of that user is closed with 3504; other users are not counted', async () => {
    const h = await startGateway({ limits: { maxConnectionsPerUser: 2 } });
    try {
      const open = async (user: string) => {
        const r = await raw(h.wsUrl);
        r.ws.send(JSON.stringify({ id: 1, connect: { token: h.token(user, RIGHTS) } }));
        return r;
      };
      const first = await open('uma');
      const second = await open('uma');
      await until('two connect replies', () => [first, second].every((r) => r.messages.some((m) => m.id === 1 && m.connect)));
      const third = await open('uma');
      assert.equal(await third.closed, 3504);
      const other = await open('vic');
      await until('vic connected', () => other.messages.some((m) => m.id === 1 && m.connect));
      // A place frees up when one goes.
      first.ws.close();
      await first.closed;
      await until('the gateway to let the first connection go', () => h.gateway.stats().connections === 2);
      const again = await open('uma');
      await until('uma connected again', () => again.messages.some((m) => m.id === 1 && m.connect));
      for (const r of [second, other, again]) r.ws.terminate();
    } finally {
      await h.close();
    }
  });
});

describe('limits', () => {
  it('a limit that would switch its bound off is refused, naming it', () => {
    const verifier = {} as never;
    for (const [name, value] of [
      ['maxMessageBytes', 0],
      ['pingIntervalMs', 0],
      ['brokerTimeoutMs', 0],
      ['maxBufferedBytes', -1],
      ['nope', 1],
    ] as const) {
      assert.throws(
        () => createGateway({ verifier, channels: CHANNELS, limits: { [name]: value } }),
        new RegExp(`limits\\.${name}`),
      );
    }
    // 0 where it means none or at once.
    createGateway({ verifier, channels: CHANNELS, limits: { maxConnectionsPerUser: 0, expiryGraceMs: 0 } });
  });
});
