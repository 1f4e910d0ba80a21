import { ConflictError } from './errors.js';

/**
 * Each concurrent change that lost a compare and set to another tries again on what that one wrote; every loss
 * means another change landed, so this many rounds only pass when something keeps rewriting the row.
 */
const ATTEMPTS = 100;

/**
 * Runs a read-modify-write until its compare and set lands: `attempt` reads the row, computes the change and writes
 * it only if the row is still what it read, answering undefined when it was not. No update is lost to a concurrent
 * one. ConflictError (naming `what`) if the row kept changing.
 */
export async function untilUnchanged<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const done = await attempt();
    if (done !== undefined) return done;
  }
  throw new ConflictError(`${what} kept changing while this change was made; try again`);
}
