import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { allowClientOrigin } from '../http/cors.js';
import { perSecond } from '../security/limits.js';
import { authenticateClient } from './client-auth.js';
import { OAuthError } from './errors.js';
import { requireForm } from './form.js';
import { pushAuthorizationRequest } from './pushed-request.js';
import { sendOAuthError } from './token-route.js';

/**
 * POST /oauth/par (RFC 9126) as named steps: the form (no repeated parameter) -> rate limit by address -> client authentication as at
 * the token endpoint (public clients by client_id, RFC 9126 section 2) -> rate limit by client -> a DPoP proof, if
 * any (RFC 9449 section 10.1: checked as at the token endpoint, for this URL; its key is the request's `dpop_jkt`,
 * which must then be that key's or absent) -> the request checked and stored (oauth/pushed-request.ts) -> 201 `{request_uri, expires_in}`. Refusals are the token
 * endpoint's: OAuth errors with no-store, invalid_client 401 with a challenge; another method is 405.
 */
export function parRoute(app: FastifyInstance, ctx: ServerContext): void {
  const rule = perSecond(ctx.config.tokenRateLimit);
  const limited = ctx.config.tokenRateLimit > 0;
  const take = async (key: string) => {
    if (limited && !(await ctx.limits.take(key, rule, ctx.now())))
      throw new OAuthError('temporarily_unavailable', 'too many requests', 429);
  };
  app.post('/oauth/par', async (req, reply) => {
    ctx.dpop.offerNonce(reply);
    try {
      const form = requireForm(req.body);
      await take(`ip:${req.ip}`);
      const client = await authenticateClient(ctx, req.headers.authorization, form, req.ip, true, ctx.clientCertificates.of(req));
      allowClientOrigin(req, reply, client);
      await take(`client:${client.id}`);
      const proof = await ctx.dpop.check(req, '/oauth/par');
      const pushed = await pushAuthorizationRequest(ctx, client, form, proof?.jkt);
      return reply.code(201).header('cache-control', 'no-store').header('pragma', 'no-cache').send(pushed);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      await ctx.audit.refusal(req.ip, { type: 'par.refused', outcome: 'failure', data: { error: err.error } });
      return sendOAuthError(reply, err);
    }
  });
  // RFC 9126 section 2.3: any other method is answered 405.
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/oauth/par',
    handler: async (_req, reply) =>
      reply.code(405).header('allow', 'OPTIONS, POST').send({ error: 'invalid_request', error_description: 'use POST' }),
  });
}
