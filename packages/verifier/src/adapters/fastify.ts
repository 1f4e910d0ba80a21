import { TesseraError, type ScopeMode } from '@tessera/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';

import type { Principal } from '../principal.js';
import type { Verifier } from '../verifier.js';
import { authorizeThen } from './authorize-then.js';
import { rejection, type ChallengeOptions } from './rejection.js';
import { nodeRequestCredentials } from './request.js';

/**
 * Sends the refusal for `err` on a Fastify reply: the plugin's own, and the one any Fastify route that
 * checks a token itself sends (the auth server's guards), the same answer as every other adapter.
 */
export function sendRejection(reply: FastifyReply, err: unknown, options: ChallengeOptions = {}): FastifyReply {
  const r = rejection(err, options);
  // A string with a JSON content type that names its charset is sent as it is: the same bytes and headers
  // as the node:http and fetch writers.
  return reply.code(r.status).headers(r.headers).send(JSON.stringify(r.body));
}

/** Per-route policy, set as `config: { tessera: { ... } }` in the route options. */
export interface RouteAuth {
  /** Skip authentication for this route. Every other route requires a valid token (deny by default). */
  public?: boolean;
  /** Scopes the caller must hold. */
  scopes?: readonly string[];
  /** `all` (default) or `any` of `scopes`. */
  mode?: ScopeMode;
}

export interface TesseraFastifyOptions {
  verifier: Verifier;
  /** `realm` of the WWW-Authenticate challenge. */
  realm?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; null only on routes marked `public`. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    tessera?: RouteAuth;
  }
}

/** Marks the config of each route the plugin saw being added (its policy is enforced by its own hook). */
const SEEN = Symbol('tessera.route');

const plugin: FastifyPluginAsync<TesseraFastifyOptions> = async (app, options) => {
  const { verifier, realm } = options;
  app.decorateRequest('principal', null);
  /**
   * Answers a refusal (RFC 6750, the same answer as every adapter). An error that is not
   * Tessera's is no refusal: it goes to the app's error handler (setErrorHandler), as Express's next(err).
   */
  const refuse = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, err: unknown) => {
    if (!(err instanceof TesseraError))
      return done(err instanceof Error ? err : new Error('authorization failed', { cause: err }));
    request.log.info({ err: { code: err.code } }, 'request refused by tessera');
    sendRejection(reply, err, { realm, dpop: verifier.dpopChallenge(request.headers.authorization) });
  };
  /** The onRequest hook of one route's policy: a cached token is authorized without a promise. */
  const authenticator = (policy: RouteAuth): onRequestHookHandler =>
    function authenticate(request, reply, done) {
      authorizeThen(
        verifier,
        nodeRequestCredentials(request.raw),
        policy,
        (principal) => {
          request.principal = principal;
          done();
        },
        (err) => refuse(request, reply, done, err),
      );
    };

  // The policy is read once per route, when the route is added, and becomes that route's own onRequest
  // hook: nothing is looked up per request.
  app.addHook('onRoute', (route) => {
    const policy: RouteAuth = (route.config as { tessera?: RouteAuth } | undefined)?.tessera ?? {};
    route.config = { ...(route.config as object), [SEEN]: true } as typeof route.config;
    if (policy.public === true) return;
    const existing = route.onRequest;
    const authenticate = authenticator(policy);
    route.onRequest =
      existing === undefined ? [authenticate] : [authenticate, ...(Array.isArray(existing) ? existing : [existing])];
  });

  // Fail closed: a route the plugin did not see being added (declared before it, or before an
  // un-awaited register finished) is authenticated here, before its handler, with the same policy.
  const late = new WeakMap<object, onRequestHookHandler | null>();
  app.addHook('preHandler', function guard(request, reply, done) {
    if (request.principal !== null) return done();
    const config = request.routeOptions.config as ({ tessera?: RouteAuth; [SEEN]?: true } & object) | undefined;
    if (config === undefined || config[SEEN] === true || request.is404) return done();
    let authenticate = late.get(config);
    if (authenticate === undefined) {
      const policy = config.tessera ?? {};
      authenticate = policy.public === true ? null : authenticator(policy);
      late.set(config, authenticate);
      if (authenticate)
        request.log.warn(
          { url: request.routeOptions.url },
          'route added before the tessera plugin: register (and await) it first',
        );
    }
    if (authenticate === null) return done();
    authenticate.call(this, request, reply, done);
  });
};

/**
 * Fastify plugin: every route added after it requires a valid token (Bearer, or DPoP with its proof) unless its config says
 * `tessera: { public: true }`; `tessera: { scopes, mode }` adds a scope requirement. Sets
 * `request.principal`. Register (and await) it before the routes it protects: they are then refused before
 * their body is read. A route declared earlier is still authenticated, later in its lifecycle (preHandler).
 */
export const tesseraFastify = fp(plugin, { name: '@tessera/verifier', fastify: '5.x' });
