import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { resourceView, type Resource } from '../resources/resource.js';
import { adminService } from '../services/admin.js';
import { actorOf } from './respond.js';

/**
 * The body is a resource's wire form (or a JWK), checked by the admin service (parseResource, parseResourceKey: the
 * one parser of each); the schema only says it is an object of bounded size.
 */
const RESOURCE_BODY = { type: 'object', maxProperties: 10 } as const;
const JWK_BODY = { type: 'object', maxProperties: 20 } as const;
const NAME_PARAM = { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 63 } } } as const;
const KEY_PARAMS = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 63 }, kid: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

const view = (r: Resource) => resourceView(r);

/** Resource servers: add, list, get, replace, remove; their encryption keys: add (the newest is used), remove. */
export function resourceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = adminService(ctx);
  app.get('/admin/resources', async () => ({ items: (await admin.resources.list()).map(view) }));

  app.post<{ Body: unknown }>('/admin/resources', { schema: { body: RESOURCE_BODY } }, async (req, reply) =>
    reply.code(201).send(view(await admin.resources.add(actorOf(req), req.body))),
  );

  app.get<{ Params: { name: string } }>('/admin/resources/:name', { schema: { params: NAME_PARAM } }, async (req) =>
    view(await admin.resources.get(req.params.name)),
  );

  app.put<{ Params: { name: string }; Body: unknown }>(
    '/admin/resources/:name',
    { schema: { params: NAME_PARAM, body: RESOURCE_BODY } },
    async (req) => view(await admin.resources.replace(actorOf(req), req.params.name, req.body)),
  );

  app.delete<{ Params: { name: string } }>('/admin/resources/:name', { schema: { params: NAME_PARAM } }, async (req, reply) => {
    await admin.resources.remove(actorOf(req), req.params.name);
    return reply.code(204).send();
  });

  app.post<{ Params: { name: string }; Body: unknown }>(
    '/admin/resources/:name/keys',
    { schema: { params: NAME_PARAM, body: JWK_BODY } },
    async (req, reply) => reply.code(201).send(view(await admin.resources.addKey(actorOf(req), req.params.name, req.body))),
  );

  app.delete<{ Params: { name: string; kid: string } }>(
    '/admin/resources/:name/keys/:kid',
    { schema: { params: KEY_PARAMS } },
    async (req) => view(await admin.resources.removeKey(actorOf(req), req.params.name, req.params.kid)),
  );
}
