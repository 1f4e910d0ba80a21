import { makeRoom } from '@tessera/verifier/internal';

import type { Config } from '../config/schema.js';

/**
 * Login throttling, after Keycloak's brute-force detector, RFC 9700 section 4.x and OWASP's authentication
 * cheat sheet. Three counters, each with a budget of failures per window:
 *
 * - (username, address): `maxFailures` failures, then that address waits before it may try that username
 *   again (a lock period). Only the address that failed waits: the real user, from an address that has not
 *   failed, goes on logging in.
 * - address, any username: `maxFailuresPerAddress` failures (password spraying from one address).
 * - username, every address: locked for everyone only on evidence of a distributed attack, failures from
 *   `accountLockAddresses` different addresses within the window.
 *
 * Each lock period of a key lasts twice the one before (`lockoutMs`, doubled, up to `maxLockoutMs`): the
 * escalation counts lock periods, never concurrent requests. A key forgets its failures and lock periods
 * after `windowMs` without a failure or a lock.
 *
 * The check and the count are one atomic step: `reserve` takes one attempt from each budget before the
 * password is verified (attempts in flight count against the budget), and `settle` turns it into a failure
 * or gives it back. So at most `maxFailures` passwords are ever verified per (username, address) and window,
 * whatever the concurrency; and while a key is locked nothing is verified at all.
 */
export interface ThrottlePolicy {
  maxFailures: number;
  maxFailuresPerAddress: number;
  accountLockAddresses: number;
  lockoutMs: number;
  maxLockoutMs: number;
  windowMs: number;
}

/** The policy of the configured settings. */
export function throttlePolicy(config: Config): ThrottlePolicy {
  return {
    maxFailures: config.loginMaxFailures,
    maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
    accountLockAddresses: config.loginAccountLockAddresses,
    lockoutMs: config.loginLockoutSeconds * 1000,
    maxLockoutMs: config.loginMaxLockoutSeconds * 1000,
    windowMs: config.loginFailureWindowSeconds * 1000,
  };
}

export type ThrottleScope = 'username_address' | 'address' | 'username';

export interface LoginAttempt {
  /** The normalised username; undefined when it is not a valid one (only the address is counted). */
  username: string | undefined;
  address: string;
}

/** What reserve() hands out: the attempt, and where it was counted (Redis, or this instance as a fallback). */
export interface Ticket {
  readonly attempt: LoginAttempt;
  readonly id: string;
  readonly local: boolean;
}

export type Reservation = { ok: true; ticket: Ticket } | { ok: false; scope: ThrottleScope; retryAfterMs: number };

/** failure: a wrong password, unknown or disabled user; success: released and the pair cleared; abandon: released. */
export type Outcome = 'failure' | 'success' | 'abandon';

/** Login throttling as the password grant uses it: part of Limits (limits.ts), in memory or in Redis. */
export interface Throttle {
  reserve(attempt: LoginAttempt, now: number): Reservation | Promise<Reservation>;
  /** Settles a reservation; returns the scopes whose lock period this failure started. */
  settle(ticket: Ticket, outcome: Outcome, now: number): ThrottleScope[] | Promise<ThrottleScope[]>;
}

/** How long a refused attempt is told to wait when the budget is used up by attempts still in flight. */
export const IN_FLIGHT_RETRY_MS = 1_000;

interface Entry {
  failures: number;
  pending: number;
  lockedUntil: number;
  lockouts: number;
  /** The later of the last failure and the end of the last lock period. */
  lastActivity: number;
  /** Account entries: the addresses that failed within the window (at most accountLockAddresses). */
  addresses?: Set<string>;
}

export function pairKey(username: string, address: string): string {
  return `${username}\u0000${address}`;
}

export function lockPeriodMs(policy: ThrottlePolicy, lockouts: number): number {
  return Math.min(policy.lockoutMs * 2 ** Math.min(lockouts, 40), policy.maxLockoutMs);
}

/** The in-memory login throttle (MemoryLimits holds one; RedisLimits falls back to one). */
export class LoginThrottle implements Throttle {
  private readonly pairs = new Map<string, Entry>();
  private readonly addresses = new Map<string, Entry>();
  private readonly accounts = new Map<string, Entry>();
  private nextId = 0;

  constructor(private readonly policy: ThrottlePolicy) {}

  reserve(attempt: LoginAttempt, now: number): Reservation {
    const { username, address } = attempt;
    const pair = username === undefined ? undefined : this.entry(this.pairs, pairKey(username, address), now);
    const addr = this.entry(this.addresses, address, now);
    // The account is only read here: a username gets an entry on its first failure, not on every login.
    const account = username === undefined ? undefined : this.accounts.get(username);
    const refused =
      (pair && this.refusal(pair, this.policy.maxFailures, now, 'username_address')) ??
      this.refusal(addr, this.policy.maxFailuresPerAddress, now, 'address') ??
      (account && account.lockedUntil > now
        ? { ok: false as const, scope: 'username' as const, retryAfterMs: account.lockedUntil - now }
        : undefined);
    if (refused) return refused;
    if (pair) pair.pending++;
    addr.pending++;
    return { ok: true, ticket: { attempt, id: String(++this.nextId), local: true } };
  }

  settle(ticket: Ticket, outcome: Outcome, now: number): ThrottleScope[] {
    const { username, address } = ticket.attempt;
    const pk = username === undefined ? undefined : pairKey(username, address);
    const pair = pk === undefined ? undefined : this.pairs.get(pk);
    const addr = this.addresses.get(address);
    if (pair) pair.pending = Math.max(pair.pending - 1, 0);
    if (addr) addr.pending = Math.max(addr.pending - 1, 0);
    if (outcome === 'success' && pk !== undefined) this.pairs.delete(pk);
    if (outcome !== 'failure') return [];
    const started: ThrottleScope[] = [];
    if (pk !== undefined && this.fail(this.entry(this.pairs, pk, now), this.policy.maxFailures, now))
      started.push('username_address');
    if (this.fail(this.entry(this.addresses, address, now), this.policy.maxFailuresPerAddress, now)) started.push('address');
    if (username !== undefined) {
      const account = this.entry(this.accounts, username, now);
      account.addresses ??= new Set();
      if (account.lockedUntil <= now && account.addresses.size < this.policy.accountLockAddresses) account.addresses.add(address);
      account.lastActivity = Math.max(account.lastActivity, now);
      if (account.lockedUntil <= now && account.addresses.size >= this.policy.accountLockAddresses) {
        this.lock(account, now);
        account.addresses.clear();
        started.push('username');
      }
    }
    return started;
  }

  private refusal(e: Entry, budget: number, now: number, scope: ThrottleScope): Reservation | undefined {
    if (e.lockedUntil > now) return { ok: false, scope, retryAfterMs: e.lockedUntil - now };
    if (e.failures + e.pending >= budget) return { ok: false, scope, retryAfterMs: IN_FLIGHT_RETRY_MS };
    return undefined;
  }

  /** Counts one failure; true when it starts a lock period. */
  private fail(e: Entry, budget: number, now: number): boolean {
    e.lastActivity = Math.max(e.lastActivity, now);
    if (e.lockedUntil > now) return false;
    e.failures++;
    if (e.failures < budget) return false;
    this.lock(e, now);
    return true;
  }

  private lock(e: Entry, now: number): void {
    e.lockedUntil = now + lockPeriodMs(this.policy, e.lockouts);
    e.lockouts++;
    e.failures = 0;
    e.lastActivity = e.lockedUntil;
  }

  /** The entry of a key, forgotten (failures and lock periods) after a window without activity. */
  private entry(map: Map<string, Entry>, key: string, now: number): Entry {
    let e = map.get(key);
    if (e && e.pending === 0 && now - e.lastActivity > this.policy.windowMs) {
      map.delete(key);
      e = undefined;
    }
    if (!e) {
      this.prune(map, now);
      e = { failures: 0, pending: 0, lockedUntil: 0, lockouts: 0, lastActivity: now };
      map.set(key, e);
    }
    return e;
  }

  /** When the map is full: the forgotten entries go, then the idle ones (never one with an attempt in flight or a lock running). */
  private prune(map: Map<string, Entry>, now: number): void {
    makeRoom(map, [
      (e) => e.pending === 0 && now - e.lastActivity > this.policy.windowMs,
      (e) => e.pending === 0 && e.lockedUntil <= now,
    ]);
  }
}
