import { revokes, type Principal } from '@tessera/verifier';

import type { Authorizer } from './authorizer.js';

/** setTimeout's longest delay; a later deadline is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The response stream of a call, ended with Unauthenticated (`token_expired`) when the caller's token expires,
 * or (`token_invalid`) as soon as the revocation list revokes it. The handler's stream is then closed
 * (`return()`), and Connect aborts the handler's `ctx.signal`: a handler waiting on its own events should
 * watch that signal. A consumer that is slow to take messages meets the end at its next message.
 */
export async function* untilTokenEnds<T>(
  source: AsyncIterable<T>,
  principal: Principal,
  auth: Authorizer,
  path: string,
): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let end!: (error: unknown) => void;
  const ended = new Promise<never>((_, reject) => (end = reject));
  ended.catch(() => undefined);

  let timer: NodeJS.Timeout | undefined;
  const deadline = principal.expiresAt * 1000;
  const arm = () => {
    const left = deadline - auth.now();
    if (left <= 0) end(auth.refuse(path, 'token_expired', undefined));
    else timer = setTimeout(arm, Math.min(left, MAX_DELAY_MS));
  };
  arm();
  const stopWatching = auth.revocations?.onRevocation((entry) => {
    if (revokes(entry, principal.claims, auth.now())) end(auth.refuse(path, 'token_invalid', undefined));
  });

  let done = false;
  try {
    for (;;) {
      const r = await Promise.race([it.next(), ended]);
      if (r.done === true) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    clearTimeout(timer);
    stopWatching?.();
    // Close the handler's stream without waiting: it may be blocked on its own next event.
    if (!done) void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
