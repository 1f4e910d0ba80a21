import { Code, ConnectError, createContextKey, type ContextValues } from '@connectrpc/connect';
import type { Principal } from '@tessera/verifier';

/**
 * The verified caller of the current call, set by the auth interceptor for every method that is not public.
 * Read it with `principal(ctx)`, or `ctx.values.get(principalKey)` where undefined is an answer.
 */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: 'tessera principal' });

/**
 * The caller of this call. Throws ConnectError Unauthenticated when there is none: a public method, or a
 * server without the auth interceptor. Takes the handler's context (or anything with its `values`).
 */
export function principal(ctx: { readonly values: ContextValues }): Principal {
  const p = ctx.values.get(principalKey);
  if (p === undefined) throw new ConnectError('a bearer token is required', Code.Unauthenticated);
  return p;
}
