/**
 * Login throttling, per username and per source address: after `maxFailures` failures the key is locked
 * out for `lockoutMs`, and each further lockout of the same key doubles the duration (backoff), up to a day.
 * A success clears the username's record. In memory: one instance (the Redis-backed variant shares it).
 */
interface Entry {
  failures: number;
  lockedUntil: number;
  lockouts: number;
  lastFailure: number;
}

export const MAX_LOCKOUT_MS = 86_400_000;
const MAX_ENTRIES = 100_000;

/** Login throttling as the password grant uses it: this in-memory one, or the Redis one shared by instances. */
export interface Throttle {
  isLocked(key: string, now: number): boolean | Promise<boolean>;
  /** Records a failure; true when this failure started a lockout. */
  fail(key: string, now: number): boolean | Promise<boolean>;
  succeed(key: string): void | Promise<void>;
}

export class LoginThrottle implements Throttle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxFailures: number,
    private readonly lockoutMs: number,
  ) {}

  isLocked(key: string, now: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && e.lockedUntil > now;
  }

  /** Records a failure; returns true when this failure started a lockout. */
  fail(key: string, now: number): boolean {
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size >= MAX_ENTRIES) this.prune(now);
      e = { failures: 0, lockedUntil: 0, lockouts: 0, lastFailure: now };
      this.entries.set(key, e);
    }
    // Failures older than a lockout period no longer count towards the next one.
    if (now - e.lastFailure > this.lockoutMs) e.failures = 0;
    e.failures++;
    e.lastFailure = now;
    if (e.failures >= this.maxFailures) {
      e.lockedUntil = now + Math.min(this.lockoutMs * 2 ** e.lockouts, MAX_LOCKOUT_MS);
      e.lockouts++;
      e.failures = 0;
      return true;
    }
    return false;
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.lockedUntil <= now && now - e.lastFailure > this.lockoutMs) this.entries.delete(k);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}
