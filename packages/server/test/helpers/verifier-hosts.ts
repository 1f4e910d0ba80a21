import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Verifier } from '@tessera/verifier';
import { tesseraExpress } from '@tessera/verifier/express';
import { tesseraFastify } from '@tessera/verifier/fastify';
import { withAuth as fetchWithAuth } from '@tessera/verifier/fetch';
import { authenticate } from '@tessera/verifier/node';
import express from 'express';
import Fastify from 'fastify';

/** A service protected by a Verifier through one of its adapters: GET /orders answers 200 with the caller's sub. */
export interface VerifierHost {
  name: string;
  get(authorization: string): Promise<{ status: number; headers: Headers; body: string }>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function viaHttp(base: string, authorization: string) {
  const res = await fetch(`${base}/orders`, { headers: { authorization } });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The same Verifier behind every adapter: Fastify, Express, node:http and fetch. */
export async function verifierHosts(verifier: Verifier): Promise<VerifierHost[]> {
  const fastify = Fastify({ logger: false });
  await fastify.register(tesseraFastify, { verifier });
  fastify.get('/orders', async (req) => req.principal!.sub);
  const fastifyBase = await fastify.listen({ port: 0, host: '127.0.0.1' });

  const app = express();
  app.use(tesseraExpress(verifier));
  app.get('/orders', (req, res) => void res.send(req.principal!.sub));
  const expressServer = createServer(app);
  const expressBase = await listen(expressServer);

  const nodeServer = createServer(async (req, res) => {
    const principal = await authenticate(verifier, req, res);
    if (principal) res.end(principal.sub);
  });
  const nodeBase = await listen(nodeServer);

  const handler = fetchWithAuth(verifier, (_req, p) => new Response(p.sub));

  return [
    { name: 'fastify', get: (a) => viaHttp(fastifyBase, a), close: () => fastify.close() },
    { name: 'express', get: (a) => viaHttp(expressBase, a), close: () => closeServer(expressServer) },
    { name: 'node:http', get: (a) => viaHttp(nodeBase, a), close: () => closeServer(nodeServer) },
    {
      name: 'fetch',
      async get(authorization) {
        const res = await handler(new Request('http://fetch.test/orders', { headers: { authorization } }));
        return { status: res.status, headers: res.headers, body: await res.text() };
      },
      close: async () => {},
    },
  ];
}
