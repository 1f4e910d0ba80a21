import { MemoryRateLimiter, type RateLimiter, type RateRule } from '@tessera/verifier/internal';

import {
  LoginThrottle,
  type LoginAttempt,
  type Outcome,
  type Reservation,
  type Throttle,
  type ThrottlePolicy,
  type ThrottleScope,
  type Ticket,
} from './throttle.js';

/**
 * Every budget the server keeps, behind one interface with two implementations: in this process
 * (MemoryLimits), or in Redis across instances (RedisLimits, which falls back to a MemoryLimits while Redis
 * cannot be reached). Rates (`take`: the token endpoint per address and client, the audit of refusals per
 * address) and the login throttle (`reserve` before the password is checked, `settle` after: see
 * throttle.ts), each operation one atomic step.
 */
export interface Limits extends RateLimiter, Throttle {}

/** The token endpoint's rule: `tokenRateLimit` requests per second (0: no limit). */
export function perSecond(limit: number): RateRule {
  return { limit, windowMs: 1000 };
}

/** The in-process Limits: a MemoryRateLimiter and a LoginThrottle. */
export class MemoryLimits implements Limits {
  private readonly rates = new MemoryRateLimiter();
  private readonly logins: LoginThrottle;

  constructor(policy: ThrottlePolicy) {
    this.logins = new LoginThrottle(policy);
  }

  take(key: string, rule: RateRule, now: number): boolean {
    return this.rates.take(key, rule, now);
  }

  reserve(attempt: LoginAttempt, now: number): Reservation {
    return this.logins.reserve(attempt, now);
  }

  settle(ticket: Ticket, outcome: Outcome, now: number): ThrottleScope[] {
    return this.logins.settle(ticket, outcome, now);
  }
}
