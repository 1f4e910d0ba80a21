import type { Store } from '../store/types.js';

/** Rows deleted per statement, and statements per run at most: a backlog is worked off over several runs. */
const BATCH = 1_000;
const MAX_BATCHES = 20;

/**
 * Deletes the sign-in state that has expired at `now`: browser sessions past their idle or absolute lifetime,
 * and authorization requests nobody completed. Every instance may run it (the deletes are idempotent); the
 * reads never trust such a row anyway, this only bounds the tables. Returns how many rows went.
 */
export async function pruneExpiredSignIns(store: Store, now: number): Promise<number> {
  let deleted = 0;
  for (const prune of [
    (n: number) => store.browserSessions.prune(now, n),
    (n: number) => store.authorizationRequests.prune(now, n),
  ]) {
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await prune(BATCH);
      deleted += n;
      if (n < BATCH) break;
    }
  }
  return deleted;
}
