import { AccessTokenVerifier, InsufficientScopeError, requireScopes, TesseraError, type Algorithm } from '@tessera/core';
import { bearerToken, TokenRevokedError, type Principal } from '@tessera/verifier';
import { sendRejection } from '@tessera/verifier/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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
  app.decorateRequest('admin', null);
  const check = bearerGuard(ctx, { audience: adminAudience, scope: ADMIN_SCOPE, realm: 'tessera-admin' });
  app.addHook('onRequest', async (req, reply) => {
    const principal = check(req, reply);
    if (!principal) return reply;
    req.admin = principal;
  });
}

/**
 * Checks the bearer token of a request to one of the server's own APIs: an access token from this issuer
 * for `audience(issuer)` holding `scope`, verified against the live signing keys and the revocation
 * registry. Returns the caller, or sends the RFC 6750 refusal and returns undefined.
 */
export function bearerGuard(
  ctx: ServerContext,
  options: { audience: (issuer: string) => string; scope: string; realm: string },
): (req: FastifyRequest, reply: FastifyReply) => Principal | undefined {
  // Built for the current issuer (which a server on port 0 learns only when it binds).
  let verifier: AccessTokenVerifier | undefined;
  let builtFor = '';
  const current = () => {
    if (!verifier || builtFor !== ctx.config.issuer) {
      builtFor = ctx.config.issuer;
      verifier = new AccessTokenVerifier({
        algorithms: [ctx.config.signingAlg as Algorithm],
        issuer: builtFor,
        audience: options.audience(builtFor),
        now: ctx.now,
      });
    }
    return verifier;
  };
  return (req, reply) => {
    try {
      const { claims } = current().verifyAccessToken(bearerToken(req.headers.authorization), ctx.keys.verificationKeys());
      if (ctx.revocations.isRevoked(claims, ctx.now())) throw new TokenRevokedError();
      const scopes = claims.scope ? claims.scope.split(' ') : [];
      requireScopes(scopes, [options.scope]);
      return Object.freeze({
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
      if (!(err instanceof InsufficientScopeError)) req.log.info({ code: err.code }, 'request refused');
      void sendRejection(reply, err, { realm: options.realm });
      return undefined;
    }
  };
}
