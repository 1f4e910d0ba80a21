import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { allowClientOrigin } from '../http/cors.js';
import { revokeToken } from '../services/tokens.js';
import { authenticateClient } from './client-auth.js';
import { OAuthError } from './errors.js';
import { param, requireForm } from './form.js';
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
      const client = await authenticateClient(ctx, req.headers.authorization, form, req.ip, true, ctx.clientCertificates.of(req));
      allowClientOrigin(req, reply, client);
      const token = param(form, 'token', true);
      await revokeToken(ctx, { actor: null, ip: req.ip }, token, { hint: param(form, 'token_type_hint'), clientId: client.id });
      reply.header('cache-control', 'no-store');
      return reply.code(200).send();
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(reply, err);
      throw err;
    }
  });
}
