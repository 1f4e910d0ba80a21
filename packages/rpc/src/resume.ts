import { isTokenExpired } from './refusal.js';

export interface ResumeOptions<T, C> {
  /** The cursor after a message (e.g. its sequence number): where a re-opened stream starts. */
  cursor: (message: T) => C;
  /** The cursor to open the first stream with; undefined for the start. */
  from?: C;
  /**
   * Called before each re-open, e.g. `() => tokens.clear()` so that a ServiceTokenSource fetches a new token
   * at once instead of handing out the one that just expired while it renews in the background.
   */
  beforeResume?: (error: unknown) => void | Promise<void>;
  /**
   * Re-opens allowed in a row without a message in between (default 3): a client whose every fresh token
   * is refused as expired (a clock far off) fails instead of looping.
   */
  maxResumes?: number;
  /** Wait before the second and later re-opens in a row without a message: this, doubling. Default 200 ms. */
  retryDelayMs?: number;
}

/**
 * A server stream that survives its token: when the server ends it because the token expired
 * (Unauthenticated with reason `token_expired`), `open` is called again with the cursor of the last
 * message received, so that it goes on after it. `open` makes the call through a client whose token
 * interceptor gets a token per call (from a ServiceTokenSource, which renews ahead of expiry), so the new
 * call carries a new token. Every other error ends the stream as usual; so does breaking out of the loop.
 *
 * ```ts
 * const events = resumeStream((after?: bigint) => client.watchStock({ sku, after: after ?? 0n }), {
 *   cursor: (e) => e.seq,
 *   beforeResume: () => tokens.clear(),
 * });
 * for await (const event of events) { ... }
 * ```
 */
export async function* resumeStream<T, C>(
  open: (cursor: C | undefined) => AsyncIterable<T>,
  options: ResumeOptions<T, C>,
): AsyncGenerator<T, void, undefined> {
  const maxResumes = options.maxResumes ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 200;
  let cursor = options.from;
  let resumes = 0;
  for (;;) {
    try {
      for await (const message of open(cursor)) {
        cursor = options.cursor(message);
        resumes = 0;
        yield message;
      }
      return;
    } catch (err) {
      if (!isTokenExpired(err) || resumes >= maxResumes) throw err;
      if (resumes > 0) await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (resumes - 1)));
      resumes++;
      await options.beforeResume?.(err);
    }
  }
}
