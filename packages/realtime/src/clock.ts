/**
 * Time as the gateway sees it: the current time and the timers of its connections and hub (connect
 * timeout, ping and pong, token and subscription expiry, presence renewal). Injected (`GatewayOptions.clock`)
 * so that a test moves time forward instead of waiting for it.
 */

/** A pending timer. */
export interface Timer {
  /** Stops it; harmless once it has run. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `f` once, `ms` from now. `unref`: the timer alone does not keep the process alive. */
  after(ms: number, f: () => void, options?: { unref?: boolean }): Timer;
  /** Runs `f` every `ms`, until cancelled. */
  every(ms: number, f: () => void, options?: { unref?: boolean }): Timer;
}

/** Node's timers cap a delay at 2^31 - 1 ms (and fire at once past it): a longer wait is capped there. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const delay = (ms: number): number => Math.max(0, Math.min(ms, MAX_DELAY_MS));

/** The process's own clock: Date.now and Node's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  after(ms: number, f: () => void, options: { unref?: boolean } = {}): Timer {
    const t = setTimeout(f, delay(ms));
    if (options.unref) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  every(ms: number, f: () => void, options: { unref?: boolean } = {}): Timer {
    const t = setInterval(f, delay(ms));
    if (options.unref) t.unref();
    return { cancel: () => clearInterval(t) };
  },
});
