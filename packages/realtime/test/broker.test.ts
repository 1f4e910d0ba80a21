/**
 * The broker contract, one suite run against every broker: MemoryBroker, and RedisBroker on a real Redis
 * (127.0.0.1:6379, or TESSERA_TEST_REDIS). Then RedisBroker as several nodes sharing that Redis, and what
 * only it has: connections, pub/sub messages from outside, keys that expire. Without Redis its suites are
 * skipped with the reason, except in CI (CI=true), where they fail.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  BrokerError,
  MemoryBroker,
  RedisBroker,
  type Broker,
  type BrokerHandlers,
  type ClientInfo,
  type ControlMessage,
  type HistoryBounds,
  type Publication,
} from '@tessera/realtime';
import { withDeadline } from '@tessera/realtime/internal';
import { until } from '@tessera/testing';
import { Redis } from 'ioredis';

import { ManualClock } from './helpers/clock.js';
import { sleep } from './helpers/gateway.js';
import { REDIS_MISSING, REDIS_URL, redisAvailable, skipWithoutRedis, uniquePrefix } from './helpers/redis.js';

const skipRedis = await skipWithoutRedis('RedisBroker tests');
/** In CI, where Redis is required, its absence fails the suites here. */
const requireRedis = async () => assert.ok(await redisAvailable(), `${REDIS_MISSING} (required when CI=true)`);

/** Keys and pub/sub channels of this run only: test files running at the same time do not meet. */
const PREFIX = uniquePrefix();

let channelCount = 0;
/** A channel no other test uses. */
const channel = () => `chat:room:${++channelCount}`;

const alice: ClientInfo = { user: 'alice', client: 'c-alice' };
const bob: ClientInfo = { user: 'bob', client: 'c-bob' };
const LONG: HistoryBounds = { size: 3, ttlMs: 60_000 };

type Event =
  | { kind: 'publication'; channel: string; pub: Publication }
  | { kind: 'join' | 'leave'; channel: string; info: ClientInfo }
  | { kind: 'control'; message: ControlMessage };

/** The handlers of a node: every event, in the order it came. */
class Recorder implements BrokerHandlers {
  readonly events: Event[] = [];
  resyncs = 0;
  resync(): void {
    this.resyncs++;
  }
  publication(channel: string, pub: Publication): void {
    this.events.push({ kind: 'publication', channel, pub });
  }
  join(channel: string, info: ClientInfo): void {
    this.events.push({ kind: 'join', channel, info });
  }
  leave(channel: string, info: ClientInfo): void {
    this.events.push({ kind: 'leave', channel, info });
  }
  control(message: ControlMessage): void {
    this.events.push({ kind: 'control', message });
  }
  on(channel: string): Event[] {
    return this.events.filter((e) => e.kind !== 'control' && e.channel === channel);
  }
  publications(channel: string): Publication[] {
    return this.on(channel).flatMap((e) => (e.kind === 'publication' ? [e.pub] : []));
  }
  controls(): ControlMessage[] {
    return this.events.flatMap((e) => (e.kind === 'control' ? [e.message] : []));
  }
}

interface Node {
  broker: Broker;
  events: Recorder;
}

/**
 * The contract every broker keeps, run against the brokers `make` builds (each started, one node).
 * `elapse` lets time pass for the broker's history and presence expiry: MemoryBroker's clock is moved,
 * Redis expires keys on its own time, which is waited for.
 */
function brokerContract(
  name: string,
  make: () => Broker,
  options: { skip: string | false; setup?: () => Promise<void>; elapse: (ms: number) => Promise<unknown> },
) {
  const { elapse } = options;
  describe(`broker contract: ${name}`, { skip: options.skip }, () => {
    const open: Broker[] = [];
    if (options.setup) before(options.setup);
    afterEach(async () => {
      for (const b of open.splice(0)) await b.close();
    });

    async function node(): Promise<Node> {
      const broker = make();
      const events = new Recorder();
      open.push(broker);
      await broker.start(events);
      return { broker, events };
    }

    it('publishes without history to the channels this node subscribed to, and to no other', async () => {
      const { broker, events } = await node();
      const [a, b, marker] = [channel(), channel(), channel()];
      await broker.subscribe(a);
      await broker.subscribe(marker);
      assert.equal(await broker.publish(a, { n: 1 }, alice, undefined), undefined);
      await broker.publish(b, { n: 2 }, undefined, undefined);
      await broker.publish(marker, 'marker', undefined, undefined);
      // Publications of one node arrive in order: once the marker is here, anything for `b` would be too.
      await until('the marker', () => events.publications(marker).length === 1);
      const [pub, ...more] = events.publications(a);
      assert.deepEqual(more, []);
      assert.deepEqual(pub?.data, { n: 1 });
      assert.deepEqual(pub?.info, alice);
      assert.equal(pub?.offset, undefined);
      assert.equal(typeof pub?.time, 'number');
      assert.deepEqual(events.on(b), []);

      await broker.unsubscribe(a);
      await broker.publish(a, { n: 3 }, undefined, undefined);
      await broker.publish(marker, 'marker 2', undefined, undefined);
      await until('the second marker', () => events.publications(marker).length === 2);
      assert.equal(events.publications(a).length, 1);
    });

    it('keeps a stream of offsets 1..n in one epoch, capped at its size, delivered and read oldest first', async () => {
      const { broker, events } = await node();
      const ch = channel();
      await broker.subscribe(ch);
      // Read before anything is published: no stream (offset 0 of no epoch), and the read creates none.
      const empty = await broker.history(ch, { limit: 10 }, LONG);
      assert.deepEqual(empty.publications, []);
      assert.deepEqual(empty.position, { offset: 0, epoch: '' });

      const positions = [];
      for (let i = 1; i <= 5; i++) positions.push(await broker.publish(ch, { i }, alice, LONG));
      const epoch = positions[0]!.epoch;
      assert.ok(epoch.length > 0);
      assert.deepEqual(
        positions,
        [1, 2, 3, 4, 5].map((offset) => ({ offset, epoch })),
      );
      await until('five publications', () => events.publications(ch).length === 5);
      assert.deepEqual(
        events.publications(ch).map((p) => [p.offset, p.data]),
        [1, 2, 3, 4, 5].map((i) => [i, { i }]),
      );
      // The first publication of the stream names it, for subscribers that came before it existed.
      assert.deepEqual(
        events.publications(ch).map((p) => p.epoch),
        [epoch, undefined, undefined, undefined, undefined],
      );
      // A client positioned before the stream existed recovers all of it, while none is trimmed.
      const fromStart = await broker.history(ch, { limit: 10, since: { offset: 0, epoch: '' } }, LONG);
      assert.equal(fromStart.complete, false, 'offsets 1 and 2 were trimmed (size 3)');

      const h = await broker.history(ch, { limit: 10 }, LONG);
      assert.deepEqual(h.position, { offset: 5, epoch });
      assert.equal(h.complete, true);
      assert.deepEqual(
        h.publications.map((p) => [p.offset, p.data]),
        [3, 4, 5].map((i) => [i, { i }]),
      );
      for (const p of h.publications) {
        assert.deepEqual(p.info, alice);
        assert.equal(typeof p.time, 'number');
      }
      const offsets = async (query: { limit: number; reverse?: boolean }) =>
        (await broker.history(ch, query, LONG)).publications.map((p) => p.offset);
      assert.deepEqual(await offsets({ limit: 10, reverse: true }), [5, 4, 3]);
      assert.deepEqual(await offsets({ limit: 2 }), [3, 4]);
      assert.deepEqual(await offsets({ limit: 2, reverse: true }), [5, 4]);
      assert.deepEqual(await offsets({ limit: 0 }), []);
    });

    it("recovers a client positioned before the stream existed (offset 0, epoch ''), while nothing is trimmed", async () => {
      const { broker } = await node();
      const ch = channel();
      await broker.publish(ch, 'a', alice, LONG);
      await broker.publish(ch, 'b', alice, LONG);
      const h = await broker.history(ch, { limit: 10, since: { offset: 0, epoch: '' } }, LONG);
      assert.equal(h.complete, true);
      assert.deepEqual(
        h.publications.map((p) => p.data),
        ['a', 'b'],
      );
      // Another epoch at offset 0 is not that position.
      assert.equal((await broker.history(ch, { limit: 10, since: { offset: 0, epoch: 'other' } }, LONG)).complete, false);
    });

    it('answers `since` with exactly the publications missed, or says it cannot', async () => {
      const { broker } = await node();
      const ch = channel();
      let epoch = '';
      for (let i = 1; i <= 5; i++) epoch = (await broker.publish(ch, { i }, undefined, LONG))!.epoch;
      const since = async (offset: number, e = epoch, more: { limit?: number; reverse?: boolean } = {}) => {
        const h = await broker.history(
          ch,
          { limit: more.limit ?? 10, since: { offset, epoch: e }, ...(more.reverse ? { reverse: true } : {}) },
          LONG,
        );
        assert.deepEqual(h.position, { offset: 5, epoch });
        return [h.publications.map((p) => p.offset), h.complete];
      };
      assert.deepEqual(await since(3), [[4, 5], true]);
      assert.deepEqual(await since(5), [[], true]);
      assert.deepEqual(await since(2), [[3, 4, 5], true]);
      assert.deepEqual(await since(2, epoch, { reverse: true }), [[5, 4, 3], true]);
      // Offsets 1 and 2 were trimmed (size 3): what is left is not all that was missed.
      assert.deepEqual(await since(1), [[3, 4, 5], false]);
      assert.deepEqual(await since(0), [[3, 4, 5], false]);
      // More missed than the limit.
      assert.deepEqual(await since(2, epoch, { limit: 2 }), [[3, 4], false]);
      // Another stream, or a position it never reached.
      assert.deepEqual(await since(3, `${epoch}x`), [[], false]);
      assert.deepEqual(await since(6), [[], false]);
    });

    it('starts a new epoch at offset 1 when the stream expires, ttl after its last publication', async () => {
      const { broker } = await node();
      const ch = channel();
      const bounds = { size: 10, ttlMs: 150 };
      const first = (await broker.publish(ch, 'first', undefined, bounds))!;
      assert.equal(first.offset, 1);
      await elapse(bounds.ttlMs + 30);
      const second = (await broker.publish(ch, 'second', undefined, bounds))!;
      assert.equal(second.offset, 1);
      assert.notEqual(second.epoch, first.epoch);
      const h = await broker.history(ch, { limit: 10, since: first }, bounds);
      assert.deepEqual([h.publications, h.position, h.complete], [[], second, false]);
      const all = await broker.history(ch, { limit: 10 }, bounds);
      assert.deepEqual(
        all.publications.map((p) => p.data),
        ['second'],
      );
    });

    it('leaves out of history the publications older than ttl, while the stream lives on', async () => {
      const { broker } = await node();
      const ch = channel();
      const bounds = { size: 10, ttlMs: 900 };
      const old = (await broker.publish(ch, 'old', undefined, bounds))!;
      await elapse(bounds.ttlMs / 2);
      const recent = (await broker.publish(ch, 'recent', undefined, bounds))!;
      assert.deepEqual(recent, { offset: 2, epoch: old.epoch });
      // `old` goes ttl after it came, `recent` half a ttl later.
      let h = await broker.history(ch, { limit: 10 }, bounds);
      await elapse(bounds.ttlMs / 2);
      await until('the old publication to go', async () => {
        h = await broker.history(ch, { limit: 10 }, bounds);
        return h.publications.length < 2;
      });
      assert.deepEqual(
        h.publications.map((p) => p.data),
        ['recent'],
      );
      assert.deepEqual(h.position, recent);
    });

    it('keeps presence: upserts, lists, removes, and forgets an entry past its ttl', async () => {
      const { broker } = await node();
      const ch = channel();
      const none = await broker.presence(ch);
      assert.equal(Object.getPrototypeOf(none), null);
      assert.deepEqual(Object.keys(none), []);

      await broker.addPresence(ch, 'c1', { user: 'alice', client: 'c1' }, 60_000);
      await broker.addPresence(ch, 'c2', { user: 'bob', client: 'c2' }, 60_000);
      await broker.addPresence(ch, 'c1', { user: 'alice2', client: 'c1' }, 60_000);
      // A client id is a key of its own, whatever it is.
      await broker.addPresence(ch, '__proto__', { user: 'mallory', client: '__proto__' }, 60_000);
      const p = await broker.presence(ch);
      assert.equal(Object.getPrototypeOf(p), null);
      assert.deepEqual(
        Object.entries(p).sort(([x], [y]) => x.localeCompare(y)),
        [
          ['__proto__', { user: 'mallory', client: '__proto__' }],
          ['c1', { user: 'alice2', client: 'c1' }],
          ['c2', { user: 'bob', client: 'c2' }],
        ],
      );

      await broker.removePresence(ch, 'c2');
      await broker.removePresence(ch, '__proto__');
      await broker.removePresence(ch, 'never-there');
      assert.deepEqual(Object.keys(await broker.presence(ch)), ['c1']);

      await broker.addPresence(ch, 'c3', { user: 'carol', client: 'c3' }, 400);
      assert.deepEqual(Object.keys(await broker.presence(ch)).sort(), ['c1', 'c3']);
      await elapse(400);
      await until('c3 to expire', async () => !('c3' in (await broker.presence(ch))));
      assert.deepEqual(Object.keys(await broker.presence(ch)), ['c1']);
      await broker.removePresence(ch, 'c1');
      assert.deepEqual(Object.keys(await broker.presence(ch)), []);
    });

    it('delivers joins and leaves to the nodes subscribed to the channel', async () => {
      const { broker, events } = await node();
      const [ch, other] = [channel(), channel()];
      await broker.subscribe(ch);
      await broker.join(other, bob);
      await broker.join(ch, alice);
      await broker.leave(ch, alice);
      await until('the leave', () => events.on(ch).length === 2);
      assert.deepEqual(events.on(ch), [
        { kind: 'join', channel: ch, info: alice },
        { kind: 'leave', channel: ch, info: alice },
      ]);
      assert.deepEqual(events.on(other), []);
    });

    it('delivers control messages to this node', async () => {
      const { broker, events } = await node();
      const messages: ControlMessage[] = [
        { type: 'disconnect', user: 'alice', code: 3503, reason: 'force disconnect' },
        { type: 'unsubscribe', user: 'bob', channel: 'chat:room:1' },
      ];
      for (const m of messages) await broker.control(m);
      await until('two control messages', () => events.controls().length === 2);
      assert.deepEqual(events.controls(), messages);
    });

    it('closes once, however often asked', async () => {
      const { broker } = await node();
      await broker.close();
      await broker.close();
    });
  });
}

const memoryClock = new ManualClock();
brokerContract('MemoryBroker', () => new MemoryBroker({ now: () => memoryClock.now() }), {
  skip: false,
  elapse: (ms) => memoryClock.advance(ms),
});

let redis: Redis;
const connections: Redis[] = [];
/** A connection of this test file, closed at its end. */
function connect(options: { connectionName?: string } = {}): Redis {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, ...options });
  connections.push(r);
  return r;
}
after(async () => {
  for (const r of connections) r.disconnect();
});

brokerContract('RedisBroker', () => new RedisBroker({ redis, prefix: PREFIX }), {
  skip: skipRedis,
  // RedisBroker times streams and presence by the Redis server's TIME, by design: real time has to pass.
  elapse: sleep,
  setup: async () => {
    await requireRedis();
    redis = connect();
  },
});

describe('RedisBroker: several nodes on one Redis', { skip: skipRedis }, () => {
  const open: Broker[] = [];
  before(async () => {
    await requireRedis();
    redis ??= connect();
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
  });

  /** A node: its own command and pub/sub connections, this run's prefix. */
  async function node(options: { subscriber?: Redis; prefix?: string; clock?: ManualClock } = {}): Promise<Node> {
    const broker = new RedisBroker({
      redis: connect(),
      prefix: options.prefix ?? PREFIX,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.subscriber ? { subscriber: options.subscriber } : {}),
    });
    const events = new Recorder();
    open.push(broker);
    await broker.start(events);
    return { broker, events };
  }

  it('a publication on one node is delivered on the others subscribed to the channel, with its offset', async () => {
    const [a, b, c] = [await node(), await node(), await node()];
    const ch = channel();
    await b.broker.subscribe(ch);
    await c.broker.subscribe(ch);
    const position = await a.broker.publish(ch, { text: 'hi' }, alice, LONG);
    await a.broker.publish(ch, 'no history', undefined, undefined);
    for (const n of [b, c]) {
      await until('both publications', () => n.events.publications(ch).length === 2);
      const [withHistory, without] = n.events.publications(ch);
      assert.deepEqual([withHistory?.data, withHistory?.info, withHistory?.offset], [{ text: 'hi' }, alice, position?.offset]);
      assert.deepEqual([without?.data, without?.offset], ['no history', undefined]);
    }
    // The publishing node did not subscribe: it hears nothing.
    assert.deepEqual(a.events.events, []);
    // The stream is one: read from another node, it is the same.
    const h = await c.broker.history(ch, { limit: 10 }, LONG);
    assert.deepEqual(h.position, position);
    assert.deepEqual(
      h.publications.map((p) => p.data),
      [{ text: 'hi' }],
    );
  });

  it("a publication without history carries the time of the publishing node's clock", async () => {
    const clock = new ManualClock();
    await clock.advance(3_600_000);
    const [a, b] = [await node({ clock }), await node()];
    const ch = channel();
    await b.broker.subscribe(ch);
    await a.broker.publish(ch, 'later', undefined, undefined);
    await until('the publication', () => b.events.publications(ch).length === 1);
    assert.equal(b.events.publications(ch)[0]?.time, clock.now());
  });

  it('presence added on one node is listed on another, and removed from there', async () => {
    const [a, b] = [await node(), await node()];
    const ch = channel();
    await a.broker.addPresence(ch, alice.client, alice, 60_000);
    await b.broker.addPresence(ch, bob.client, bob, 60_000);
    for (const n of [a, b]) assert.deepEqual({ ...(await n.broker.presence(ch)) }, { [alice.client]: alice, [bob.client]: bob });
    await b.broker.removePresence(ch, alice.client);
    assert.deepEqual({ ...(await a.broker.presence(ch)) }, { [bob.client]: bob });
  });

  it('joins and leaves on one node reach the others subscribed to the channel', async () => {
    const [a, b] = [await node(), await node()];
    const ch = channel();
    await b.broker.subscribe(ch);
    await a.broker.join(ch, alice);
    await a.broker.leave(ch, alice);
    await until('the leave', () => b.events.on(ch).length === 2);
    assert.deepEqual(
      b.events.on(ch).map((e) => e.kind),
      ['join', 'leave'],
    );
  });

  it('a control message from one node reaches every node, that one included', async () => {
    const nodes = [await node(), await node(), await node()];
    const message: ControlMessage = { type: 'disconnect', user: 'alice', code: 3503, reason: 'force disconnect' };
    await nodes[0]!.broker.control(message);
    for (const n of nodes) {
      await until('the control message', () => n.events.controls().length === 1);
      assert.deepEqual(n.events.controls(), [message]);
    }
  });

  it('nodes of another prefix hear nothing of this one', async () => {
    const mine = await node();
    const other = await node({ prefix: `${PREFIX}other:` });
    const ch = channel();
    await other.broker.subscribe(ch);
    await mine.broker.subscribe(ch);
    await mine.broker.publish(ch, 'x', undefined, LONG);
    await mine.broker.control({ type: 'unsubscribe', user: 'u', channel: ch });
    await until('the control message', () => mine.events.controls().length === 1);
    assert.equal(mine.events.publications(ch).length, 1);
    assert.deepEqual(other.events.events, []);
    assert.equal((await other.broker.history(ch, { limit: 10 }, LONG)).position.offset, 0);
  });

  it('drops pub/sub messages that are not of its format, and goes on', async () => {
    const { broker, events } = await node();
    const ch = channel();
    await broker.subscribe(ch);
    const junk = [
      'not json',
      'null',
      '[]',
      '{"type":"publication"}',
      '{"type":"publication","publication":{"data":1,"info":{"user":1}}}',
      '{"type":"publication","publication":{"data":1,"offset":-1}}',
      '{"type":"publication","publication":{"data":1,"time":"now"}}',
      '{"type":"join","info":null}',
      '{"type":"leave","info":{"client":"c"}}',
      '{"type":"other"}',
    ];
    for (const m of junk) await redis.publish(`${PREFIX}ch:${ch}`, m);
    for (const m of [
      'nope',
      '{"type":"disconnect","user":"u"}',
      '{"type":"unsubscribe","user":"u"}',
      '{"type":"reboot","user":"u"}',
    ]) {
      await redis.publish(`${PREFIX}control`, m);
    }
    await broker.publish(ch, 'valid', undefined, undefined);
    await broker.control({ type: 'unsubscribe', user: 'u', channel: ch });
    await until('the valid messages', () => events.events.length >= 2);
    assert.deepEqual(
      events.events.map((e) => e.kind),
      ['publication', 'control'],
    );
    assert.equal(events.publications(ch)[0]?.data, 'valid');
  });

  it('subscribes again to everything once its subscriber connection is back', async () => {
    const subscriber = connect();
    const id = await subscriber.client('ID');
    const { broker, events } = await node({ subscriber });
    const publisher = await node();
    const ch = channel();
    await broker.subscribe(ch);
    const dropped = new Promise((resolve) => subscriber.once('close', resolve));
    await redis.client('KILL', 'ID', String(id));
    await dropped;
    // Publications sent while it was away are lost (history covers them): keep publishing until one arrives.
    let n = 0;
    await until('a publication after the reconnection', async () => {
      await publisher.broker.publish(ch, ++n, undefined, undefined);
      return events.publications(ch).length > 0;
    });
    await publisher.broker.control({ type: 'unsubscribe', user: 'u', channel: ch });
    await until('a control message after the reconnection', () => events.controls().length > 0);
    // The gateway was told it may have missed some, once.
    assert.equal(events.resyncs, 1);
  });

  it('creates no key when a channel nobody published to is read', async () => {
    const { broker } = await node();
    const ch = channel();
    for (let i = 0; i < 3; i++)
      assert.deepEqual((await broker.history(ch, { limit: 10 }, LONG)).position, { offset: 0, epoch: '' });
    assert.deepEqual(await redis.keys(`${PREFIX}*${ch}`), []);
  });

  it('leaves no key behind once a channel is abandoned', async () => {
    const { broker } = await node();
    const ch = channel();
    await broker.publish(ch, 'x', alice, { size: 5, ttlMs: 200 });
    await broker.addPresence(ch, alice.client, alice, 200);
    const keys = () => redis.keys(`${PREFIX}*${ch}`);
    assert.ok((await keys()).length >= 2);
    await until('the keys to expire', async () => (await keys()).length === 0);
  });

  it('close() quits the subscriber it created, leaves open the connections it was given, and delivers no more', async () => {
    const name = `rt-test-${randomBytes(4).toString('hex')}`;
    const clients = async () =>
      ((await redis.client('LIST')) as string).split('\n').filter((l) => l.includes(` name=${name} `)).length;
    const own = new RedisBroker({ redis: connect({ connectionName: name }), prefix: PREFIX });
    const given = connect({ connectionName: name });
    const lent = new RedisBroker({ redis: connect({ connectionName: name }), subscriber: given, prefix: PREFIX });
    const [ownEvents, lentEvents] = [new Recorder(), new Recorder()];
    await own.start(ownEvents);
    await lent.start(lentEvents);
    const ch = channel();
    await own.subscribe(ch);
    await lent.subscribe(ch);
    await until('four connections', async () => (await clients()) === 4);

    await own.close();
    await own.close();
    await lent.close();
    await lent.close();
    await until('the created subscriber to quit', async () => (await clients()) === 3);
    // The lent subscriber is open, out of subscriber mode (unsubscribed from everything): commands work again.
    assert.equal(given.status, 'ready');
    assert.equal(await given.exists('x'), 0);
    const other = await node();
    await other.broker.subscribe(ch);
    await other.broker.publish(ch, 'after close', undefined, undefined);
    await other.broker.control({ type: 'unsubscribe', user: 'u', channel: ch });
    await until('the control message', () => other.events.controls().length === 1);
    assert.deepEqual([ownEvents.events, lentEvents.events], [[], []]);
  });

  it('refuses a subscriber that would not subscribe again after a reconnection', () => {
    const subscriber = new Redis(REDIS_URL, { lazyConnect: true, autoResubscribe: false });
    assert.throws(() => new RedisBroker({ redis, subscriber }), /autoResubscribe/);
  });
});

describe('withDeadline', () => {
  it("fails a broker call that hangs with BrokerError once the gateway's clock passes the deadline", async () => {
    const clock = new ManualClock();
    const hanging = new MemoryBroker({ now: () => clock.now() });
    hanging.subscribe = () => new Promise<void>(() => undefined);
    const bounded = withDeadline(hanging, 5_000, clock);
    const seen: { outcome: unknown } = { outcome: 'pending' };
    bounded.subscribe('chat:room:deadline').then(
      () => (seen.outcome = 'resolved'),
      (err: unknown) => (seen.outcome = err),
    );
    await clock.advance(4_999);
    assert.equal(seen.outcome, 'pending', 'not before the deadline');
    await clock.advance(1);
    const err: unknown = seen.outcome;
    assert.ok(err instanceof BrokerError, String(err));
    assert.match(err.message, /subscribe took longer than 5000 ms/);
  });
});
