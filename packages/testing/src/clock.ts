/**
 * A clock for a server under test that runs with real time and can be moved forward: tests that wait for
 * an instant to pass (a secret's overlap, the next whole second of `iat`) advance it instead of sleeping.
 * Time keeps flowing, so windows that count per second (rate limits, throttles) behave as in production.
 */
export class SteppedClock {
  private offset = 0;

  /** Milliseconds since the epoch, as Date.now, plus every advance so far. */
  readonly now = (): number => Date.now() + this.offset;

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('a clock only moves forward');
    this.offset += ms;
  }
}
