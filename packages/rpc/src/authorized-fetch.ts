import type { TokenRequest } from '@tessera/verifier';

import { tokenGetter, type TokenProvider } from './token-provider.js';

export interface AuthorizedFetchOptions extends TokenRequest {
  /** The fetch to wrap; the global one by default. */
  fetch?: typeof fetch;
}

/**
 * A `fetch` that adds `Authorization: Bearer <token>` from `source` to every request (replacing one the
 * request had), for plain HTTP calls to a service guarded by @tessera/verifier, or as the `fetch` of a
 * Connect web transport. A failure to get a token rejects like a network error (TokenRequestError), with no
 * request sent.
 *
 * ```ts
 * const call = authorizedFetch(tokens, { audience: 'https://inventory.example', scope: 'inventory:read' });
 * const res = await call('https://inventory.example/stock/sku-1');
 * ```
 */
export function authorizedFetch(source: TokenProvider, options: AuthorizedFetchOptions = {}): typeof fetch {
  const { fetch: inner = globalThis.fetch, ...request } = options;
  const get = tokenGetter(source, request);
  return async (input: string | URL | Request, init?: RequestInit) => {
    const token = await get();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set('authorization', `Bearer ${token}`);
    return inner(input, { ...init, headers });
  };
}
