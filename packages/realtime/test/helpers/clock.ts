/**
 * A clock that moves only when the test says so: the gateway's timers (connect timeout, ping and pong, token
 * and subscription expiry, presence renewal) fire when `advance` passes their time, so a test does not wait
 * real seconds for them. Starts at the real time, so tokens signed now are valid under it.
 */
import type { Clock, Timer } from '@tessera/realtime';

interface Pending {
  at: number;
  readonly every: number | undefined;
  readonly f: () => void;
}

export class ManualClock implements Clock {
  private time = Date.now();
  private readonly timers = new Set<Pending>();

  now(): number {
    return this.time;
  }

  after(ms: number, f: () => void): Timer {
    return this.add({ at: this.time + Math.max(0, ms), every: undefined, f });
  }

  every(ms: number, f: () => void): Timer {
    return this.add({ at: this.time + ms, every: ms, f });
  }

  /**
   * Moves time forward by `ms`, running each timer that falls due at its own time, in order; between two,
   * the event loop turns once, so what a timer sent (a ping, a close frame) can go out and be answered.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at)) next = t;
      if (!next) break;
      this.time = next.at;
      if (next.every === undefined) this.timers.delete(next);
      else next.at += next.every;
      next.f();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.time = end;
    await new Promise((resolve) => setImmediate(resolve));
  }

  private add(t: Pending): Timer {
    this.timers.add(t);
    return { cancel: () => this.timers.delete(t) };
  }
}
