import { ConnectError, type Interceptor } from '@connectrpc/connect';
import { context, SpanKind } from '@opentelemetry/api';
import type { DpopKey, TokenRequest } from '@tessera/verifier';

import { DPOP_NONCE_HEADER, REFUSAL_HEADER } from './refusal.js';
import { injectContext, inRpcSpan } from './telemetry.js';
import { dpopKeyOf, DpopProver, tokenForCall, tokenGetter, type TokenProvider } from './token-provider.js';

export interface TokenInterceptorOptions extends TokenRequest {
  /**
   * Sender-constrained tokens (DPoP): each call carries `Authorization: DPoP <token>` and a fresh proof by this
   * key for the call's method and URL. Defaults to the `dpopKey` of a ServiceTokenSource given as the source.
   */
  dpopKey?: DpopKey;
}

/**
 * The client interceptor: every call carries `Authorization: Bearer <token>` from `source` (for the Connect,
 * gRPC and gRPC-Web transports alike), for `request`'s audience and scopes. A ServiceTokenSource serves its
 * cached token and renews it ahead of expiry, so most calls cost a map lookup. Without a token the call is
 * not sent: it fails with Unavailable (token endpoint unreachable) or Unauthenticated (refused). With a DPoP
 * key (`dpopKey`, or the source's), each call carries a proof of its own; a unary call refused for want of the
 * server's nonce (`dpop_nonce`) is sent once more with it, and the nonce is kept for the next calls.
 * Each call is an OpenTelemetry client span (`rpc.call`), its trace context sent in the request headers (W3C
 * `traceparent`): a no-op without an SDK registered.
 *
 * ```ts
 * const transport = createConnectTransport({
 *   baseUrl, httpVersion: '2',
 *   interceptors: [createTokenInterceptor(tokens, { audience: 'https://inventory.example', scope: ['inventory:read'] })],
 * });
 * ```
 */
export function createTokenInterceptor(source: TokenProvider, options: TokenInterceptorOptions = {}): Interceptor {
  const interceptor = tokenInterceptor(source, options);
  // Each call in a client span (the token fetch, if any, inside it), its trace context sent with the request.
  return (next) => {
    const call = interceptor((req) => {
      injectContext(req.header);
      return next(req);
    });
    return (req) => inRpcSpan(SpanKind.CLIENT, req, context.active(), () => call(req));
  };
}

function tokenInterceptor(source: TokenProvider, options: TokenInterceptorOptions): Interceptor {
  const { dpopKey, ...request } = options;
  const get = tokenGetter(source, request);
  const key = dpopKeyOf(source, dpopKey);
  if (key === undefined)
    return (next) => async (req) => {
      req.header.set('authorization', `Bearer ${await tokenForCall(get)}`);
      return next(req);
    };
  const prover = new DpopProver(key);
  return (next) => async (req) => {
    const token = await tokenForCall(get);
    let sent: string | undefined;
    const prove = () => {
      const h = prover.headers(token, req.requestMethod, req.url);
      req.header.set('authorization', h.authorization);
      req.header.set('dpop', h.dpop);
      sent = h.nonce;
    };
    prove();
    try {
      return await next(req);
    } catch (err) {
      const nonce =
        err instanceof ConnectError && err.metadata.get(REFUSAL_HEADER) === 'dpop_nonce'
          ? err.metadata.get(DPOP_NONCE_HEADER)
          : null;
      // A stream's request messages may be read already: only a unary call is sent again.
      if (!prover.takeNonce(nonce, sent) || req.stream) throw err;
      prove();
      return next(req);
    }
  };
}
