import { makeRoom } from './bounded-map.js';

/**
 * How many hits a key may take:
 * - fixed windows: at most `limit` hits in each window of `windowMs` (windows aligned on the clock's zero, so
 *   that every instance counting in Redis agrees on them); `limit` 0 or less: no limit;
 * - a token bucket: `burst` hits at once, then `rate` per second.
 */
export type RateRule = { readonly limit: number; readonly windowMs: number } | { readonly rate: number; readonly burst: number };

/**
 * Rate limiting, wherever hits are counted: in this process (MemoryRateLimiter), or in Redis across the
 * auth server's instances. A key is counted under one rule; callers keep their keys apart by a prefix.
 */
export interface RateLimiter {
  /** Takes one hit from the budget of `key` under `rule` at `now` (ms); false when the budget is spent. */
  take(key: string, rule: RateRule, now: number): boolean | Promise<boolean>;
}

interface Entry {
  /** Hits in the window, or tokens left in the bucket. */
  n: number;
  /** The window's index, or when the bucket was last counted. */
  at: number;
  /** From then on the entry tells nothing (the window is over, the bucket full again): it may be dropped. */
  idleAt: number;
}

/** The in-process RateLimiter, its memory bounded: idle entries go first, then the oldest. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly entries = new Map<string, Entry>();

  take(key: string, rule: RateRule, now: number): boolean {
    return 'windowMs' in rule ? this.window(key, rule.limit, rule.windowMs, now) : this.bucket(key, rule.rate, rule.burst, now);
  }

  private window(key: string, limit: number, windowMs: number, now: number): boolean {
    if (limit <= 0) return true;
    const w = Math.floor(now / windowMs);
    let e = this.entries.get(key);
    if (e === undefined || e.at !== w) e = this.add(key, { n: 0, at: w, idleAt: (w + 1) * windowMs }, now);
    e.n++;
    return e.n <= limit;
  }

  private bucket(key: string, rate: number, burst: number, now: number): boolean {
    const e = this.entries.get(key) ?? this.add(key, { n: burst, at: now, idleAt: now }, now);
    e.n = Math.min(burst, e.n + (Math.max(now - e.at, 0) / 1000) * rate);
    e.at = now;
    const ok = e.n >= 1;
    if (ok) e.n -= 1;
    e.idleAt = rate > 0 ? now + ((burst - e.n) / rate) * 1000 : Infinity;
    return ok;
  }

  private add(key: string, e: Entry, now: number): Entry {
    if (!this.entries.has(key)) makeRoom(this.entries, [(idle) => idle.idleAt <= now]);
    this.entries.set(key, e);
    return e;
  }
}
