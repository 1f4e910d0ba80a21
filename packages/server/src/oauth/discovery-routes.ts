import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { ASSERTION_ALGORITHMS } from './client-assertion.js';

/** GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server (RFC 8414). */
export function discoveryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    if (ctx.config.singleApp)
      return reply.code(404).send({ error: 'not_found', error_description: 'single-app mode publishes no JWKS' });
    reply.header('cache-control', `public, max-age=${ctx.config.jwksMaxAge}`).type('application/jwk-set+json');
    return ctx.keys.jwks();
  });
  const metadata = (issuer: string) => ({
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    ...(ctx.config.singleApp ? {} : { jwks_uri: `${issuer}/.well-known/jwks.json` }),
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
    require_pushed_authorization_requests: false,
    grant_types_supported: ['client_credentials', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    access_token_signing_alg_values_supported: [ctx.config.signingAlg],
  });
  app.get('/.well-known/oauth-authorization-server', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return metadata(ctx.config.issuer);
  });
}
