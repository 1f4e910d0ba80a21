import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** Real milliseconds between two checks of `until`. */
const POLL_MS = 10;

/**
 * Waits for an event a test cannot subscribe to: polls `check` until it returns something other than undefined or
 * false, and returns that. Fails, naming `what`, when `timeoutMs` of real time pass first: a bound on a test that
 * would otherwise hang, never a measure of speed.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}
