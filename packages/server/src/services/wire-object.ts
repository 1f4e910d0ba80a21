import { AdminInputError } from './errors.js';

/** Refuses an admin input with this reason (AdminInputError: 400 `invalid_request` at the API, the CLI's usage error). */
export function fail(why: string): never {
  throw new AdminInputError(why);
}

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Refuses an object with a member not in `allowed`, naming it. */
export function only(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined) fail(`${what}: unknown field ${extra}`);
}
