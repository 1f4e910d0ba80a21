import { InsufficientScopeError, ScopeSyntaxError } from './errors.js';

/**
 * Tessera's scope grammar. A scope string is scope tokens separated by single spaces (RFC 6749 section 3.3):
 *
 *     scope       = scope-token *( " " scope-token )
 *     scope-token = 1*( %x21 / %x23-5B / %x5D-7E )      ; printable ASCII except space, '"' and '\'
 *
 * By convention a token reads `resource:action` (`orders:read`, `tessera:admin`); the resource may itself
 * hold colons (`chat:room:42:publish`). Scopes compare as exact, case-sensitive strings: `orders:*` is a
 * scope named `orders:*`, not a wildcard, and `orders:write` does not imply `orders:read`.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The whole `scope` grammar in one pass: what `scope.split(' ').every(isScopeToken)` says, without the array. */
const SCOPE_STRING = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** True for a non-empty scope string: scope tokens separated by single spaces. */
export function isScopeString(value: string): boolean {
  return SCOPE_STRING.test(value);
}

/** Splits a scope string into its tokens; throws `ScopeSyntaxError` for anything off the grammar. */
export function parseScope(scope: string): string[] {
  if (scope === '') return [];
  const tokens = scope.split(' ');
  for (const t of tokens) {
    if (!SCOPE_TOKEN.test(t)) throw new ScopeSyntaxError('scope must be scope tokens separated by single spaces');
  }
  return tokens;
}

/** Joins scope tokens into a scope string, checking each and dropping repeats. */
export function formatScope(scopes: Iterable<string>): string {
  const out = new Set<string>();
  for (const s of scopes) {
    if (!SCOPE_TOKEN.test(s)) throw new ScopeSyntaxError('invalid scope token');
    out.add(s);
  }
  return [...out].join(' ');
}

export type ScopeMode = 'all' | 'any';

/**
 * Throws `InsufficientScopeError` unless `granted` holds all of `required` (mode `all`, the default) or
 * at least one of them (mode `any`). An empty `required` list always passes.
 */
export function requireScopes(
  granted: readonly string[] | ReadonlySet<string>,
  required: readonly string[],
  mode: ScopeMode = 'all',
): void {
  if (required.length === 0) return;
  const has = Array.isArray(granted)
    ? (s: string) => (granted as readonly string[]).includes(s)
    : (s: string) => (granted as ReadonlySet<string>).has(s);
  if (mode === 'any') {
    if (!required.some(has)) throw new InsufficientScopeError(required, required, mode);
    return;
  }
  const missing = required.filter((s) => !has(s));
  if (missing.length > 0) throw new InsufficientScopeError(required, missing, mode);
}

/** `requireScopes` as a boolean. */
export function hasScopes(
  granted: readonly string[] | ReadonlySet<string>,
  required: readonly string[],
  mode: ScopeMode = 'all',
): boolean {
  try {
    requireScopes(granted, required, mode);
    return true;
  } catch {
    return false;
  }
}
