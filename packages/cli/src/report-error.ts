import { ConfigError, TesseraError } from '@tessera/core';

import { UNEXPECTED_ERROR_CODE, UsageError } from './errors.js';
import { redact } from './redact.js';

export const EXIT_OK = 0;
/** The token was refused, or the command failed. */
export const EXIT_FAILURE = 1;
/** Unknown command, missing or invalid flag. */
export const EXIT_USAGE = 2;

export interface Report {
  exitCode: number;
  /** The lines for standard error. */
  text: string;
}

/**
 * `error: <code>: <message>`. Tessera's messages never hold token, key or secret material, so they are
 * printed as they are, with the code and message of a Tessera cause (e.g. why a JWKS fetch failed).
 * Anything else is unexpected: its message is redacted, since it may quote its input.
 */
export function reportError(err: unknown, synopsis: string): Report {
  if (err instanceof TesseraError) {
    const cause = err.cause instanceof TesseraError ? ` (${err.cause.code}: ${err.cause.message})` : '';
    const line = `error: ${err.code}: ${err.message}${cause}\n`;
    if (err instanceof UsageError || err instanceof ConfigError) return { exitCode: EXIT_USAGE, text: `${line}${synopsis}` };
    return { exitCode: EXIT_FAILURE, text: line };
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown';
  return { exitCode: EXIT_FAILURE, text: `error: ${UNEXPECTED_ERROR_CODE}: ${redact(what)}\n` };
}
