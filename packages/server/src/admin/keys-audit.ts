import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import type { AuditEvent } from '../store/types.js';
import { epochSeconds } from '../services/epoch.js';
import { keyView, listKeys, retireKey, rotateKeys } from '../services/keys.js';
import { actorOf, QUERY_ID, QUERY_LIMIT, QUERY_TIME } from './respond.js';

/** An audit event as the admin API shows it. */
function auditView(e: AuditEvent) {
  return {
    id: e.id,
    occurred_at: epochSeconds(e.time),
    type: e.type,
    outcome: e.outcome,
    actor: e.actor,
    subject: e.subject,
    client_id: e.clientId,
    ip: e.ip,
    data: e.data,
  };
}

/** Signing keys (list, rotate now, retire one) and the audit trail (filter by type, subject, time; newest first, paged). */
export function keyAndAuditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/admin/keys', async () => ({ items: (await listKeys(ctx)).map(keyView) }));

  app.post('/admin/keys/rotate', async (req) => {
    const r = await rotateKeys(ctx, actorOf(req));
    return { kid: r.kid, activates_at: epochSeconds(r.activatesAt) };
  });

  app.post<{ Params: { kid: string } }>('/admin/keys/:kid/retire', async (req) =>
    keyView(await retireKey(ctx, actorOf(req), req.params.kid)),
  );

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
      const ms = (v: string | undefined) => (v === undefined ? undefined : Number(v) * 1000);
      const limit = int(q.limit) ?? 100;
      const events = await ctx.store.audit.query({
        type: q.type,
        subject: q.subject,
        from: ms(q.from),
        to: ms(q.to),
        limit: limit + 1,
        before: int(q.cursor),
      });
      const items = events.slice(0, limit).map(auditView);
      return { items, ...(events.length > limit ? { next: String(items[items.length - 1]!.id) } : {}) };
    },
  );
}
