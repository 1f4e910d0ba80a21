/**
 * The machine's Redis for tests. With CI=true a Redis that does not answer fails the tests that need it;
 * elsewhere they skip with a visible notice.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TESSERA_TEST_REDIS ?? 'redis://127.0.0.1:6379';
export const REDIS_MISSING = `Redis is not reachable at ${REDIS_URL}`;
export const REDIS_REQUIRED = process.env.CI === 'true';

/** Whether Redis answers within a few seconds. */
export async function redisAvailable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * For `describe(name, { skip }, ...)`: false when Redis answers or is required (the tests then fail on
 * their own if it does not), else the notice, printed once.
 */
export async function skipWithoutRedis(what: string): Promise<false | string> {
  if (REDIS_REQUIRED || (await redisAvailable())) return false;
  console.log(`# ${what} skipped: ${REDIS_MISSING}`);
  return REDIS_MISSING;
}

/** A key and channel prefix of this run only, so test files running at the same time do not meet. */
export function uniquePrefix(): string {
  return `tessera:rt:test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}
