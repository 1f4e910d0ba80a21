import { TokenRevokedError } from '@tessera/verifier';
import { sendRejection } from '@tessera/verifier/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { bearerGuard } from '../admin/guard.js';
import type { ServerContext } from '../context.js';
import { allowClientOrigin } from '../http/cors.js';
import { OPENID_SCOPE, userClaims } from './identity-scopes.js';

/** The realm of /userinfo's RFC 6750 challenges. */
export const USERINFO_REALM = 'tessera';

/**
 * GET and POST /userinfo (OpenID Connect Core section 5.3): the Bearer access token (in the Authorization header,
 * RFC 6750 section 2.1) verified by the server's own Verifier, for any audience, holding `openid`; the answer is
 * `sub` and the claims of the token's `profile` and `email` scopes, read from the user record now. Refusals are
 * RFC 6750's (401 invalid_token, 403 insufficient_scope, with WWW-Authenticate); a token whose user is gone or
 * disabled is refused as revoked (disabling a user also revokes their tokens).
 */
export function userinfoRoute(app: FastifyInstance, ctx: ServerContext): void {
  const check = bearerGuard(ctx, { scope: OPENID_SCOPE, realm: USERINFO_REALM });
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = await check(req, reply);
    if (!principal) return reply;
    // A browser app's call (it sends Origin): its client's origins may read the answer. Others need no client read.
    if (req.headers.origin !== undefined && principal.clientId !== undefined) {
      const client = await ctx.store.clients.get(principal.clientId);
      if (client) allowClientOrigin(req, reply, client);
    }
    const user = principal.sub === undefined ? undefined : await ctx.store.users.getById(principal.sub);
    if (!user || user.disabled) return sendRejection(reply, new TokenRevokedError(), { realm: USERINFO_REALM });
    reply.header('cache-control', 'no-store');
    return userClaims(user, principal.scopes);
  };
  app.get('/userinfo', handler);
  // A POST's form body is parsed (and its size limited) as every form; the token is read from the header only.
  app.post('/userinfo', handler);
}
