import type { Clock } from './clock.js';

/**
 * A token bucket per connection: `burst` at once, then `rate` per second. It guards what one client may
 * ask of this node (publications, token verifications), so it lives in the connection's memory and needs no
 * shared store.
 */
export class RateBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
