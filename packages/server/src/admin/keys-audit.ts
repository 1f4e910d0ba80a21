import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { QUERY_ID, QUERY_LIMIT, QUERY_TIME } from './respond.js';

/** Signing keys (list, rotate now) and the audit trail (filter by type, subject, time; newest first, paged). */
export function keyAndAuditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/admin/keys', async () => ({
    items: ctx.keys.list().map((k) => ({
      kid: k.kid,
      alg: k.alg,
      state: k.state,
      createdAt: k.createdAt,
      activatesAt: k.activatesAt,
      retiredAt: k.retiredAt,
      removeAfter: k.removeAfter,
    })),
  }));

  app.post('/admin/keys/rotate', async (req) => {
    const r = await ctx.keys.rotateNow(ctx.now());
    await ctx.audit.record({
      type: 'admin.keys.rotated',
      outcome: 'success',
      actor: req.admin?.sub ?? null,
      ip: req.ip,
      data: r,
    });
    return r;
  });

  app.get<{ Querystring: { type?: string; subject?: string; from?: string; to?: string; limit?: string; cursor?: string } }>(
    '/admin/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', maxLength: 100, pattern: '^[a-z_.]+(\\.\\*)?$' },
            subject: { type: 'string', maxLength: 256 },
            from: QUERY_TIME,
            to: QUERY_TIME,
            limit: QUERY_LIMIT,
            cursor: QUERY_ID,
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      const limit = int(q.limit) ?? 100;
      const events = await ctx.store.queryAudit({
        type: q.type,
        subject: q.subject,
        from: int(q.from),
        to: int(q.to),
        limit: limit + 1,
        before: int(q.cursor),
      });
      const items = events.slice(0, limit);
      return { items, ...(events.length > limit ? { next: String(items[items.length - 1]!.id) } : {}) };
    },
  );
}
