import { context, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../context.js';
import { allowClientOrigin } from '../http/cors.js';
import { perSecond } from '../security/limits.js';
import { authenticateClient } from './client-auth.js';
import { isMtlsClient } from './mtls.js';
import { OAuthError } from './errors.js';
import { param, requireForm, type Form } from './form.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { jwtBearerClient, jwtBearerGrant } from './grants/jwt-bearer.js';
import { confirmation, type Sender } from './issue.js';
import { passwordGrant } from './grants/password.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { tokenExchangeGrant } from './grants/token-exchange.js';
import { JWT_BEARER_GRANT } from '../store/clients.js';
import { failSpan, tracer } from '../telemetry.js';

const GRANTS = {
  authorization_code: authorizationCodeGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
  'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchangeGrant,
  [JWT_BEARER_GRANT]: jwtBearerGrant,
} as const;

const SERVER_SPAN = { kind: SpanKind.SERVER };

/** Whether the request carries client credentials (RFC 7523 section 3.1: the JWT bearer grant may come without). */
function hasClientCredentials(authorization: string | undefined, form: Form): boolean {
  return (
    (authorization !== undefined && /^basic /i.test(authorization)) ||
    param(form, 'client_secret') !== undefined ||
    param(form, 'client_assertion') !== undefined ||
    param(form, 'client_assertion_type') !== undefined
  );
}

/**
 * The request's DPoP proof, checked, its jti not yet spent (undefined without one). A refusal (use_dpop_nonce and
 * its nonce above all) is made readable to the browser app of the client the request names (CORS for its redirect
 * URIs' origins), without authenticating it or spending anything of it.
 */
async function dpopProof(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  form: Form,
): Promise<ReturnType<ServerContext['dpop']['verify']>> {
  try {
    return ctx.dpop.verify(req, '/oauth/token');
  } catch (err) {
    const named = param(form, 'client_id');
    const client = named === undefined ? undefined : await ctx.store.clients.get(named);
    if (client) allowClientOrigin(req, reply, client);
    throw err;
  }
}

/**
 * Sends an OAuth error (RFC 6749 section 5.2); invalid_client gets 401 and a WWW-Authenticate challenge. DPoP's
 * refusals at the token endpoint (RFC 9449 sections 5 and 8) are 400 with their own codes, `use_dpop_nonce` with the
 * nonce to retry with (the token route sets it).
 */
export function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (err.status === 401) reply.header('www-authenticate', `Basic realm="tessera", error="${err.error}"`);
  if (err.status === 429) reply.header('retry-after', String(err.retryAfter));
  return reply.code(err.status).send({ error: err.error, error_description: err.description });
}

/**
 * POST /oauth/token as named steps: no-store headers -> the form (urlencoded, no repeated parameters) ->
 * grant_type -> rate limit -> the DPoP proof, if any, checked (oauth/dpop.ts) -> client authentication -> the
 * proof's jti spent (a client registered with `dpop_bound_access_tokens` must have sent one) -> the client certificate of a
 * mutual-TLS connection, if any (RFC 8705; a client registered with `tls_client_certificate_bound_access_tokens` must
 * have presented one, or sent a proof) -> the grant's handler, which binds what it issues to the proof's key, else to
 * the certificate when the client binds to it -> metrics and audit. With `dpopNonce` on, every answer carries the
 * next server nonce.
 *
 * Each request is one `tessera.token` span (telemetry.ts), a child of the caller's span when the request carries
 * W3C trace context (traceparent), or of the active span (an HTTP instrumentation's): `oauth.grant_type`,
 * `oauth.client_id` once authenticated, `tessera.binding` (dpop, mtls) of what it issued, `tessera.outcome`.
 */
export function tokenRoute(app: FastifyInstance, ctx: ServerContext): void {
  const limits = ctx.limits;
  const rule = perSecond(ctx.config.tokenRateLimit);
  const limited = ctx.config.tokenRateLimit > 0;
  app.post('/oauth/token', (req, reply) => {
    const active = context.active();
    const parent = trace.getSpan(active) === undefined ? propagation.extract(active, req.headers) : active;
    return tracer.startActiveSpan('tessera.token', SERVER_SPAN, parent, (span) => token(req, reply, span));
  });

  async function token(req: FastifyRequest, reply: FastifyReply, span: Span) {
    const started = performance.now();
    // Before anything the grant authorizes is read: a cut-off after this refuses the token (oauth/issue.ts).
    const authorizedAt = ctx.now();
    let grant = 'unknown';
    ctx.dpop.offerNonce(reply);
    try {
      const form = requireForm(req.body);
      const grantType = param(form, 'grant_type', true);
      if (Object.prototype.hasOwnProperty.call(GRANTS, grantType)) grant = grantType;
      if (limited && !(await limits.take(`ip:${req.ip}`, rule, ctx.now())))
        throw new OAuthError('temporarily_unavailable', 'too many requests', 429);
      // The DPoP proof before client authentication, which may spend a single-use assertion: a client retrying
      // after use_dpop_nonce must find its assertion unspent.
      const proof = await dpopProof(ctx, req, reply, form);
      const certificate = ctx.clientCertificates.of(req);
      const client =
        grant === JWT_BEARER_GRANT && !hasClientCredentials(req.headers.authorization, form)
          ? await jwtBearerClient(ctx, form, req.ip)
          : await authenticateClient(ctx, req.headers.authorization, form, req.ip, true, certificate);
      span.setAttribute('oauth.client_id', client.id);
      allowClientOrigin(req, reply, client);
      if (limited && !(await limits.take(`client:${client.id}`, rule, ctx.now())))
        throw new OAuthError('temporarily_unavailable', 'too many requests', 429);
      if (grant === 'unknown') throw new OAuthError('unsupported_grant_type', 'grant_type is not supported');
      // Spent only now, for an authenticated client: a caller who is none cannot fill the memory of spent proofs.
      if (proof !== undefined) await ctx.dpop.spend(proof);
      if (client.dpopBoundAccessTokens && proof === undefined)
        throw new OAuthError('invalid_dpop_proof', 'this client must send a DPoP proof with every token request');
      const sender: Sender = {
        ...(proof ? { jkt: proof.jkt } : {}),
        ...(certificate ? { certificate: certificate.thumbprint } : {}),
        bindCertificate: client.tlsClientCertificateBoundAccessTokens === true || isMtlsClient(client),
      };
      if (client.tlsClientCertificateBoundAccessTokens && certificate === undefined && proof === undefined)
        throw new OAuthError(
          'invalid_request',
          'this client must present its certificate over mutual TLS (tls_client_certificate_bound_access_tokens)',
        );
      const response = await GRANTS[grant as keyof typeof GRANTS](ctx, client, form, req.ip, authorizedAt, sender);
      ctx.metrics.tokens.inc({ grant, outcome: 'success' });
      span.setAttribute('tessera.outcome', 'success');
      const cnf = confirmation(sender);
      if (cnf !== undefined) span.setAttribute('tessera.binding', 'jkt' in cnf ? 'dpop' : 'mtls');
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return response;
    } catch (err) {
      if (!(err instanceof OAuthError)) {
        failSpan(span, 'server_error', err);
        throw err;
      }
      failSpan(span, err.error);
      ctx.metrics.tokens.inc({ grant, outcome: err.error });
      if (err.error !== 'invalid_grant' || grant !== 'password') {
        await ctx.audit.refusal(req.ip, { type: 'token.refused', outcome: 'failure', data: { grant, error: err.error } });
      }
      return sendOAuthError(reply, err);
    } finally {
      ctx.metrics.tokenLatency.observe({ grant }, (performance.now() - started) / 1000);
      span.setAttribute('oauth.grant_type', grant);
      req.log.debug({ grant }, 'token request');
      span.end();
    }
  }
}
