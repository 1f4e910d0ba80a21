import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { adminService } from '../services/admin.js';
import { consentView } from '../services/consents.js';
import { browserSessionView, sessionView } from '../services/sessions.js';
import { MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, type ProfileInput } from '../services/user-profile.js';
import { userView } from '../services/users.js';
import { actorOf, NAME, QUERY_LIMIT } from './respond.js';

const PASSWORD = { type: 'string', maxLength: 1024 } as const;
const ROLE_PARAMS = { type: 'object', properties: { id: { type: 'string' }, role: NAME } } as const;
/** OpenID Connect profile claims; the admin service checks them (acceptedProfile), the schema bounds their size. */
const NAME_CLAIM = { type: ['string', 'null'], maxLength: MAX_NAME_LENGTH } as const;
const PROFILE = {
  name: NAME_CLAIM,
  given_name: NAME_CLAIM,
  family_name: NAME_CLAIM,
  email: { type: ['string', 'null'], maxLength: MAX_EMAIL_LENGTH },
  email_verified: { type: 'boolean' },
} as const;

/**
 * Users: create, list, get, profile, disable / enable, delete, set password, roles, sessions (refresh-token
 * families), browser sessions and consents; revocation by subject or client.
 */
export function userRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = adminService(ctx);
  app.post<{ Body: { username: string; password: string; roles?: string[] } & ProfileInput }>(
    '/admin/users',
    {
      schema: {
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', maxLength: 512 },
            password: PASSWORD,
            roles: { type: 'array', maxItems: 100, items: NAME },
            ...PROFILE,
          },
        },
      },
    },
    async (req, reply) => reply.code(201).send(userView(await admin.users.create(actorOf(req), req.body))),
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
      const users = await admin.users.list(limit + 1, req.query.cursor);
      const items = users.slice(0, limit).map(userView);
      return { items, ...(users.length > limit ? { next: items[items.length - 1]!.username } : {}) };
    },
  );

  app.get<{ Params: { id: string } }>('/admin/users/:id', async (req) => userView(await admin.users.find({ id: req.params.id })));

  app.patch<{ Params: { id: string }; Body: ProfileInput }>(
    '/admin/users/:id',
    { schema: { body: { type: 'object', additionalProperties: false, minProperties: 1, properties: PROFILE } } },
    async (req) => userView(await admin.users.setProfile(actorOf(req), req.params.id, req.body)),
  );

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: { id: string } }>(`/admin/users/:id/${action}`, async (req) => {
      const { user, revokedSessions } = await admin.users.setDisabled(actorOf(req), req.params.id, action === 'disable');
      return { ...userView(user), revoked_sessions: revokedSessions };
    });
  }

  app.delete<{ Params: { id: string } }>('/admin/users/:id', async (req, reply) => {
    await admin.users.delete(actorOf(req), req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { password: string } }>(
    '/admin/users/:id/password',
    {
      schema: {
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password: PASSWORD } },
      },
    },
    async (req, reply) => {
      // A new password ends every session started with the old one.
      await admin.users.setPassword(actorOf(req), req.params.id, req.body.password);
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
    async (req) => userView(await admin.users.setRoles(actorOf(req), req.params.id, req.body.roles)),
  );

  app.put<{ Params: { id: string; role: string } }>(
    '/admin/users/:id/roles/:role',
    { schema: { params: ROLE_PARAMS } },
    async (req) => userView(await admin.users.grantRole(actorOf(req), req.params.id, req.params.role)),
  );

  app.delete<{ Params: { id: string; role: string } }>(
    '/admin/users/:id/roles/:role',
    { schema: { params: ROLE_PARAMS } },
    async (req) => userView(await admin.users.revokeRole(actorOf(req), req.params.id, req.params.role)),
  );

  app.get<{ Params: { id: string } }>('/admin/users/:id/sessions', async (req) => ({
    items: (await admin.sessions.list(req.params.id)).map(sessionView),
  }));

  app.get<{ Params: { id: string } }>('/admin/users/:id/consents', async (req) => ({
    items: (await admin.consents.list(req.params.id)).map(consentView),
  }));
  app.delete<{ Params: { id: string; client_id: string } }>('/admin/users/:id/consents/:client_id', async (req, reply) => {
    await admin.consents.revoke(actorOf(req), req.params.id, req.params.client_id);
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: string } }>('/admin/sessions/:id', async (req, reply) => {
    await admin.sessions.revoke(actorOf(req), req.params.id);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/admin/users/:id/browser-sessions', async (req) => ({
    items: (await admin.browserSessions.list(req.params.id)).map(browserSessionView),
  }));

  app.delete<{ Params: { id: string } }>('/admin/browser-sessions/:id', async (req) => {
    const { families } = await admin.browserSessions.revoke(actorOf(req), req.params.id);
    return { revoked_sessions: families.length };
  });

  app.post<{ Body: { subject?: string; client_id?: string } }>(
    '/admin/revoke',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subject: { type: 'string', minLength: 1, maxLength: 256 },
            client_id: { type: 'string', minLength: 1, maxLength: 256 },
          },
          oneOf: [{ required: ['subject'] }, { required: ['client_id'] }],
        },
      },
    },
    async (req) => {
      const target =
        req.body.subject !== undefined
          ? { kind: 'subject' as const, id: req.body.subject }
          : { kind: 'client' as const, id: req.body.client_id! };
      const r = await admin.revokeEverything(actorOf(req), target, 'admin');
      return { revoked_sessions: r.families, seq: r.seq };
    },
  );
}
