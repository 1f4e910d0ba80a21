import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';

import { clientRoutes } from './admin/clients.js';
import { adminGuard } from './admin/guard.js';
import { keyAndAuditRoutes } from './admin/keys-audit.js';
import { roleRoutes } from './admin/roles.js';
import { userRoutes } from './admin/users.js';
import type { ServerContext } from './context.js';
import { metricsRoute } from './metrics-route.js';
import { discoveryRoutes } from './oauth/discovery-routes.js';
import { parseForm } from './oauth/form.js';
import { introspectRoute } from './oauth/introspect-route.js';
import { revokeRoute } from './oauth/revoke-route.js';
import { tokenRoute } from './oauth/token-route.js';
import { revocationRoutes } from './revocation/routes.js';

/** Headers that may carry secrets: never logged. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.body', 'res.headers["set-cookie"]'];

export function createLogger(level: string) {
  return { level, redact: { paths: REDACT, censor: '[redacted]' } };
}

/** The Fastify app of the auth server: OAuth endpoints, discovery, admin API, health and metrics. */
export function buildApp(ctx: ServerContext, app: FastifyInstance): FastifyInstance {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, parseForm(body as string)),
  );
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      const err = new Error('request body is not valid JSON') as FastifyError;
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    const isOAuth = req.url.startsWith('/oauth/');
    const description =
      status === 500
        ? 'internal error'
        : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'unsupported content type'
          : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'request body too large'
            : err.validation
              ? `invalid request: ${err.message}`
              : err.message;
    if (isOAuth) reply.header('cache-control', 'no-store');
    return reply
      .code(status)
      .send({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: description });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not_found', error_description: 'no such endpoint' }));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (req, reply) => {
    try {
      await ctx.store.ping();
      ctx.keys.activeKey();
      return { status: 'ready' };
    } catch (err) {
      req.log.warn({ err }, 'not ready');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  if (ctx.config.metricsPort === undefined) metricsRoute(app, ctx);

  tokenRoute(app, ctx);
  revokeRoute(app, ctx);
  introspectRoute(app, ctx);
  discoveryRoutes(app, ctx);
  revocationRoutes(app, ctx);

  app.register(async (admin) => {
    adminGuard(admin, ctx);
    userRoutes(admin, ctx);
    roleRoutes(admin, ctx);
    clientRoutes(admin, ctx);
    keyAndAuditRoutes(admin, ctx);
  });
  return app;
}

/**
 * Request schemas are checked as written: Fastify's Ajv defaults would silently drop unknown properties
 * (`removeAdditional`) and turn `42` into `"42"` or `"x"` into `["x"]` (`coerceTypes`). Query strings,
 * whose values are always strings, use string patterns instead (see admin/respond.ts).
 */
const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false } as const;

/** `trustProxy`: the proxies whose X-Forwarded-For is believed (addresses, CIDR ranges); empty: none. */
export function newFastify(level: string, bodyLimit: number, trustProxy: readonly string[]): FastifyInstance {
  return Fastify({
    logger: createLogger(level),
    bodyLimit,
    trustProxy: trustProxy.length > 0 ? [...trustProxy] : false,
    ajv: { customOptions: AJV_OPTIONS },
  });
}
