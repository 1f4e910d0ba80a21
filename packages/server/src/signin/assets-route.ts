import type { FastifyInstance } from 'fastify';

import type { Asset, Pages } from './pages.js';

/** A day: the pages link each asset with its version in the query, so a changed file is fetched anew. */
const MAX_AGE_S = 86_400;

/** GET /assets/tessera.css and GET /assets/logo: the hosted pages' one stylesheet and their logo, cacheable. */
export function assetsRoute(app: FastifyInstance, pages: Pages): void {
  const serve = (path: string, asset: Asset) =>
    app.get(path, async (req, reply) => {
      const etag = `"${asset.version}"`;
      reply.header('cache-control', `public, max-age=${MAX_AGE_S}`).header('etag', etag);
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(asset.type).send(asset.body);
    });
  serve('/assets/tessera.css', pages.stylesheet);
  serve('/assets/logo', pages.logo);
}
