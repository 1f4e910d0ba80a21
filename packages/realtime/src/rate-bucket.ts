import { MemoryRateLimiter, type RateRule } from '@tessera/verifier/internal';

import type { Clock } from './clock.js';

/**
 * A token bucket per connection: `burst` at once, then `rate` per second. It guards what one client may
 * ask of this node (publications, token verifications), so it lives in the connection's memory and needs no
 * shared store. The counting is @tessera/verifier's MemoryRateLimiter, the same the auth server uses.
 */
export class RateBucket {
  private readonly limiter = new MemoryRateLimiter();
  private readonly rule: RateRule;

  constructor(
    rate: number,
    burst: number,
    private readonly clock: Clock,
  ) {
    this.rule = { rate, burst };
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    return this.limiter.take('bucket', this.rule, this.clock.now());
  }
}
