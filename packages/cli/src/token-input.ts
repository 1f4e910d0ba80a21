import { UsageError } from './errors.js';
import { readStdin } from './io.js';

/**
 * The TOKEN of `token decode` and `token verify`: the one positional argument, or standard input when
 * there is none (or it is `-`). Surrounding whitespace and the trailing newline are trimmed. Standard
 * input keeps the token out of the process list and the shell history.
 */
export async function readToken(args: readonly string[]): Promise<string> {
  if (args.length > 1) throw new UsageError('expected at most one TOKEN argument');
  const arg = args[0];
  const raw = arg === undefined || arg === '-' ? await readStdin('token') : arg;
  if (raw === undefined) throw new UsageError('no token: pass it as the TOKEN argument or on standard input');
  const token = raw.trim();
  if (token.length === 0) throw new UsageError('no token: the TOKEN argument or standard input is empty');
  return token;
}
