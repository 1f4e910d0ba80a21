/**
 * The Limits contract, run against both implementations: MemoryLimits and RedisLimits on a redis-server of
 * the test's own. The same calls at the same (injected) times must give the same answers, so that an
 * instance falling back to memory while Redis is away counts by the same rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  IN_FLIGHT_RETRY_MS,
  MemoryLimits,
  perSecond,
  RedisLimits,
  type Limits,
  type ThrottlePolicy,
} from '@tessera/server/internal';
import { RedisProcess, redisServerAvailable } from '@tessera/testing';
import { Redis } from 'ioredis';
import Fastify from 'fastify';

const POLICY: ThrottlePolicy = {
  maxFailures: 2,
  maxFailuresPerAddress: 100,
  accountLockAddresses: 10,
  lockoutMs: 60_000,
  maxLockoutMs: 600_000,
  windowMs: 900_000,
};

/** A time at the start of a one-second window, far from any other test's keys. */
const T0 = 1_000_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;

function contract(name: string, make: () => Promise<{ limits: Limits; close: () => Promise<void> }>, skip: string | false) {
  describe(`Limits contract: ${name}`, { skip }, () => {
    let limits: Limits;
    let close: () => Promise<void>;
    let n = 0;
    /** A key of its own per test: the implementations keep state across tests. */
    const key = () => `contract:${T0}:${++n}`;
    before(async () => ({ limits, close } = await make()));
    after(() => close());

    const takes = async (k: string, rule: Parameters<Limits['take']>[1], now: number, count: number) => {
      const answers: boolean[] = [];
      for (let i = 0; i < count; i++) answers.push(await limits.take(k, rule, now));
      return answers;
    };

    it('fixed windows: `limit` hits per window, a new window starts afresh', async () => {
      const k = key();
      assert.deepEqual(await takes(k, perSecond(3), T0 + 10, 4), [true, true, true, false]);
      assert.deepEqual(await takes(k, perSecond(3), T0 + 999, 1), [false]);
      assert.deepEqual(await takes(k, perSecond(3), T0 + 1000, 4), [true, true, true, false]);
    });

    it('fixed windows: keys are counted apart, and limit 0 is no limit', async () => {
      const a = key();
      const b = key();
      assert.deepEqual(await takes(a, perSecond(1), T0, 2), [true, false]);
      assert.deepEqual(await takes(b, perSecond(1), T0, 1), [true]);
      assert.deepEqual(await takes(key(), perSecond(0), T0, 5), [true, true, true, true, true]);
    });

    it('token bucket: `burst` at once, then `rate` per second, never above `burst`', async () => {
      const k = key();
      const rule = { rate: 2, burst: 3 };
      assert.deepEqual(await takes(k, rule, T0, 4), [true, true, true, false]);
      assert.deepEqual(await takes(k, rule, T0 + 499, 1), [false]);
      assert.deepEqual(await takes(k, rule, T0 + 500, 2), [true, false]);
      assert.deepEqual(await takes(k, rule, T0 + 60_000, 4), [true, true, true, false]);
    });

    it('login throttle: attempts in flight take the budget before any password is checked; settling gives it back', async () => {
      const attempt = { username: `user-${T0}-${++n}`, address: '192.0.2.7' };
      const first = await limits.reserve(attempt, T0);
      const second = await limits.reserve(attempt, T0);
      assert.ok(first.ok && second.ok);
      assert.deepEqual(await limits.reserve(attempt, T0), {
        ok: false,
        scope: 'username_address',
        retryAfterMs: IN_FLIGHT_RETRY_MS,
      });
      assert.deepEqual(await limits.settle(first.ticket, 'abandon', T0), []);
      const third = await limits.reserve(attempt, T0);
      assert.ok(third.ok);
      assert.deepEqual(await limits.settle(second.ticket, 'failure', T0), []);
      assert.deepEqual(await limits.settle(third.ticket, 'failure', T0 + 1), ['username_address']);
      assert.deepEqual(await limits.reserve(attempt, T0 + 2), { ok: false, scope: 'username_address', retryAfterMs: 59_999 });
    });
  });
}

contract('memory', async () => ({ limits: new MemoryLimits(POLICY), close: async () => {} }), false);

const redisReady = await redisServerAvailable();
contract(
  'Redis',
  async () => {
    const server = await RedisProcess.start();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const limits = new RedisLimits(redis, POLICY, new MemoryLimits(POLICY), Fastify({ logger: false }).log);
    return {
      limits,
      close: async () => {
        redis.disconnect();
        await server.kill();
      },
    };
  },
  redisReady || process.env.CI === 'true' ? false : 'redis-server is not installed',
);
