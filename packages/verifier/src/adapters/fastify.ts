import type { ScopeMode } from '@tessera/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';

import type { Principal } from '../principal.js';
import type { Verifier } from '../verifier.js';
import { rejection } from './rejection.js';

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

const plugin: FastifyPluginAsync<TesseraFastifyOptions> = async (app, options) => {
  const { verifier, realm } = options;
  app.decorateRequest('principal', null);
  // The policy is read once per route, when the route is added, and becomes that route's own onRequest
  // hook: nothing is looked up per request, and a cached token is authorized without a promise.
  app.addHook('onRoute', (route) => {
    const policy: RouteAuth = (route.config as { tessera?: RouteAuth } | undefined)?.tessera ?? {};
    if (policy.public === true) return;
    const refuse = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
      request.log.info({ err: { code: (err as { code?: string }).code } }, 'request refused by tessera');
      const r = rejection(err, { realm });
      reply.code(r.status).headers(r.headers).send(r.body);
    };
    const authenticate: onRequestHookHandler = (request, reply, done) => {
      const authorization = request.headers.authorization;
      let cached;
      try {
        cached = verifier.authorizeCached(authorization, policy);
      } catch (err) {
        return refuse(request, reply, err);
      }
      if (cached !== undefined) {
        request.principal = cached;
        return done();
      }
      verifier.authorize(authorization, policy).then(
        (principal) => {
          request.principal = principal;
          done();
        },
        (err: unknown) => refuse(request, reply, err),
      );
    };
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [authenticate] : [authenticate, ...(Array.isArray(existing) ? existing : [existing])];
  });
};

/**
 * Fastify plugin: every route added after it requires a valid bearer token unless its config says
 * `tessera: { public: true }`; `tessera: { scopes, mode }` adds a scope requirement. Sets
 * `request.principal`. Register it before the routes it protects.
 */
export const tesseraFastify = fp(plugin, { name: '@tessera/verifier', fastify: '5.x' });
export default tesseraFastify;
