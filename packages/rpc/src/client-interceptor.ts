import type { Interceptor } from '@connectrpc/connect';
import type { TokenRequest } from '@tessera/verifier';

import { tokenForCall, tokenGetter, type TokenProvider } from './token-provider.js';

/**
 * The client interceptor: every call carries `Authorization: Bearer <token>` from `source` (for the Connect,
 * gRPC and gRPC-Web transports alike), for `request`'s audience and scopes. A ServiceTokenSource serves its
 * cached token and renews it ahead of expiry, so most calls cost a map lookup. Without a token the call is
 * not sent: it fails with Unavailable (token endpoint unreachable) or Unauthenticated (refused).
 *
 * ```ts
 * const transport = createConnectTransport({
 *   baseUrl, httpVersion: '2',
 *   interceptors: [createTokenInterceptor(tokens, { audience: 'https://inventory.example', scope: ['inventory:read'] })],
 * });
 * ```
 */
export function createTokenInterceptor(source: TokenProvider, request: TokenRequest = {}): Interceptor {
  const get = tokenGetter(source, request);
  return (next) => async (req) => {
    req.header.set('authorization', `Bearer ${await tokenForCall(get)}`);
    return next(req);
  };
}
