import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { isClientOrigin } from '../oauth/redirect-uri.js';
import type { Client } from '../store/types.js';

/** How long a browser may cache a preflight's answer, seconds. */
const PREFLIGHT_MAX_AGE = 600;
/** What a browser app sends the endpoints beside the simple headers: credentials or a token, and its proof of possession. */
const ALLOWED_HEADERS = 'authorization, content-type, dpop';

/**
 * Cross-origin calls from browser apps (single-page apps signing in with the code flow), per the Fetch standard's
 * CORS protocol. Two kinds of endpoint:
 * - public documents (discovery metadata, JWKS): readable from any origin (`*`); they carry no secret;
 * - client endpoints (token, revocation, userinfo): a preflight is answered for any origin, since it reveals
 *   nothing, but the answer itself is readable only from an origin of the client's registered redirect URIs
 *   (`allowClientOrigin`, called once the route knows the client). Cookies are never involved (no
 *   Access-Control-Allow-Credentials): these endpoints authenticate the client by what the request carries.
 */
export function corsRoutes(app: FastifyInstance, routes: { public: string[]; client: Record<string, string> }): void {
  const publicPaths = new Set(routes.public);
  app.addHook('onRequest', (req, reply, done) => {
    if (req.headers.origin !== undefined && publicPaths.has(req.routeOptions.url ?? ''))
      reply.header('access-control-allow-origin', '*');
    done();
  });
  for (const path of routes.public)
    app.options(path, async (_req, reply) =>
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET')
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE))
        .send(),
    );
  for (const [path, methods] of Object.entries(routes.client))
    app.options(path, async (req, reply) => {
      const origin = req.headers.origin;
      if (origin === undefined) return reply.code(204).send();
      return reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE))
        .header('vary', 'origin')
        .send();
    });
}

/**
 * Lets the page that sent `req` read the answer, when its origin is one of the client's (see corsRoutes).
 * Called as soon as the client is known, so that the grant's own refusals are readable too.
 */
export function allowClientOrigin(req: FastifyRequest, reply: FastifyReply, client: Client): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  reply.header('vary', 'origin');
  if (isClientOrigin(client.redirectUris, origin))
    // A DPoP server nonce (RFC 9449 section 8) is for the app to read and put in its next proof.
    reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', 'dpop-nonce');
}
