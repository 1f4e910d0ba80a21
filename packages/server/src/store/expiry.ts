import type { Store } from './types.js';

/** Rows deleted per statement, and statements per run at most: a backlog is worked off over several runs. */
const BATCH = 1_000;
const MAX_BATCHES = 20;
/**
 * An authorization code is kept this long after it expires: a replay within it is recognised (and revokes
 * the tokens of the first redemption); after it, a replay is merely an unknown code.
 */
export const CODE_KEPT_AFTER_EXPIRY_MS = 3_600_000;

/**
 * Deletes the state that has expired at `now`: browser sessions past their idle or absolute lifetime,
 * authorization requests nobody completed, authorization codes an hour after their expiry, and the inner tokens
 * of expired encrypted access tokens. Every instance may run it (the deletes are idempotent); the reads never
 * trust such a row anyway, this only bounds the tables. Returns how many rows went.
 */
export async function pruneExpired(store: Store, now: number): Promise<number> {
  let deleted = 0;
  for (const prune of [
    (n: number) => store.browserSessions.prune(now, n),
    (n: number) => store.authorizationRequests.prune(now, n),
    (n: number) => store.authorizationCodes.prune(now - CODE_KEPT_AFTER_EXPIRY_MS, n),
    (n: number) => store.encryptedTokens.prune(now, n),
  ]) {
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await prune(BATCH);
      deleted += n;
      if (n < BATCH) break;
    }
  }
  return deleted;
}
