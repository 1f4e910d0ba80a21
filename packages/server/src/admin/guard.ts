import { InsufficientScopeError, TesseraError } from '@tessera/core';
import type { Principal } from '@tessera/verifier';
import { sendRejection } from '@tessera/verifier/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../context.js';
import { anyAudienceVerifier, ownTokenVerifier } from '../oauth/own-tokens.js';

export const ADMIN_SCOPE = 'tessera:admin';

/** The audience of admin tokens: `<issuer>/admin`. */
export function adminAudience(issuer: string): string {
  return `${issuer}/admin`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin caller, set on /admin routes. */
    admin: Principal | null;
  }
}

/**
 * Every /admin route needs an access token from this issuer for the admin audience with scope
 * `tessera:admin`, verified against the live signing keys and the revocation registry.
 */
export function adminGuard(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('admin', null);
  const check = bearerGuard(ctx, { audience: adminAudience, scope: ADMIN_SCOPE, realm: 'tessera-admin' });
  app.addHook('onRequest', async (req, reply) => {
    const principal = await check(req, reply);
    if (!principal) return reply;
    req.admin = principal;
  });
}

/**
 * Checks the token of a request to one of the server's own APIs (Bearer, or DPoP with its proof; a token bound
 * to a client certificate on a mutual-TLS connection with that certificate): an access token from this issuer
 * for `audience(issuer)` (without `audience`: for any audience, as /userinfo takes them) holding `scope`,
 * verified by the server's own Verifier (live signing keys, revocation registry). Returns the caller, or sends
 * the RFC 6750 refusal and returns undefined.
 */
export function bearerGuard(
  ctx: ServerContext,
  options: { audience?: (issuer: string) => string; scope: string; realm: string },
): (req: FastifyRequest, reply: FastifyReply) => Promise<Principal | undefined> {
  const verifier = options.audience ? ownTokenVerifier(ctx, options.audience) : anyAudienceVerifier(ctx);
  const scopes = [options.scope];
  return async (req, reply) => {
    const v = verifier();
    try {
      // Bearer or DPoP-bound tokens (RFC 9449), through the one Verifier; the URL a proof names is the issuer's
      // (the external URL, behind any proxy) and the path as received.
      const request = {
        authorization: req.headers.authorization,
        dpop: req.headers.dpop,
        method: req.method,
        url: `${ctx.config.issuer.replace(/\/+$/, '')}${req.url}`,
        // A token bound to a client certificate (RFC 8705) counts with that certificate: the request's, from the one
        // source of it (the mutual-TLS connection, or a trusted proxy's Client-Cert header).
        certificate: () => ctx.clientCertificates.of(req)?.der,
      };
      return await v.authorizeRequest(request, { scopes });
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      if (!(err instanceof InsufficientScopeError)) req.log.info({ code: err.code }, 'request refused');
      void sendRejection(reply, err, { realm: options.realm, dpop: v.dpopChallenge(req.headers.authorization) });
      return undefined;
    }
  };
}
