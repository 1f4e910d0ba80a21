import type { Writable } from 'node:stream';

import Fastify, { type FastifyInstance, type onRequestHookHandler } from 'fastify';

import { clientRoutes } from './admin/clients.js';
import { adminGuard } from './admin/guard.js';
import { adminRefusal, KEYS_BUSY_REFUSAL } from './admin/respond.js';
import { keyAndAuditRoutes } from './admin/keys-audit.js';
import { roleRoutes } from './admin/roles.js';
import { workloadIssuerRoutes } from './admin/workload-issuers.js';
import { resourceRoutes } from './admin/resources.js';
import { userRoutes } from './admin/users.js';
import type { Config } from './config/schema.js';
import type { ServerContext } from './context.js';
import { corsRoutes } from './http/cors.js';
import { hasCredentialInQuery } from './http/credentials.js';
import { clientErrorHandler, errorHandling, frameworkErrors, type SendError } from './http/errors.js';
import { securityHeaders } from './http/headers.js';
import { sendTogether } from './http/send-together.js';
import type { TlsFiles } from './http/tls.js';
import { strictJsonBodies } from './http/json-body.js';
import { loggerOptions, RequestLog } from './http/log.js';
import { metricsRoute } from './metrics-route.js';
import { discoveryRoutes } from './oauth/discovery-routes.js';
import { parseForm } from './oauth/form.js';
import { introspectRoute } from './oauth/introspect-route.js';
import { parRoute } from './oauth/par-route.js';
import { revokeRoute } from './oauth/revoke-route.js';
import { tokenRoute } from './oauth/token-route.js';
import { userinfoRoute } from './oauth/userinfo-route.js';
import { revocationRoutes } from './revocation/routes.js';
import { logoutRoutes } from './signin/logout-route.js';
import { signInRoutes } from './signin/routes.js';
import { AdminError } from './services/errors.js';
import { KeysBusyError } from './keys/errors.js';

/** The Fastify app of the auth server: OAuth endpoints, the hosted sign-in, discovery, admin API, health and metrics. */
export function buildApp(ctx: ServerContext, app: FastifyInstance): FastifyInstance {
  // First of every request's steps: each answer, errors included, carries the security headers.
  const headers = securityHeaders(app, () => ctx.config.issuer);
  const sendError = errorHandling(app, headers, (err) =>
    err instanceof AdminError ? adminRefusal(err) : err instanceof KeysBusyError ? KEYS_BUSY_REFUSAL : undefined,
  );
  app.addHook('onRequest', noCredentialsInOAuthQuery(sendError));
  sendTogether(app);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, parseForm(body as string)),
  );
  strictJsonBodies(app);

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

  corsRoutes(app, {
    public: ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'],
    client: {
      '/oauth/token': 'POST',
      '/oauth/revoke': 'POST',
      '/oauth/par': 'POST',
      ...(ctx.config.singleApp ? {} : { '/userinfo': 'GET, POST' }),
    },
  });
  tokenRoute(app, ctx);
  revokeRoute(app, ctx);
  introspectRoute(app, ctx);
  parRoute(app, ctx);
  discoveryRoutes(app, ctx);
  if (!ctx.config.singleApp) {
    userinfoRoute(app, ctx);
    logoutRoutes(app, ctx);
  }
  revocationRoutes(app, ctx);
  signInRoutes(app, ctx);

  app.register(async (admin) => {
    adminGuard(admin, ctx);
    userRoutes(admin, ctx);
    roleRoutes(admin, ctx);
    clientRoutes(admin, ctx);
    workloadIssuerRoutes(admin, ctx);
    resourceRoutes(admin, ctx);
    keyAndAuditRoutes(admin, ctx);
  });
  return app;
}

/**
 * Credentials in a URL end up in proxy logs, browser history and Referer headers: the OAuth endpoints take
 * them in the body or the Authorization header only (RFC 6749 section 2.3.1, RFC 6750 section 5.3), and a
 * request that names one in its query string is refused before anything reads it.
 */
function noCredentialsInOAuthQuery(sendError: SendError): onRequestHookHandler {
  return (req, reply, done) => {
    if (req.url.startsWith('/oauth/') && req.url.includes('?') && hasCredentialInQuery(req.url))
      return void sendError(req, reply, 400, 'invalid_request', 'credentials must not be sent in the query string');
    done();
  };
}

/**
 * Request schemas are checked as written: Fastify's Ajv defaults would silently drop unknown properties
 * (`removeAdditional`) and turn `42` into `"42"` or `"x"` into `["x"]` (`coerceTypes`). Query strings,
 * whose values are always strings, use string patterns instead (see admin/respond.ts).
 */
const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false } as const;

/**
 * What the Fastify instance is built from: the configuration, where the log goes (default stdout), and the TLS files
 * when it listens over HTTPS.
 */
export interface FastifyOptions {
  config: Pick<
    Config,
    'logLevel' | 'logRequests' | 'bodyLimit' | 'trustProxy' | 'headersTimeoutSeconds' | 'requestTimeoutSeconds' | 'maxConnections'
  >;
  logStream?: Writable;
  tls?: TlsFiles;
}

/**
 * The HTTP server: the log (requests at debug unless `logRequests`), and the limits on slow clients. Node
 * enforces `headersTimeout` and `requestTimeout` only on a request still being received (a response that
 * streams for hours, like the revocation feed, is not cut), checking every `connectionsCheckingInterval`. With
 * `tls`, HTTPS: each client is asked for a certificate (RFC 8705 mutual TLS) but one without is let in, since only
 * the mutual-TLS client methods need one; a certificate that the client CAs do not verify is let in too, unauthorized
 * (a self-signed client's is checked against its registration, never against a CA).
 */
export function newFastify({ config, logStream, tls }: FastifyOptions): FastifyInstance {
  const headersTimeout = config.headersTimeoutSeconds * 1000;
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  const app = Fastify({
    ...(tls
      ? {
          https: {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca ? { ca: tls.ca } : {}),
            requestCert: true,
            rejectUnauthorized: false,
          },
        }
      : {}),
    logger: loggerOptions(config.logLevel, logStream),
    logController: new RequestLog(config.logRequests ? 'info' : 'debug'),
    bodyLimit: config.bodyLimit,
    // Only the configured proxies' X-Forwarded-For is believed (addresses, CIDR ranges); none by default.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    ajv: { customOptions: AJV_OPTIONS },
    requestTimeout,
    http: {
      headersTimeout,
      requestTimeout,
      // Node's default (30 s) would let a 10 s header timeout run to 40 s.
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, headersTimeout / 4)),
    },
    frameworkErrors,
    clientErrorHandler,
  });
  app.server.maxConnections = config.maxConnections;
  return app as unknown as FastifyInstance;
}
