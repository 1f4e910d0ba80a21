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

const ENTRIES = Object.entries(SECURITY_HEADERS);

/** Sets the security headers of one response. */
export type ApplySecurityHeaders = (req: FastifyRequest, reply: FastifyReply) => void;

/**
 * The one hook that gives every response its security headers, `Strict-Transport-Security` when the server
 * is reached over TLS (a TLS connection, or an `https` issuer: the address clients are given, in front of a
 * TLS-terminating proxy), and `Cache-Control: no-store` unless the route sets its own (the JWKS and the
 * metadata are public and cacheable; admin reads, tokens and errors are not).
 *
 * The headers go on the raw response, so that they go out with answers written straight to the socket (the
 * revocation event stream) too. Returns the function, for answers given before the hook runs (a URL Fastify
 * cannot route).
 */
export function securityHeaders(app: FastifyInstance, issuer: () => string): ApplySecurityHeaders {
  const apply: ApplySecurityHeaders = (req, reply) => {
    const raw = reply.raw;
    if (raw.headersSent) return;
    for (const [name, value] of ENTRIES) raw.setHeader(name, value);
    if (req.protocol === 'https' || issuer().startsWith('https:')) raw.setHeader('strict-transport-security', HSTS);
  };
  app.addHook('onRequest', (req, reply, done) => {
    apply(req, reply);
    reply.header('cache-control', 'no-store');
    done();
  });
  return apply;
}
