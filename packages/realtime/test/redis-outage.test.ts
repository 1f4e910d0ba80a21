/**
 * Redis, the broker of a gateway node, killed and started again (a redis-server of the test's own): the
 * connections stay and keep refreshing their tokens, broker calls fail fast with a temporary error, and
 * once Redis is back the node makes its history subscribers resubscribe.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { RedisBroker } from '@tessera/realtime';
import { RedisProcess, redisServerAvailable, until } from '@tessera/testing';
import { Redis } from 'ioredis';

import { once, startGateway, type Harness } from './helpers/gateway.js';
import { REDIS_REQUIRED } from './helpers/redis.js';

const CHAT = ['chat:room:*:subscribe', 'chat:room:*:publish', 'chat:room:*:history'];

const skip = (await redisServerAvailable()) || REDIS_REQUIRED ? false : 'redis-server is not installed';
if (skip) console.log(`# Redis outage tests skipped: ${skip}`);

describe("the broker's Redis goes away and comes back", { skip, timeout: 60_000 }, () => {
  let redisServer: RedisProcess;
  let redis: Redis;
  let h: Harness;

  before(async () => {
    redisServer = await RedisProcess.start();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    h = await startGateway({ broker: new RedisBroker({ redis }), limits: { brokerTimeoutMs: 1_000 } });
  });
  after(async () => {
    await h?.close();
    redis?.disconnect();
    await redisServer?.kill();
  });

  it('connections stay and refresh; publish fails with 100 (temporary); after Redis is back, history subscribers resubscribe', async () => {
    let refreshes = 0;
    const c = h.client({
      token: h.token('ola', CHAT, 1.3),
      getToken: async () => {
        refreshes++;
        return h.token('ola', CHAT, 1.3);
      },
    });
    let disconnects = 0;
    c.on('disconnected', () => disconnects++);
    c.on('connecting', (e: { code: number }) => {
      if (e.code !== 0) disconnects++;
    });
    c.connect();
    await once(c, 'connected');
    const sub = c.newSubscription('chat:room:outage');
    sub.subscribe();
    await once(sub, 'subscribed');

    const got1 = once<{ data: unknown }>(sub, 'publication', 5_000);
    await sub.publish('before');
    assert.equal((await got1).data, 'before');

    await redisServer.kill();
    const started = Date.now();
    await assert.rejects(
      sub.publish('while down'),
      (e: { code: number; temporary?: boolean }) => e.code === 100 && e.temporary === true,
    );
    assert.ok(Date.now() - started < 4_000, 'failed fast, within the broker timeout');
    // The server API: 503, not a hang.
    const api = await fetch(`${h.url}/api/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token('svc', ['realtime:publish'])}` },
      body: JSON.stringify({ channel: 'chat:room:outage', data: 1 }),
    });
    assert.equal(api.status, 503);
    assert.equal(api.headers.get('retry-after'), '5');
    // The SDK refreshes its 1.3 s tokens on its own real-time timer: wait for two refreshes during the outage.
    const before = refreshes;
    await until('the token refreshed twice on the live connection while Redis is down', () => refreshes >= before + 2, 10_000);
    assert.equal(disconnects, 0);
    assert.equal(c.state, 'connected');

    const resubscribed = once<{ wasRecovering: boolean; recovered: boolean }>(sub, 'subscribed', 15_000);
    await redisServer.start();
    const ctx = await resubscribed;
    assert.equal(ctx.wasRecovering, true);
    // This Redis kept nothing (no persistence): the client is told so.
    assert.equal(ctx.recovered, false);
    const got = once<{ data: unknown }>(sub, 'publication', 5_000);
    await sub.publish('after');
    assert.equal((await got).data, 'after');
    assert.equal(disconnects, 0);
    c.disconnect();
  });
});
