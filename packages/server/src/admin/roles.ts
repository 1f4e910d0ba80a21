import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { NAME, notFound, SCOPE_LIST } from './respond.js';

/** Roles and the permissions (scopes) they grant. */
export function roleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/admin/roles', async () => ({ items: await ctx.store.listRoles() }));

  app.put<{ Params: { name: string }; Body: { permissions: string[] } }>(
    '/admin/roles/:name',
    {
      schema: {
        params: { type: 'object', properties: { name: NAME } },
        body: { type: 'object', required: ['permissions'], additionalProperties: false, properties: { permissions: SCOPE_LIST } },
      },
    },
    async (req) => {
      const role = { name: req.params.name, permissions: [...new Set(req.body.permissions)] };
      await ctx.store.putRole(role);
      await ctx.audit.record({
        type: 'admin.role.set',
        outcome: 'success',
        actor: req.admin?.sub ?? null,
        ip: req.ip,
        data: role,
      });
      return role;
    },
  );

  app.delete<{ Params: { name: string } }>('/admin/roles/:name', async (req, reply) => {
    if (!(await ctx.store.deleteRole(req.params.name))) return notFound(reply, 'role');
    await ctx.audit.record({
      type: 'admin.role.deleted',
      outcome: 'success',
      actor: req.admin?.sub ?? null,
      ip: req.ip,
      data: { name: req.params.name },
    });
    return reply.code(204).send();
  });
}
