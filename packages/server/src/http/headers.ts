import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Sent with every response: the server answers JSON and event streams only, so nothing of it may be sniffed
 * as another type, framed, or leak its URL as a referrer.
 */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

/** One year; browsers take HSTS only from a response that came over TLS (RFC 6797 section 8.1). */
export const HSTS = 'max-age=31536000';

/** Sets the security headers of one response. */
export type ApplySecurityHeaders = (req: FastifyRequest, reply: FastifyReply) => void;

/**
 * The one hook that gives every response its security headers, `Strict-Transport-Security` when the server
 * is reached over TLS (a TLS connection, or an `https` issuer: the address clients are given, in front of a
 * TLS-terminating proxy), and `Cache-Control: no-store` unless the route sets its own (the JWKS and the
 * metadata are public and cacheable; admin reads, tokens and errors are not).
 *
 * The headers are the reply's (Fastify's), not the raw response's: Node then writes them with the status line
 * in one step, where headers set on the raw response make it take every header of the answer through setHeader
 * again. An answer written straight to the socket (the revocation event stream) takes them from
 * `reply.getHeaders()`.
 * Returns the function, for answers given before the hook runs (a URL Fastify cannot route).
 */
export function securityHeaders(app: FastifyInstance, issuer: () => string): ApplySecurityHeaders {
  const apply: ApplySecurityHeaders = (req, reply) => {
    if (reply.raw.headersSent) return;
    reply.headers(SECURITY_HEADERS);
    if (req.protocol === 'https' || issuer().startsWith('https:')) reply.header('strict-transport-security', HSTS);
  };
  app.addHook('onRequest', (req, reply, done) => {
    apply(req, reply);
    reply.header('cache-control', 'no-store');
    done();
  });
  return apply;
}
