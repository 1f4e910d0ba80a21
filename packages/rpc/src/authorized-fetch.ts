import type { DpopKey, TokenRequest } from '@tessera/verifier';

import { dpopKeyOf, DpopProver, tokenGetter, type TokenProvider } from './token-provider.js';

export interface AuthorizedFetchOptions extends TokenRequest {
  /** The fetch to wrap; the global one by default. */
  fetch?: typeof fetch;
  /**
   * Sender-constrained tokens (DPoP): each request carries `Authorization: DPoP <token>` and a fresh proof by this
   * key for its method and URL. Defaults to the `dpopKey` of a ServiceTokenSource given as the source.
   */
  dpopKey?: DpopKey;
}

/**
 * A `fetch` that adds `Authorization: Bearer <token>` from `source` to every request (replacing one the
 * request had), for plain HTTP calls to a service guarded by @tessera/verifier, or as the `fetch` of a
 * Connect web transport. A failure to get a token rejects like a network error (TokenRequestError), with no
 * request sent. With a DPoP key, a request refused with `use_dpop_nonce` (401 and a `DPoP-Nonce`) is sent once
 * more with the nonce, unless its body is a stream (it cannot be sent twice); the nonce is kept for the next ones.
 *
 * ```ts
 * const call = authorizedFetch(tokens, { audience: 'https://inventory.example', scope: 'inventory:read' });
 * const res = await call('https://inventory.example/stock/sku-1');
 * ```
 */
export function authorizedFetch(source: TokenProvider, options: AuthorizedFetchOptions = {}): typeof fetch {
  const { fetch: inner = globalThis.fetch, dpopKey, ...request } = options;
  const get = tokenGetter(source, request);
  const key = dpopKeyOf(source, dpopKey);
  const prover = key === undefined ? undefined : new DpopProver(key);
  return async (input: string | URL | Request, init?: RequestInit) => {
    const token = await get();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (prover === undefined) {
      headers.set('authorization', `Bearer ${token}`);
      return inner(input, { ...init, headers });
    }
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const url = input instanceof Request ? input.url : String(input);
    let sent: string | undefined;
    const send = () => {
      const h = prover.headers(token, method, url);
      sent = h.nonce;
      headers.set('authorization', h.authorization);
      headers.set('dpop', h.dpop);
      return inner(input, { ...init, headers });
    };
    const res = await send();
    // Sent again after a nonce refusal only when the body can be sent twice: none, or one held whole in memory (a
    // stream, a Node Readable or an async iterable was read by the first request).
    const replayable = canResend(init?.body) && !(input instanceof Request && input.body !== null);
    if (
      res.status !== 401 ||
      !/use_dpop_nonce/.test(res.headers.get('www-authenticate') ?? '') ||
      !prover.takeNonce(res.headers.get('dpop-nonce'), sent) ||
      !replayable
    )
      return res;
    await res.body?.cancel();
    return send();
  };
}

/** Whether a fetch body can be sent a second time as it was the first. */
function canResend(body: RequestInit['body'] | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof URLSearchParams ||
    body instanceof FormData
  );
}
