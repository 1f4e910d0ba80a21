import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import type { RateRule } from '@tessera/verifier/internal';

import type { Limits, MemoryLimits } from './limits.js';
import {
  IN_FLIGHT_RETRY_MS,
  pairKey,
  type LoginAttempt,
  type Outcome,
  type Reservation,
  type ThrottlePolicy,
  type ThrottleScope,
  type Ticket,
} from './throttle.js';

/** Shared by both scripts: a key's state, forgotten after a window without activity (see throttle.ts). */
const COMMON = `
local now = tonumber(ARGV[1]); local window = tonumber(ARGV[2]); local maxPair = tonumber(ARGV[3])
local maxAddr = tonumber(ARGV[4]); local accountAddrs = tonumber(ARGV[5]); local lockout = tonumber(ARGV[6])
local cap = tonumber(ARGV[7]); local id = ARGV[8]; local hasUser = ARGV[9] == '1'
local function load(h)
  local e = redis.call('HMGET', h, 'failures', 'lockedUntil', 'lockouts', 'last')
  local s = { failures = tonumber(e[1]) or 0, lu = tonumber(e[2]) or 0, lockouts = tonumber(e[3]) or 0, last = tonumber(e[4]) or now }
  s.stale = e[4] == false or (now - s.last > window and s.lu <= now)
  if s.stale then s.failures = 0; s.lockouts = 0; s.last = now end
  return s
end`;

/**
 * reserve(): KEYS = pair hash, pair in-flight set, address hash, address in-flight set, account hash. Refuses
 * ({scope, ms}; ms -1: the budget is taken by attempts in flight) or records one attempt in flight ({0, 0}).
 * An attempt in flight expires after ARGV[10] ms, so an instance killed mid-login holds a slot that long only.
 */
const RESERVE = `${COMMON}
local hold = tonumber(ARGV[10])
local function refusal(h, p, budget)
  redis.call('ZREMRANGEBYSCORE', p, '-inf', now)
  local s = load(h)
  if s.lu > now then return s.lu - now end
  if s.failures + redis.call('ZCARD', p) >= budget then return -1 end
  return nil
end
local r
if hasUser then r = refusal(KEYS[1], KEYS[2], maxPair); if r then return { 1, r } end end
r = refusal(KEYS[3], KEYS[4], maxAddr); if r then return { 2, r } end
if hasUser then
  local lu = tonumber(redis.call('HGET', KEYS[5], 'lockedUntil')) or 0
  if lu > now then return { 3, lu - now } end
  redis.call('ZADD', KEYS[2], now + hold, id); redis.call('PEXPIRE', KEYS[2], hold * 2)
end
redis.call('ZADD', KEYS[4], now + hold, id); redis.call('PEXPIRE', KEYS[4], hold * 2)
return { 0, 0 }`;

/**
 * settle(): KEYS as reserve's, and the account's set of failing addresses. Releases the attempt in flight; a
 * success clears the pair; a failure is counted on the three keys. Returns the scopes whose lock period it started.
 */
const SETTLE = `${COMMON}
local outcome = ARGV[10]; local address = ARGV[11]
if hasUser then redis.call('ZREM', KEYS[2], id) end
redis.call('ZREM', KEYS[4], id)
if outcome == 'success' and hasUser then redis.call('DEL', KEYS[1]) end
if outcome ~= 'failure' then return {} end
local started = {}
local function period(lockouts) return math.min(lockout * 2 ^ math.min(lockouts, 40), cap) end
local function save(h, s)
  redis.call('HSET', h, 'failures', s.failures, 'lockedUntil', s.lu, 'lockouts', s.lockouts, 'last', s.last)
  redis.call('PEXPIRE', h, math.max(s.last - now, 0) + window)
end
local function lock(s) s.lu = now + period(s.lockouts); s.lockouts = s.lockouts + 1; s.failures = 0; s.last = s.lu end
local function fail(h, budget, scope)
  local s = load(h)
  if s.last < now then s.last = now end
  if s.lu <= now then
    s.failures = s.failures + 1
    if s.failures >= budget then lock(s); table.insert(started, scope) end
  end
  save(h, s)
end
if hasUser then fail(KEYS[1], maxPair, 1) end
fail(KEYS[3], maxAddr, 2)
if hasUser then
  local s = load(KEYS[5])
  if s.stale then redis.call('DEL', KEYS[6]) end
  if s.last < now then s.last = now end
  if s.lu <= now then
    if redis.call('SCARD', KEYS[6]) < accountAddrs then redis.call('SADD', KEYS[6], address) end
    if redis.call('SCARD', KEYS[6]) >= accountAddrs then lock(s); redis.call('DEL', KEYS[6]); table.insert(started, 3) end
  end
  save(KEYS[5], s)
  redis.call('PEXPIRE', KEYS[6], math.max(s.last - now, 0) + window)
end
return started`;

/** An attempt in flight that is never settled (its instance died) frees its slot after this long. */
const HOLD_MS = 30_000;
const SCOPES: Record<number, ThrottleScope> = { 1: 'username_address', 2: 'address', 3: 'username' };

/**
 * take(): KEYS = the key's counter (of its window: the window's index is in the key name, or of its bucket).
 * ARGV = now, 'window', limit, windowMs; or now, 'bucket', rate, burst. Returns 1 when the hit is within the
 * budget, else 0 (the same arithmetic as MemoryRateLimiter).
 */
const TAKE = `
local now = tonumber(ARGV[1])
if ARGV[2] == 'window' then
  local n = redis.call('INCR', KEYS[1])
  if n == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) * 2) end
  if n <= tonumber(ARGV[3]) then return 1 end
  return 0
end
local rate = tonumber(ARGV[3]); local burst = tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1]) or burst; local at = tonumber(s[2]) or now
tokens = math.min(burst, tokens + math.max(now - at, 0) / 1000 * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
local full = 60000
if rate > 0 then full = math.ceil((burst - tokens) / rate * 1000) end
redis.call('PEXPIRE', KEYS[1], full + 1000)
return ok`;

/**
 * Redis is shared state here, not a dependency: when it cannot be reached, each instance counts on its own
 * (the in-memory limiter it falls back to), so throttling weakens to per instance and never switches off.
 */
function degrade(log: FastifyBaseLogger) {
  let warned = 0;
  return (err: unknown) => {
    const now = Date.now();
    if (now - warned > 60_000) {
      warned = now;
      log.warn({ error: (err as Error).message }, 'limits: redis unreachable, counting on this instance only');
    }
  };
}

/**
 * The Limits shared by every instance through Redis: the same rules as MemoryLimits (the rates of
 * MemoryRateLimiter, the login throttle of LoginThrottle), each operation one Lua script over its keys, so
 * that the check and the count are one atomic step across instances.
 */
export class RedisLimits implements Limits {
  private readonly onError: (err: unknown) => void;

  constructor(
    private readonly redis: Redis,
    private readonly policy: ThrottlePolicy,
    private readonly local: MemoryLimits,
    log: FastifyBaseLogger,
  ) {
    this.onError = degrade(log);
  }

  async take(key: string, rule: RateRule, now: number): Promise<boolean> {
    const windowed = 'windowMs' in rule;
    if (windowed && rule.limit <= 0) return true;
    try {
      const args = windowed ? ['window', rule.limit, rule.windowMs] : ['bucket', rule.rate, rule.burst];
      const name = windowed ? `tessera:rate:${key}:${Math.floor(now / rule.windowMs)}` : `tessera:bucket:${key}`;
      return (await this.redis.eval(TAKE, 1, name, now, ...args)) === 1;
    } catch (err) {
      this.onError(err);
      return this.local.take(key, rule, now);
    }
  }

  private keys({ username, address }: LoginAttempt): string[] {
    const p = 'tessera:login:';
    // Without a (valid) username the user keys are never touched: any names will do.
    const u = username ?? '';
    const pair = `${p}pair:${pairKey(u, address)}`;
    return [
      pair,
      `${pair}:inflight`,
      `${p}address:${address}`,
      `${p}address:${address}:inflight`,
      `${p}user:${u}`,
      `${p}user:${u}:addresses`,
    ];
  }

  private args(attempt: LoginAttempt, now: number, id: string): (string | number)[] {
    const { maxFailures, maxFailuresPerAddress, accountLockAddresses, lockoutMs, maxLockoutMs, windowMs } = this.policy;
    const hasUser = attempt.username === undefined ? '0' : '1';
    return [now, windowMs, maxFailures, maxFailuresPerAddress, accountLockAddresses, lockoutMs, maxLockoutMs, id, hasUser];
  }

  async reserve(attempt: LoginAttempt, now: number): Promise<Reservation> {
    const id = randomUUID();
    try {
      const keys = this.keys(attempt).slice(0, 5);
      const [scope, ms] = (await this.redis.eval(RESERVE, 5, ...keys, ...this.args(attempt, now, id), HOLD_MS)) as [
        number,
        number,
      ];
      if (scope === 0) return { ok: true, ticket: { attempt, id, local: false } };
      return { ok: false, scope: SCOPES[scope]!, retryAfterMs: ms < 0 ? IN_FLIGHT_RETRY_MS : ms };
    } catch (err) {
      this.onError(err);
      return this.local.reserve(attempt, now);
    }
  }

  async settle(ticket: Ticket, outcome: Outcome, now: number): Promise<ThrottleScope[]> {
    if (ticket.local) return this.local.settle(ticket, outcome, now);
    const { attempt } = ticket;
    try {
      const keys = this.keys(attempt);
      const started = (await this.redis.eval(
        SETTLE,
        6,
        ...keys,
        ...this.args(attempt, now, ticket.id),
        outcome,
        attempt.address,
      )) as number[];
      return started.map((s) => SCOPES[s]!);
    } catch (err) {
      this.onError(err);
      return this.local.settle(ticket, outcome, now);
    }
  }
}
