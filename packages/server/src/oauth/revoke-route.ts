import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { revokeSession } from '../revocation/revoke-session.js';
import { authenticateClient } from './client-auth.js';
import { OAuthError } from './errors.js';
import { param, requireForm } from './form.js';
import { readOwnAccessToken } from './own-tokens.js';
import { sendOAuthError } from './token-route.js';

/**
 * POST /oauth/revoke (RFC 7009). The client must own the token. A refresh token revokes its whole family
 * (and the family's access tokens); an access token is revoked by jti until it expires. Unknown or
 * invalid tokens get the same 200 as revoked ones (section 2.2).
 */
export function revokeRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/oauth/revoke', async (req, reply) => {
    try {
      const form = requireForm(req.body);
      const client = await authenticateClient(ctx, req.headers.authorization, form);
      const token = param(form, 'token', true);
      const hint = param(form, 'token_type_hint');
      const now = ctx.now();
      const asRefresh = async () => {
        const found = await ctx.store.findRefreshToken(ctx.master.refreshDigest(token));
        if (!found || found.family.clientId !== client.id) return false;
        const ttl = client.accessTokenTtl ?? ctx.config.accessTokenTtl;
        if (await revokeSession(ctx, found.family.id, { family: 'revoked', record: 'rfc7009' }, ttl, now)) {
          await ctx.audit.record({
            type: 'token.revoked',
            outcome: 'success',
            subject: found.family.userId,
            clientId: client.id,
            ip: req.ip,
            data: { kind: 'refresh_token', family: found.family.id },
          });
        }
        return true;
      };
      const asAccess = async () => {
        const claims = readOwnAccessToken(ctx, token);
        if (!claims || claims.client_id !== client.id || claims.exp * 1000 <= now) return false;
        await ctx.revocations.revoke('jti', claims.jti!, { expiresAt: (claims.exp + 60) * 1000, reason: 'rfc7009', now });
        await ctx.audit.record({
          type: 'token.revoked',
          outcome: 'success',
          subject: claims.sub,
          clientId: client.id,
          ip: req.ip,
          data: { kind: 'access_token', jti: claims.jti },
        });
        return true;
      };
      // The hint names where to look first (RFC 7009 section 2.1); the other kind is tried next.
      const [first, second] = hint === 'access_token' ? [asAccess, asRefresh] : [asRefresh, asAccess];
      if (!(await first())) await second();
      reply.header('cache-control', 'no-store');
      return reply.code(200).send();
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(reply, err);
      throw err;
    }
  });
}
