/** Fixed one-second windows per key: at most `perSecond` hits; 0 disables. In memory, per instance. */
/** The token endpoint's limiter: this in-memory one, or the Redis one shared by instances. */
export interface Limiter {
  /** Counts a hit; false when the key is over its limit in this second. */
  hit(key: string, now: number): boolean | Promise<boolean>;
}

export class RateLimiter implements Limiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly perSecond: number) {}

  /** Counts a hit; false when the key is over its limit in this second. */
  hit(key: string, now: number): boolean {
    if (this.perSecond <= 0) return true;
    const w = Math.floor(now / 1000);
    if (w !== this.window) {
      this.window = w;
      this.counts = new Map();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.perSecond;
  }
}
