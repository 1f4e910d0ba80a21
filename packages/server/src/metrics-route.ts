import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import { bearerGuard } from './admin/guard.js';
import type { ServerContext } from './context.js';
import { baseUrl } from './config/load.js';

export const METRICS_SCOPE = 'tessera:metrics';

/** The audience of tokens for `/metrics` on the main port: `<issuer>/metrics`. */
export function metricsAudience(issuer: string): string {
  return `${issuer}/metrics`;
}

/**
 * GET /metrics on the main port, for an access token holding `tessera:metrics` for `<issuer>/metrics`:
 * metrics tell an outsider what is going on (which logins fail, how many, how fast), so they are not public.
 */
export function metricsRoute(app: FastifyInstance, ctx: ServerContext): void {
  const guard = bearerGuard(ctx, { audience: metricsAudience, scope: METRICS_SCOPE, realm: 'tessera-metrics' });
  app.get('/metrics', async (req, reply) => {
    if (!(await guard(req, reply))) return reply;
    return reply
      .header('cache-control', 'no-store')
      .type(ctx.metrics.registry.contentType)
      .send(await ctx.metrics.registry.metrics());
  });
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * `/metrics` on a listener of its own (`metricsHost`:`metricsPort`), without a token: for a scraper on a
 * private network. Anything else on it is a 404.
 */
export async function startMetricsListener(registry: Registry, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    url: baseUrl(host, (server.address() as AddressInfo).port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
