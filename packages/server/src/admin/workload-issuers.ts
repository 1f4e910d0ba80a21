import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { adminService } from '../services/admin.js';
import { workloadIssuerRecordView } from '../services/workload-issuers.js';
import { actorOf } from './respond.js';

/**
 * The body is an issuer's wire form, checked by the admin service (parseWorkloadIssuer, the one parser of it);
 * the schema only says it is an object of bounded size.
 */
const ISSUER_BODY = { type: 'object', maxProperties: 20 } as const;
const NAME_PARAM = { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 63 } } } as const;

/** Trusted workload issuers: add, list, get, replace, remove. Those of the config file are read-only (409). */
export function workloadIssuerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = adminService(ctx);
  app.get('/admin/workload-issuers', async () => ({
    items: (await admin.workloadIssuers.list()).map(workloadIssuerRecordView),
  }));

  app.post<{ Body: unknown }>('/admin/workload-issuers', { schema: { body: ISSUER_BODY } }, async (req, reply) =>
    reply.code(201).send(workloadIssuerRecordView(await admin.workloadIssuers.add(actorOf(req), req.body))),
  );

  app.get<{ Params: { name: string } }>('/admin/workload-issuers/:name', { schema: { params: NAME_PARAM } }, async (req) =>
    workloadIssuerRecordView(await admin.workloadIssuers.get(req.params.name)),
  );

  app.put<{ Params: { name: string }; Body: unknown }>(
    '/admin/workload-issuers/:name',
    { schema: { params: NAME_PARAM, body: ISSUER_BODY } },
    async (req) => workloadIssuerRecordView(await admin.workloadIssuers.replace(actorOf(req), req.params.name, req.body)),
  );

  app.delete<{ Params: { name: string } }>(
    '/admin/workload-issuers/:name',
    { schema: { params: NAME_PARAM } },
    async (req, reply) => {
      await admin.workloadIssuers.remove(actorOf(req), req.params.name);
      return reply.code(204).send();
    },
  );
}
