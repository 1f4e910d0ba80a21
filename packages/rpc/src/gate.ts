import type { ConnectError } from '@connectrpc/connect';
import { peerCertificate } from '@tessera/verifier';

import { Authorizer, VOUCH_HEADER, type AuthOptions, type CallCredentials } from './authorizer.js';
import { wireOf, writeRefusal, type NodeRequest, type NodeResponse } from './wire.js';

/** A Node request listener, such as the one `connectNodeAdapter` returns. */
export type NodeHandler = (req: NodeRequest, res: NodeResponse, next?: () => void) => void;

/**
 * Wraps a Node handler (`connectNodeAdapter({ routes, interceptors: [createAuthInterceptor(options)] })`) so
 * that calls are refused on their headers alone, before Connect reads the request body: with a policy rule,
 * a token and its scopes checked exactly as the interceptor does, and the refusal written in the request's
 * own protocol (Connect unary or streaming, gRPC, gRPC-Web). Accepted calls go to the handler untouched, body
 * unread; the interceptor still runs there (it puts the Principal in the context and ends streams at expiry;
 * with the verified-token cache its check is a cache hit).
 *
 * The gate judges only the RPC paths of the services in its policy (the last two path segments, so a route
 * prefix does not matter); anything else (other paths, CORS preflights, unknown content types) passes to
 * the handler, which answers it as Connect does. Works for node:http, node:https and node:http2 servers.
 */
export function withAuthGate(handler: NodeHandler, options: AuthOptions): NodeHandler {
  const auth = new Authorizer(options);
  return (req, res, next) => {
    const path = rpcPath(req.url);
    const wire =
      path !== undefined && auth.entry(path) !== undefined ? wireOf(req.method, req.headers['content-type']) : undefined;
    // Only the gate hands its word to the interceptor: a value a client sent is never one.
    delete req.headers[VOUCH_HEADER];
    if (wire === undefined) return handler(req, res, next);
    const call = callCredentials(req);
    auth
      .authorize(path!, call, true)
      .then(
        (principal) => {
          const vouch = auth.vouchFor(path!, call, principal);
          if (vouch !== undefined) req.headers[VOUCH_HEADER] = vouch;
          return handler(req, res, next);
        },
        // Authorizer.authorize throws only the refusal's ConnectError.
        (error: unknown) => writeRefusal(res, wire, req.headers['content-type'], error as ConnectError),
      )
      .catch(() => res.destroy()); // the handler threw: nothing sensible can be written any more
  };
}

/**
 * The call's credentials, its URL as Connect makes it (the socket's scheme, the Host or :authority), and on a TLS
 * connection its client certificate (RFC 8705 mutual TLS), read only for a token bound to one.
 */
function callCredentials(req: NodeRequest): CallCredentials {
  const encrypted = 'encrypted' in req.socket && req.socket.encrypted === true;
  const host = 'authority' in req ? req.authority : req.headers.host;
  return {
    authorization: req.headers.authorization,
    dpop: req.headers.dpop,
    method: req.method ?? '',
    url: req.url ?? '',
    host,
    secure: encrypted,
    certificate: encrypted ? () => peerCertificate(req.socket) : undefined,
  };
}

/** `inventory.v1.InventoryService/GetStock` from `/prefix/inventory.v1.InventoryService/GetStock?x`. */
function rpcPath(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const method = pathname.lastIndexOf('/');
  if (method <= 0) return undefined;
  const service = pathname.lastIndexOf('/', method - 1);
  return service === -1 ? undefined : pathname.slice(service + 1);
}
