import { Code, ConnectError } from '@connectrpc/connect';
import { ConfigError } from '@tessera/core';
import { TokenRequestError, type TokenRequest } from '@tessera/verifier';

/**
 * Where a client's tokens come from: a ServiceTokenSource of @tessera/verifier (or anything with its
 * `getToken(request)`), or a function returning the token.
 */
export type TokenProvider = { getToken(request?: TokenRequest): Promise<string> } | (() => string | Promise<string>);

/** A function that gets a token for `request` from `source`, checked once. */
export function tokenGetter(source: TokenProvider, request: TokenRequest): () => Promise<string> {
  if (typeof source === 'function') return async () => source();
  if (typeof source === 'object' && source !== null && typeof source.getToken === 'function')
    return () => source.getToken(request);
  throw new ConfigError('source', 'must be a ServiceTokenSource, an object with getToken(), or a function returning a token');
}

/**
 * The token for a call, or the call's error without it: Unavailable when the token endpoint could not be
 * reached, Unauthenticated when it refused (the client's credentials or allowed scopes are wrong).
 */
export async function tokenForCall(get: () => Promise<string>): Promise<string> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    const refused = err instanceof TokenRequestError && err.status !== undefined;
    const message = err instanceof TokenRequestError ? `no access token: ${err.message}` : 'no access token';
    throw new ConnectError(message, refused ? Code.Unauthenticated : Code.Unavailable, undefined, undefined, err);
  }
}
