import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import type { RequestCredentials } from '../verifier.js';

/**
 * What the verifier needs of a node:http request (node:http, Express, Fastify's raw request): its
 * Authorization and DPoP headers, method, and target as received (Express's `originalUrl` when a router
 * rewrote `url`), completed with its Host, whether it came over TLS and, on a TLS connection, the client
 * certificate the TLS handshake received (RFC 8705 mutual TLS), read only for a token bound to a certificate.
 */
export function nodeRequestCredentials(req: IncomingMessage & { originalUrl?: string }): RequestCredentials {
  const socket = req.socket as TLSSocket | undefined;
  const secure = socket?.encrypted === true;
  return {
    authorization: req.headers.authorization,
    dpop: req.headers.dpop,
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '/',
    // HTTP/2 (node's compatibility API) names the host in the :authority pseudo-header.
    host: req.headers.host ?? (req.headers[':authority'] as string | undefined),
    secure,
    certificate: secure ? () => peerCertificate(socket) : undefined,
  };
}

/**
 * The DER of the certificate the client presented in the TLS handshake of a request's socket (its private key
 * proven by the handshake): `RequestCredentials.certificate` for a node server. Undefined for a socket that is
 * not TLS, or when the client presented none. Whether a CA vouches for it does not matter to a certificate-bound
 * token (RFC 8705 section 3: the token's thumbprint binds it), so a server with `rejectUnauthorized: false`
 * (self-signed client certificates) serves too.
 */
export function peerCertificate(socket: Socket | TLSSocket | null | undefined): Uint8Array | undefined {
  const tls = socket as TLSSocket | null | undefined;
  if (tls?.encrypted !== true || typeof tls.getPeerX509Certificate !== 'function') return undefined;
  return tls.getPeerX509Certificate()?.raw;
}
