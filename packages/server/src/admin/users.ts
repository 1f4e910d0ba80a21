import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { revokeSession } from '../revocation/revoke-session.js';
import { hashPassword, passwordProblem } from '../security/password.js';
import { createUserAccount, UserInputError } from '../services/users.js';
import type { User } from '../store/types.js';
import { badRequest, conflict, NAME, notFound, QUERY_LIMIT } from './respond.js';
import { revokeEverything } from './revoke-all.js';

const publicUser = (u: User) => ({
  id: u.id,
  username: u.username,
  roles: u.roles,
  disabled: u.disabled,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
});

/** Users: create, list, get, disable / enable, reset password, set roles, sessions. */
export function userRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const who = (req: { admin: { sub?: string } | null; ip: string }) => ({ actor: req.admin?.sub ?? null, ip: req.ip });

  app.post<{ Body: { username: string; password: string; roles?: string[] } }>(
    '/admin/users',
    {
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', maxLength: 512 },
            password: { type: 'string', maxLength: 1024 },
            roles: { type: 'array', maxItems: 100, items: NAME },
          },
        },
      },
    },
    async (req, reply) => {
      let user: User;
      try {
        user = await createUserAccount(ctx.store, req.body, ctx.now());
      } catch (err) {
        if (err instanceof UserInputError) return err.conflict ? conflict(reply, err.message) : badRequest(reply, err.message);
        throw err;
      }
      await ctx.audit.record({
        type: 'admin.user.created',
        outcome: 'success',
        ...who(req),
        subject: user.id,
        data: { username: user.username, roles: user.roles },
      });
      return reply.code(201).send(publicUser(user));
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/admin/users',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: QUERY_LIMIT, cursor: { type: 'string', maxLength: 512 } },
        },
      },
    },
    async (req) => {
      const limit = Number(req.query.limit ?? 100);
      const users = await ctx.store.listUsers(limit + 1, req.query.cursor);
      const items = users.slice(0, limit).map(publicUser);
      return { items, ...(users.length > limit ? { next: items[items.length - 1]!.username } : {}) };
    },
  );

  app.get<{ Params: { id: string } }>('/admin/users/:id', async (req, reply) => {
    const u = await ctx.store.getUserById(req.params.id);
    return u ? publicUser(u) : notFound(reply, 'user');
  });

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: { id: string } }>(`/admin/users/:id/${action}`, async (req, reply) => {
      const id = req.params.id;
      if (!(await ctx.store.updateUser(id, { disabled: action === 'disable' }, ctx.now()))) return notFound(reply, 'user');
      await ctx.audit.record({ type: `admin.user.${action}d`, outcome: 'success', ...who(req), subject: id });
      if (action === 'disable') await revokeEverything(ctx, { kind: 'subject', id }, 'user_disabled', who(req));
      return publicUser((await ctx.store.getUserById(id))!);
    });
  }

  app.post<{ Params: { id: string }; Body: { password: string } }>(
    '/admin/users/:id/password',
    {
      schema: {
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password: { type: 'string', maxLength: 1024 } },
        },
      },
    },
    async (req, reply) => {
      const problem = passwordProblem(req.body.password);
      if (problem) return badRequest(reply, problem);
      if (!(await ctx.store.updateUser(req.params.id, { passwordHash: await hashPassword(req.body.password) }, ctx.now())))
        return notFound(reply, 'user');
      await ctx.audit.record({ type: 'admin.user.password_reset', outcome: 'success', ...who(req), subject: req.params.id });
      // A reset ends every session started with the old password.
      await revokeEverything(ctx, { kind: 'subject', id: req.params.id }, 'password_reset', who(req));
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { id: string }; Body: { roles: string[] } }>(
    '/admin/users/:id/roles',
    {
      schema: {
        body: {
          type: 'object',
          required: ['roles'],
          additionalProperties: false,
          properties: { roles: { type: 'array', maxItems: 100, items: NAME } },
        },
      },
    },
    async (req, reply) => {
      if (!(await ctx.store.updateUser(req.params.id, { roles: [...new Set(req.body.roles)] }, ctx.now())))
        return notFound(reply, 'user');
      await ctx.audit.record({
        type: 'admin.user.roles_set',
        outcome: 'success',
        ...who(req),
        subject: req.params.id,
        data: { roles: req.body.roles },
      });
      return publicUser((await ctx.store.getUserById(req.params.id))!);
    },
  );

  app.get<{ Params: { id: string } }>('/admin/users/:id/sessions', async (req, reply) => {
    if (!(await ctx.store.getUserById(req.params.id))) return notFound(reply, 'user');
    const families = await ctx.store.listRefreshFamilies({ userId: req.params.id });
    return { items: families };
  });

  app.delete<{ Params: { id: string } }>('/admin/sessions/:id', async (req, reply) => {
    const now = ctx.now();
    const family = await ctx.store.getRefreshFamily(req.params.id);
    if (!family) return notFound(reply, 'session');
    const ttl = (await ctx.store.getClient(family.clientId))?.accessTokenTtl ?? ctx.config.accessTokenTtl;
    if (await revokeSession(ctx, family.id, { family: 'admin', record: 'admin' }, ttl, now)) {
      await ctx.audit.record({
        type: 'admin.session.revoked',
        outcome: 'success',
        ...who(req),
        subject: family.userId,
        clientId: family.clientId,
        data: { family: family.id },
      });
    }
    return reply.code(204).send();
  });

  app.post<{ Body: { subject?: string; client?: string } }>(
    '/admin/revoke',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subject: { type: 'string', minLength: 1, maxLength: 256 },
            client: { type: 'string', minLength: 1, maxLength: 256 },
          },
          oneOf: [{ required: ['subject'] }, { required: ['client'] }],
        },
      },
    },
    async (req) => {
      const target =
        req.body.subject !== undefined
          ? { kind: 'subject' as const, id: req.body.subject }
          : { kind: 'client' as const, id: req.body.client! };
      return revokeEverything(ctx, target, 'admin', who(req));
    },
  );
}
