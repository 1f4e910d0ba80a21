import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { MAX_LOCKOUT_MS, type LoginThrottle, type Throttle } from './throttle.js';
import type { Limiter, RateLimiter } from './rate-limit.js';

/** One failure, atomically: the same rules as LoginThrottle.fail (see throttle.ts). Returns 1 when it starts a lockout. */
const FAIL = `
local now = tonumber(ARGV[1]); local maxFailures = tonumber(ARGV[2]); local lockout = tonumber(ARGV[3]); local cap = tonumber(ARGV[4])
local e = redis.call('HMGET', KEYS[1], 'failures', 'lockedUntil', 'lockouts', 'lastFailure')
local failures = tonumber(e[1]) or 0
local lockedUntil = tonumber(e[2]) or 0
local lockouts = tonumber(e[3]) or 0
local last = tonumber(e[4]) or now
if now - last > lockout then failures = 0 end
failures = failures + 1
local started = 0
if failures >= maxFailures then
  lockedUntil = now + math.min(lockout * 2 ^ lockouts, cap)
  lockouts = lockouts + 1
  failures = 0
  started = 1
end
redis.call('HSET', KEYS[1], 'failures', failures, 'lockedUntil', lockedUntil, 'lockouts', lockouts, 'lastFailure', now)
redis.call('PEXPIRE', KEYS[1], math.max(lockedUntil - now, 0) + cap)
return started`;

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return n`;

/**
 * Redis is shared state here, not a dependency: when it cannot be reached, each instance counts on its own
 * (the in-memory limiter it falls back to), so throttling weakens to per instance and never switches off.
 */
function degrade(log: FastifyBaseLogger, what: string) {
  let warned = 0;
  return (err: unknown) => {
    const now = Date.now();
    if (now - warned > 60_000) {
      warned = now;
      log.warn({ error: (err as Error).message }, `${what}: redis unreachable, counting on this instance only`);
    }
  };
}

/** Login throttling shared by every instance through Redis (hash per key, updated by one Lua script). */
export class RedisLoginThrottle implements Throttle {
  private readonly onError: (err: unknown) => void;

  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly maxFailures: number,
    private readonly lockoutMs: number,
    private readonly local: LoginThrottle,
    log: FastifyBaseLogger,
  ) {
    this.onError = degrade(log, `login throttle (${name})`);
  }

  private key(k: string): string {
    return `tessera:throttle:${this.name}:${k}`;
  }

  async isLocked(key: string, now: number): Promise<boolean> {
    try {
      const until = await this.redis.hget(this.key(key), 'lockedUntil');
      return (until !== null && Number(until) > now) || (await this.local.isLocked(key, now));
    } catch (err) {
      this.onError(err);
      return this.local.isLocked(key, now);
    }
  }

  async fail(key: string, now: number): Promise<boolean> {
    try {
      const started = await this.redis.eval(FAIL, 1, this.key(key), now, this.maxFailures, this.lockoutMs, MAX_LOCKOUT_MS);
      return started === 1;
    } catch (err) {
      this.onError(err);
      return this.local.fail(key, now);
    }
  }

  async succeed(key: string): Promise<void> {
    await this.local.succeed(key);
    try {
      await this.redis.del(this.key(key));
    } catch (err) {
      this.onError(err);
    }
  }
}

/** Fixed one-second windows counted in Redis across instances; 0 disables. */
export class RedisRateLimiter implements Limiter {
  private readonly onError: (err: unknown) => void;

  constructor(
    private readonly redis: Redis,
    private readonly perSecond: number,
    private readonly local: RateLimiter,
    log: FastifyBaseLogger,
  ) {
    this.onError = degrade(log, 'rate limit');
  }

  async hit(key: string, now: number): Promise<boolean> {
    if (this.perSecond <= 0) return true;
    try {
      const n = await this.redis.eval(HIT, 1, `tessera:rate:${key}:${Math.floor(now / 1000)}`);
      return Number(n) <= this.perSecond;
    } catch (err) {
      this.onError(err);
      return this.local.hit(key, now);
    }
  }
}
