import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { GRANT_TYPES, MTLS_AUTH_METHODS } from '../store/clients.js';
import { CODE_CHALLENGE_METHODS, RESPONSE_MODES, RESPONSE_TYPES } from './authorize-request.js';
import { ASSERTION_ALGORITHMS } from './client-assertion.js';
import { DPOP_SIGNING_ALGORITHMS } from './dpop.js';
import { idTokenAlgorithms } from './id-token.js';
import { CLAIMS_SUPPORTED, IDENTITY_SCOPES, OFFLINE_ACCESS } from './identity-scopes.js';

/**
 * How clients authenticate where a client that proves nothing (a public client, `none`) is let in, and where not;
 * the mutual-TLS methods (RFC 8705 section 2) when the server listens over TLS or reads a proxy's Client-Cert header.
 */
const CONFIDENTIAL_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
const ANY_AUTH_METHODS = [...CONFIDENTIAL_AUTH_METHODS, 'none'];
const MTLS_CONFIDENTIAL_AUTH_METHODS = [...CONFIDENTIAL_AUTH_METHODS, ...MTLS_AUTH_METHODS];
const MTLS_ANY_AUTH_METHODS = [...MTLS_CONFIDENTIAL_AUTH_METHODS, 'none'];

/**
 * The server's metadata: one document, served as RFC 8414's `/.well-known/oauth-authorization-server` and as
 * OpenID Connect Discovery's `/.well-known/openid-configuration` (RFC 8414 section 3 lets the two share their
 * members). Only what exists and works is advertised. Single-app mode publishes no keys, so it offers neither
 * ID tokens nor the OpenID Connect members.
 */
export function serverMetadata(ctx: ServerContext, issuer: string): Record<string, unknown> {
  const oidc = !ctx.config.singleApp;
  const tls = ctx.config.tlsCert !== undefined || ctx.config.clientCertHeader;
  const any = tls ? MTLS_ANY_AUTH_METHODS : ANY_AUTH_METHODS;
  const confidential = tls ? MTLS_CONFIDENTIAL_AUTH_METHODS : CONFIDENTIAL_AUTH_METHODS;
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    ...(oidc
      ? {
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          userinfo_endpoint: `${issuer}/userinfo`,
          end_session_endpoint: `${issuer}/logout`,
        }
      : {}),
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
    require_pushed_authorization_requests: false,
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: [...RESPONSE_MODES],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: any,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: any,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: confidential,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    access_token_signing_alg_values_supported: [ctx.config.signingAlg],
    // RFC 9449 section 5.1: DPoP proofs are accepted at the token endpoint and at PAR, signed with these.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGORITHMS],
    // RFC 8705 section 3.3: access tokens bound to the client certificate of a mutual-TLS connection.
    ...(tls ? { tls_client_certificate_bound_access_tokens: true } : {}),
    ...(oidc
      ? {
          scopes_supported: [...IDENTITY_SCOPES, OFFLINE_ACCESS],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: [...idTokenAlgorithms(ctx)],
          claims_supported: [...CLAIMS_SUPPORTED],
          claims_parameter_supported: false,
          request_parameter_supported: false,
          // OpenID Connect Discovery's default is true: no request object is fetched from a URI.
          request_uri_parameter_supported: false,
        }
      : {}),
  };
}

/** GET /.well-known/jwks.json, /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/openid-configuration. */
export function discoveryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    if (ctx.config.singleApp)
      return reply.code(404).send({ error: 'not_found', error_description: 'single-app mode publishes no JWKS' });
    reply.header('cache-control', `public, max-age=${ctx.config.jwksMaxAge}`).type('application/jwk-set+json');
    return ctx.keys.jwks();
  });
  app.get('/.well-known/oauth-authorization-server', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return serverMetadata(ctx, ctx.config.issuer);
  });
  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    if (ctx.config.singleApp)
      return reply.code(404).send({ error: 'not_found', error_description: 'single-app mode offers no OpenID Connect' });
    reply.header('cache-control', 'public, max-age=300');
    return serverMetadata(ctx, ctx.config.issuer);
  });
}
