import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';

/** Signing keys (list, rotate now) and the audit trail (filter by type, subject, time; newest first, paged). */
export function keyAndAuditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/admin/keys', async () => ({
    items: ctx.keys.list().map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, createdAt: k.createdAt, activatesAt: k.activatesAt, retiredAt: k.retiredAt, removeAfter: k.removeAfter })),
  }));

  app.post('/admin/keys/rotate', async (req) => {
    const r = await ctx.keys.rotateNow(ctx.now());
    await ctx.audit.record({ type: 'admin.keys.rotated', outcome: 'success', actor: req.admin?.sub ?? null, ip: req.ip, data: r });
    return r;
  });

  app.get<{ Querystring: { type?: string; subject?: string; from?: number; to?: number; limit?: number; cursor?: number } }>(
    '/admin/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', maxLength: 100, pattern: '^[a-z_.]+(\\.\\*)?$' },
            subject: { type: 'string', maxLength: 256 },
            from: { type: 'integer', minimum: 0 },
            to: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
            cursor: { type: 'integer', minimum: 1 },
          },
        },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 100;
      const events = await ctx.store.queryAudit({ type: req.query.type, subject: req.query.subject, from: req.query.from, to: req.query.to, limit: limit + 1, before: req.query.cursor });
      const items = events.slice(0, limit);
      return { items, ...(events.length > limit ? { next: String(items[items.length - 1]!.id) } : {}) };
    },
  );
}
