import type { ScopeMode } from '@tessera/core';
import type { FastifyPluginAsync } from 'fastify';
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
  app.addHook('onRequest', async (request, reply) => {
    const policy = request.routeOptions.config?.tessera;
    if (policy?.public === true) return;
    try {
      request.principal = await verifier.authorize(request.headers.authorization, policy ?? {});
    } catch (err) {
      request.log.info({ err: { code: (err as { code?: string }).code } }, 'request refused by tessera');
      const r = rejection(err, { realm });
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
  });
};

/**
 * Fastify plugin: every route requires a valid bearer token unless its config says `tessera: { public:
 * true }`; `tessera: { scopes, mode }` adds a scope requirement. Sets `request.principal`.
 */
export const tesseraFastify = fp(plugin, { name: '@tessera/verifier', fastify: '5.x' });
export default tesseraFastify;
