/**
 * Two gateway nodes, each with its own RedisBroker on one Redis (127.0.0.1:6379, or TESSERA_TEST_REDIS),
 * and clients of the `centrifuge` SDK on either: publications, presence and the server API's disconnect
 * cross from node to node. Without Redis the suite is skipped with the reason, except in CI (CI=true),
 * where it fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { generateKey } from '@tessera/core';
import { RedisBroker } from '@tessera/realtime';
import { until } from '@tessera/testing';
import type { Centrifuge, Subscription } from 'centrifuge';
import { Redis } from 'ioredis';

import { once, startGateway, type Harness } from './helpers/gateway.js';
import { REDIS_MISSING, REDIS_URL, redisAvailable, skipWithoutRedis, uniquePrefix } from './helpers/redis.js';

const skip = await skipWithoutRedis('two-nodes tests');

const CHAT = ['chat:room:*:subscribe', 'chat:room:*:publish', 'chat:room:*:presence'];

interface Publication {
  data: unknown;
  info?: { user: string; client: string };
  offset?: number;
}

describe('two gateway nodes on one Redis', { skip, timeout: 30_000 }, () => {
  const connections: Redis[] = [];
  let a: Harness;
  let b: Harness;

  before(async () => {
    assert.ok(await redisAvailable(), `${REDIS_MISSING} (required when CI=true)`);
    // One signing key, so a token is good on either node; one prefix of this run's own, shared by both.
    const key = await generateKey('EdDSA');
    const prefix = uniquePrefix();
    const broker = () => {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      connections.push(redis);
      return new RedisBroker({ redis, prefix });
    };
    a = await startGateway({ key, nodeId: 'a', broker: broker() });
    b = await startGateway({ key, nodeId: 'b', broker: broker() });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    for (const r of connections) r.disconnect();
  });

  /** A connected client of `node`. */
  async function client(node: Harness, user: string, scopes: readonly string[]): Promise<{ c: Centrifuge; id: string }> {
    const c = node.client({ token: node.token(user, scopes) });
    const connected = once<{ client: string }>(c, 'connected');
    c.connect();
    return { c, id: (await connected).client };
  }

  async function subscribe(c: Centrifuge, channel: string): Promise<Subscription> {
    const sub = c.newSubscription(channel);
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    return sub;
  }

  it('a publication of a client on node A reaches a subscriber on node B', async () => {
    const sender = await client(a, 'alice', CHAT);
    const receiver = await client(b, 'bob', CHAT);
    const sub = await subscribe(receiver.c, 'chat:room:ab');
    const got = once<Publication>(sub, 'publication');
    await sender.c.publish('chat:room:ab', { text: 'from A' });
    const pub = await got;
    assert.deepEqual(pub.data, { text: 'from A' });
    assert.deepEqual(pub.info, { user: 'alice', client: sender.id });
    assert.equal(pub.offset, 1);
  });

  it('a publication through the server API of node B reaches a subscriber on node A', async () => {
    const receiver = await client(a, 'carol', [...CHAT, 'news:*:subscribe']);
    const chat = await subscribe(receiver.c, 'chat:room:ba');
    const news = await subscribe(receiver.c, 'news:ba');
    const publish = async (channel: string, data: unknown) => {
      const res = await fetch(`${b.url}/api/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${b.token('backend', ['realtime:publish'])}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel, data }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { result: Record<string, unknown> }).result;
    };

    const onChat = once<Publication>(chat, 'publication');
    const result = await publish('chat:room:ba', { text: 'from the API of B' });
    const pub = await onChat;
    assert.deepEqual([pub.data, pub.info, pub.offset], [{ text: 'from the API of B' }, undefined, 1]);
    assert.equal(result.offset, 1);
    assert.equal(typeof result.epoch, 'string');

    const onNews = once<Publication>(news, 'publication');
    assert.deepEqual(await publish('news:ba', 'no history'), {});
    assert.deepEqual((await onNews).data, 'no history');
  });

  it('presence of a channel lists the clients of both nodes, and joins and leaves cross', async () => {
    const onA = await client(a, 'dora', CHAT);
    const onB = await client(b, 'erin', CHAT);
    const subA = await subscribe(onA.c, 'chat:room:presence');
    const joined = once<{ info: { user: string; client: string } }>(subA, 'join', 5_000, (e) => e.info.user === 'erin');
    const subB = await subscribe(onB.c, 'chat:room:presence');
    assert.deepEqual((await joined).info, { user: 'erin', client: onB.id });

    const expected = { [onA.id]: { user: 'dora', client: onA.id }, [onB.id]: { user: 'erin', client: onB.id } };
    for (const sub of [subA, subB]) assert.deepEqual((await sub.presence()).clients, expected);
    for (const node of [a, b]) assert.deepEqual({ ...(await node.gateway.presence('chat:room:presence')) }, expected);

    const left = once<{ info: { user: string } }>(subA, 'leave', 5_000, (e) => e.info.user === 'erin');
    subB.unsubscribe();
    await left;
    assert.deepEqual((await subA.presence()).clients, { [onA.id]: { user: 'dora', client: onA.id } });
  });

  it("disconnectUser on node A disconnects the user's connections on node B (3503), and no one else", async () => {
    const onA = await client(a, 'frank', []);
    const onB = await client(b, 'frank', []);
    const bystander = await client(b, 'grace', ['news:*:subscribe']);
    const gone = [once<{ code: number }>(onA.c, 'disconnected'), once<{ code: number }>(onB.c, 'disconnected')];
    await a.gateway.disconnectUser('frank');
    for (const ctx of await Promise.all(gone)) assert.equal(ctx.code, 3503);
    // The other user's connection on node B still answers.
    await subscribe(bystander.c, 'news:still-here');
    assert.equal(bystander.c.state, 'connected');
  });
});

describe('a node whose Redis subscription dropped', { skip, timeout: 30_000 }, () => {
  it('tells subscribers of history channels to resubscribe (2500), and they recover what the node missed', async () => {
    const key = await generateKey('EdDSA');
    const prefix = uniquePrefix();
    const redisA = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const subscriberA = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const redisB = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const id = await subscriberA.client('ID');
    const a = await startGateway({
      key,
      nodeId: 'a',
      broker: new RedisBroker({ redis: redisA, subscriber: subscriberA, prefix }),
    });
    const b = await startGateway({ key, nodeId: 'b', broker: new RedisBroker({ redis: redisB, prefix }) });
    try {
      const c = a.client({ token: a.token('fay', CHAT) });
      c.connect();
      const sub = c.newSubscription('chat:room:gap');
      const seen: unknown[] = [];
      sub.on('publication', (p: Publication) => seen.push(p.data));
      sub.subscribe();
      await once(sub, 'subscribed');
      await b.gateway.publish('chat:room:gap', 'before');
      // Node A's pub/sub connection goes; B publishes while A cannot hear it.
      const dropped = new Promise((resolve) => subscriberA.once('close', resolve));
      await redisB.client('KILL', 'ID', String(id));
      await dropped;
      await b.gateway.publish('chat:room:gap', 'during');
      const resubscribed = await once<{ wasRecovering: boolean; recovered: boolean }>(sub, 'subscribed', 10_000);
      assert.equal(resubscribed.wasRecovering, true);
      assert.equal(resubscribed.recovered, true);
      await until('the publication made during the gap', () => seen.includes('during'));
      assert.deepEqual(seen, ['before', 'during']);
      c.disconnect();
    } finally {
      await a.close();
      await b.close();
      for (const r of [redisA, subscriberA, redisB]) r.disconnect();
    }
  });
});
