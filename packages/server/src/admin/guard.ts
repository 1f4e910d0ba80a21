import { AccessTokenVerifier, InsufficientScopeError, requireScopes, TesseraError, type Algorithm } from '@tessera/core';
import { bearerToken, rejection, TokenRevokedError, type Principal } from '@tessera/verifier';
import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';

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
  // Built for the current issuer (which a server on port 0 learns only when it binds).
  let verifier: AccessTokenVerifier | undefined;
  let builtFor = '';
  const current = () => {
    if (!verifier || builtFor !== ctx.config.issuer) {
      builtFor = ctx.config.issuer;
      verifier = new AccessTokenVerifier({ algorithms: [ctx.config.signingAlg as Algorithm], issuer: builtFor, audience: adminAudience(builtFor), now: ctx.now });
    }
    return verifier;
  };
  app.decorateRequest('admin', null);
  app.addHook('onRequest', async (req, reply) => {
    try {
      const { claims } = current().verifyAccessToken(bearerToken(req.headers.authorization), ctx.keys.verificationKeys());
      if (ctx.revocations.isRevoked(claims, ctx.now())) throw new TokenRevokedError();
      const scopes = claims.scope ? claims.scope.split(' ') : [];
      requireScopes(scopes, [ADMIN_SCOPE]);
      req.admin = Object.freeze({
        sub: claims.sub,
        clientId: claims.client_id,
        scopes,
        tokenId: claims.jti,
        expiresAt: claims.exp,
        issuedAt: claims.iat,
        claims,
      });
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      const r = rejection(err, { realm: 'tessera-admin' });
      if (!(err instanceof InsufficientScopeError)) req.log.info({ code: err.code }, 'admin request refused');
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
  });
}
