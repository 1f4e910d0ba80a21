import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import {
  AUTH_METHODS,
  checkClientJwks,
  ClientInputError,
  GRANT_TYPES,
  publicClient,
  registerClient,
  rotateClientSecret,
  type ClientInput,
} from '../services/clients.js';
import type { Client } from '../store/types.js';
import { badRequest, conflict, NAME, notFound, SCOPE_LIST } from './respond.js';
import { revokeEverything } from './revoke-all.js';

const CLIENT_PROPS = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  authMethod: { type: 'string', enum: AUTH_METHODS },
  grantTypes: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', enum: GRANT_TYPES } },
  scopes: SCOPE_LIST,
  audiences: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 500 } },
  firstParty: { type: 'boolean' },
  mayImpersonate: { type: 'boolean' },
  jwks: {
    type: ['object', 'null'],
    required: ['keys'],
    properties: { keys: { type: 'array', maxItems: 20, items: { type: 'object' } } },
  },
  accessTokenTtl: { type: ['integer', 'null'], minimum: 30, maximum: 86_400 },
  refreshTokenTtl: { type: ['integer', 'null'], minimum: 60, maximum: 31_536_000 },
  disabled: { type: 'boolean' },
} as const;

/** Clients: create (secret shown once), list, get, update, rotate secret (overlap), delete. */
export function clientRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const who = (req: { admin: { sub?: string } | null; ip: string }) => ({ actor: req.admin?.sub ?? null, ip: req.ip });

  app.post<{ Body: ClientInput }>(
    '/admin/clients',
    {
      schema: {
        body: {
          type: 'object',
          required: ['grantTypes', 'scopes', 'audiences'],
          additionalProperties: false,
          properties: { id: NAME, ...CLIENT_PROPS },
        },
      },
    },
    async (req, reply) => {
      try {
        const { client, secret } = await registerClient(ctx.store, ctx.master, req.body, ctx.now());
        await ctx.audit.record({
          type: 'admin.client.created',
          outcome: 'success',
          ...who(req),
          clientId: client.id,
          data: { grantTypes: client.grantTypes, scopes: client.scopes, audiences: client.audiences },
        });
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ ...publicClient(client), ...(secret ? { client_secret: secret } : {}) });
      } catch (err) {
        if (err instanceof ClientInputError)
          return err.message.includes('exists') ? conflict(reply, err.message) : badRequest(reply, err.message);
        throw err;
      }
    },
  );

  app.get('/admin/clients', async () => ({ items: (await ctx.store.listClients()).map(publicClient) }));

  app.get<{ Params: { id: string } }>('/admin/clients/:id', async (req, reply) => {
    const c = await ctx.store.getClient(req.params.id);
    return c ? publicClient(c) : notFound(reply, 'client');
  });

  app.patch<{ Params: { id: string }; Body: Partial<ClientInput> & { disabled?: boolean } }>(
    '/admin/clients/:id',
    { schema: { body: { type: 'object', additionalProperties: false, minProperties: 1, properties: CLIENT_PROPS } } },
    async (req, reply) => {
      const current = await ctx.store.getClient(req.params.id);
      if (!current) return notFound(reply, 'client');
      const next: Client = { ...current, ...(req.body as Partial<Client>) };
      try {
        checkClientJwks(next.authMethod, next.jwks);
        if (next.grantTypes.includes('password') && !next.firstParty)
          throw new ClientInputError('only first-party clients may use the password grant');
        if (next.authMethod !== 'private_key_jwt' && next.secrets.length === 0)
          throw new ClientInputError('rotate the secret to move this client to a secret-based method');
      } catch (err) {
        if (err instanceof ClientInputError) return badRequest(reply, err.message);
        throw err;
      }
      await ctx.store.updateClient(current.id, req.body as Partial<Client>, ctx.now());
      await ctx.audit.record({
        type: 'admin.client.updated',
        outcome: 'success',
        ...who(req),
        clientId: current.id,
        data: { fields: Object.keys(req.body) },
      });
      if (req.body.disabled === true && !current.disabled)
        await revokeEverything(ctx, { kind: 'client', id: current.id }, 'client_disabled', who(req));
      return publicClient((await ctx.store.getClient(current.id))!);
    },
  );

  app.post<{ Params: { id: string }; Body: { overlapSeconds?: number } | undefined }>(
    '/admin/clients/:id/rotate-secret',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { overlapSeconds: { type: 'integer', minimum: 0, maximum: 2_592_000 } },
        },
      },
    },
    async (req, reply) => {
      const client = await ctx.store.getClient(req.params.id);
      if (!client) return notFound(reply, 'client');
      try {
        const overlap = req.body?.overlapSeconds ?? 86_400;
        const secret = await rotateClientSecret(ctx.store, ctx.master, client, overlap, ctx.now());
        await ctx.audit.record({
          type: 'admin.client.secret_rotated',
          outcome: 'success',
          ...who(req),
          clientId: client.id,
          data: { overlapSeconds: overlap },
        });
        reply.header('cache-control', 'no-store');
        return { client_id: client.id, client_secret: secret, previousSecretsValidUntil: ctx.now() + overlap * 1000 };
      } catch (err) {
        if (err instanceof ClientInputError) return badRequest(reply, err.message);
        throw err;
      }
    },
  );

  app.delete<{ Params: { id: string } }>('/admin/clients/:id', async (req, reply) => {
    if (!(await ctx.store.getClient(req.params.id))) return notFound(reply, 'client');
    await revokeEverything(ctx, { kind: 'client', id: req.params.id }, 'client_deleted', who(req));
    await ctx.store.deleteClient(req.params.id);
    await ctx.audit.record({ type: 'admin.client.deleted', outcome: 'success', ...who(req), clientId: req.params.id });
    return reply.code(204).send();
  });
}
