import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

import type { RequestCredentials } from '../verifier.js';

/**
 * What the verifier needs of a node:http request (node:http, Express, Fastify's raw request): its
 * Authorization and DPoP headers, method, and target as received (Express's `originalUrl` when a router
 * rewrote `url`), completed with its Host and whether it came over TLS.
 */
export function nodeRequestCredentials(req: IncomingMessage & { originalUrl?: string }): RequestCredentials {
  return {
    authorization: req.headers.authorization,
    dpop: req.headers.dpop,
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '/',
    // HTTP/2 (node's compatibility API) names the host in the :authority pseudo-header.
    host: req.headers.host ?? (req.headers[':authority'] as string | undefined),
    secure: (req.socket as TLSSocket | undefined)?.encrypted === true,
  };
}
