import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { adminService } from '../services/admin.js';
import { roleView } from '../services/roles.js';
import { actorOf, NAME, SCOPE_LIST } from './respond.js';

const PERMISSIONS = {
  type: 'object',
  required: ['permissions'],
  additionalProperties: false,
  properties: { permissions: SCOPE_LIST },
};

/** Roles and the permissions (scopes) they grant. */
export function roleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = adminService(ctx);
  app.get('/admin/roles', async () => ({ items: (await admin.roles.list()).map(roleView) }));

  app.post<{ Body: { name: string; permissions: string[] } }>(
    '/admin/roles',
    {
      schema: {
        body: { ...PERMISSIONS, required: ['name', 'permissions'], properties: { name: NAME, permissions: SCOPE_LIST } },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(roleView(await admin.roles.put(actorOf(req), req.body.name, req.body.permissions, { replace: false }))),
  );

  app.put<{ Params: { name: string }; Body: { permissions: string[] } }>(
    '/admin/roles/:name',
    { schema: { params: { type: 'object', properties: { name: NAME } }, body: PERMISSIONS } },
    async (req) => roleView(await admin.roles.put(actorOf(req), req.params.name, req.body.permissions, { replace: true })),
  );

  app.delete<{ Params: { name: string } }>('/admin/roles/:name', async (req, reply) => {
    await admin.roles.delete(actorOf(req), req.params.name);
    return reply.code(204).send();
  });
}
