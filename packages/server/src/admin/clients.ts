import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { adminService } from '../services/admin.js';
import {
  ACCESS_TOKEN_TTL_RANGE,
  AUTH_METHODS,
  clientPatchFromMetadata,
  clientView,
  GRANT_TYPES,
  issuedSecretView,
  MAX_SECRET_OVERLAP,
  REFRESH_TOKEN_TTL_RANGE,
  type ClientInput,
  type ClientMetadata,
} from '../services/clients.js';
import { epochSeconds } from '../services/epoch.js';
import { ID_TOKEN_ALGS } from '../store/clients.js';
import { MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS } from '../oauth/redirect-uri.js';
import { actorOf, NAME, SCOPE_STRING } from './respond.js';

/** A redirect URI's shape is checked by the admin service (redirectUriProblem); the schema bounds its size. */
const REDIRECT_URI = { type: 'string', minLength: 1, maxLength: MAX_REDIRECT_URI_LENGTH } as const;

/** A tls_client_auth subject (RFC 8705 section 2.1.2); its form is checked by the admin service; null clears it. */
const TLS_SUBJECT = { type: ['string', 'null'], minLength: 1, maxLength: 1000 } as const;

/** Client metadata: RFC 7591 names (and RFC 9126's, OpenID Connect's), then Tessera's own in snake_case. */
const CLIENT_METADATA = {
  client_name: { type: 'string', minLength: 1, maxLength: 200 },
  token_endpoint_auth_method: { type: 'string', enum: AUTH_METHODS },
  grant_types: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', enum: GRANT_TYPES } },
  scope: SCOPE_STRING,
  audiences: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 500 } },
  first_party: { type: 'boolean' },
  may_impersonate: { type: 'boolean' },
  redirect_uris: { type: 'array', maxItems: MAX_REDIRECT_URIS, items: REDIRECT_URI },
  post_logout_redirect_uris: { type: 'array', maxItems: MAX_REDIRECT_URIS, items: REDIRECT_URI },
  require_pushed_authorization_requests: { type: 'boolean' },
  dpop_bound_access_tokens: { type: 'boolean' },
  tls_client_certificate_bound_access_tokens: { type: 'boolean' },
  tls_client_auth_subject_dn: TLS_SUBJECT,
  tls_client_auth_san_dns: TLS_SUBJECT,
  tls_client_auth_san_uri: TLS_SUBJECT,
  tls_client_auth_san_ip: TLS_SUBJECT,
  tls_client_auth_san_email: TLS_SUBJECT,
  id_token_signed_response_alg: { type: ['string', 'null'], enum: [...ID_TOKEN_ALGS, null] },
  jwks: {
    type: ['object', 'null'],
    required: ['keys'],
    properties: { keys: { type: 'array', maxItems: 20, items: { type: 'object' } } },
  },
  access_token_ttl: { type: ['integer', 'null'], minimum: ACCESS_TOKEN_TTL_RANGE.min, maximum: ACCESS_TOKEN_TTL_RANGE.max },
  refresh_token_ttl: { type: ['integer', 'null'], minimum: REFRESH_TOKEN_TTL_RANGE.min, maximum: REFRESH_TOKEN_TTL_RANGE.max },
} as const;

/** Clients: register (secret shown once), list, get, update, disable / enable, rotate secret (overlap), delete. */
export function clientRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = adminService(ctx);
  app.post<{ Body: ClientMetadata & { grant_types: ClientInput['grantTypes'] } }>(
    '/admin/clients',
    {
      schema: {
        body: {
          type: 'object',
          required: ['grant_types'],
          additionalProperties: false,
          properties: { client_id: NAME, ...CLIENT_METADATA },
        },
      },
    },
    async (req, reply) => {
      const patch = clientPatchFromMetadata(req.body);
      const { client, secret } = await admin.clients.create(actorOf(req), {
        ...patch,
        id: req.body.client_id,
        grantTypes: req.body.grant_types,
        scopes: patch.scopes ?? [],
        audiences: patch.audiences ?? [],
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...clientView(client), ...(secret ? issuedSecretView(secret) : {}) });
    },
  );

  app.get('/admin/clients', async () => ({ items: (await admin.clients.list()).map(clientView) }));

  app.get<{ Params: { id: string } }>('/admin/clients/:id', async (req) => clientView(await admin.clients.find(req.params.id)));

  app.patch<{ Params: { id: string }; Body: ClientMetadata }>(
    '/admin/clients/:id',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { ...CLIENT_METADATA, disabled: { type: 'boolean' } },
        },
      },
    },
    async (req) => clientView(await admin.clients.update(actorOf(req), req.params.id, clientPatchFromMetadata(req.body))),
  );

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: { id: string } }>(`/admin/clients/:id/${action}`, async (req) =>
      clientView(await admin.clients.setDisabled(actorOf(req), req.params.id, action === 'disable')),
    );
  }

  app.post<{ Params: { id: string }; Body: { overlap?: number } | undefined }>(
    '/admin/clients/:id/rotate-secret',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { overlap: { type: 'integer', minimum: 0, maximum: MAX_SECRET_OVERLAP } },
        },
      },
    },
    async (req, reply) => {
      const r = await admin.clients.rotateSecret(actorOf(req), req.params.id, req.body?.overlap);
      reply.header('cache-control', 'no-store');
      return {
        client_id: r.client.id,
        ...issuedSecretView(r.secret),
        previous_secrets_expire_at: epochSeconds(r.previousExpireAt),
      };
    },
  );

  app.delete<{ Params: { id: string } }>('/admin/clients/:id', async (req, reply) => {
    await admin.clients.delete(actorOf(req), req.params.id);
    return reply.code(204).send();
  });
}
