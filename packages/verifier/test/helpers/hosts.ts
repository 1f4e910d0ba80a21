import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Principal, Verifier } from '@tessera/verifier';
import { tesseraExpress, requireScope } from '@tessera/verifier/express';
import { tesseraFastify } from '@tessera/verifier/fastify';
import { withAuth as fetchWithAuth } from '@tessera/verifier/fetch';
import { authenticate } from '@tessera/verifier/node';
import express from 'express';
import Fastify from 'fastify';

/**
 * The routes every host serves, so that one behaviour suite runs through every adapter:
 *   GET /orders        requires orders:read
 *   GET /orders/write  requires orders:write
 *   GET /any           requires any of (admin:all, orders:read)
 *   GET /public        no token needed
 * Authorized routes answer 200 with { sub, clientId, scopes }. An error that is not a refusal reaches the
 * host application's own error handler, which answers 500 with { error: 'app_handler', message }.
 */
export const ROUTES = {
  '/orders': { scopes: ['orders:read'], mode: 'all' as const },
  '/orders/write': { scopes: ['orders:write'], mode: 'all' as const },
  '/any': { scopes: ['admin:all', 'orders:read'], mode: 'any' as const },
};

export interface HostResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface Host {
  name: string;
  /** The origin clients address the host at (what a DPoP proof's htu names). */
  base: string;
  /** A GET of `path` with this Authorization header (none when undefined) and further headers (DPoP). */
  request(path: string, authorization?: string, headers?: Record<string, string>): Promise<HostResponse>;
  close(): Promise<void>;
}

const who = (p: Principal) => JSON.stringify({ sub: p.sub, clientId: p.clientId, scopes: p.scopes, jkt: p.jkt });
/** The body of the host application's own error handler. */
const appError = (err: unknown) =>
  JSON.stringify({ error: 'app_handler', message: err instanceof Error ? err.message : String(err) });
const REALM = 'orders-api';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function requestHeaders(authorization: string | undefined, headers: Record<string, string> = {}): Record<string, string> {
  return authorization === undefined ? headers : { ...headers, authorization };
}

async function viaHttp(
  base: string,
  path: string,
  authorization?: string,
  headers?: Record<string, string>,
): Promise<HostResponse> {
  const res = await fetch(base + path, { headers: requestHeaders(authorization, headers) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function fastifyHost(verifier: Verifier): Promise<Host> {
  const app = Fastify({ logger: false });
  app.setErrorHandler((err, _req, reply) => reply.code(500).type('application/json').send(appError(err)));
  await app.register(tesseraFastify, { verifier, realm: REALM });
  for (const [path, policy] of Object.entries(ROUTES)) {
    app.get(path, { config: { tessera: policy } }, async (req) => who(req.principal!));
  }
  app.get('/public', { config: { tessera: { public: true } } }, async (req) =>
    JSON.stringify({ public: true, principal: req.principal }),
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { name: 'fastify', base, request: (p, a, h) => viaHttp(base, p, a, h), close: () => app.close() };
}

async function expressHost(verifier: Verifier): Promise<Host> {
  const app = express();
  app.get('/public', (_req, res) => void res.send(JSON.stringify({ public: true })));
  app.use(tesseraExpress(verifier, { realm: REALM }));
  for (const [path, policy] of Object.entries(ROUTES)) {
    app.get(path, requireScope(policy.scopes, policy.mode, { realm: REALM }), (req, res) => void res.send(who(req.principal!)));
  }
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).type('application/json').send(appError(err));
  });
  const server = createServer(app);
  const base = await listen(server);
  return { name: 'express', base, request: (p, a, h) => viaHttp(base, p, a, h), close: () => closeServer(server) };
}

async function nodeHost(verifier: Verifier): Promise<Host> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/public') return void res.end(JSON.stringify({ public: true }));
    const policy = ROUTES[path as keyof typeof ROUTES];
    if (!policy) return void res.writeHead(404).end();
    let principal;
    try {
      principal = await authenticate(verifier, req, res, { ...policy, realm: REALM });
    } catch (err) {
      return void res.writeHead(500, { 'content-type': 'application/json' }).end(appError(err));
    }
    if (principal) res.end(who(principal));
  });
  const base = await listen(server);
  return { name: 'node:http', base, request: (p, a, h) => viaHttp(base, p, a, h), close: () => closeServer(server) };
}

async function fetchHost(verifier: Verifier): Promise<Host> {
  const handlers = Object.fromEntries(
    Object.entries(ROUTES).map(([path, policy]) => [
      path,
      fetchWithAuth(verifier, (_req, p) => new Response(who(p)), { ...policy, realm: REALM }),
    ]),
  );
  return {
    name: 'fetch',
    base: 'http://fetch.test',
    async request(path, authorization, headers) {
      const request = new Request('http://fetch.test' + path, { headers: requestHeaders(authorization, headers) });
      let res: Response;
      try {
        const route = new URL(request.url).pathname;
        res = route === '/public' ? new Response(JSON.stringify({ public: true })) : await handlers[route]!(request);
      } catch (err) {
        res = new Response(appError(err), { status: 500, headers: { 'content-type': 'application/json' } });
      }
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
    close: async () => {},
  };
}

export const HOSTS: readonly { name: string; start: (v: Verifier) => Promise<Host> }[] = [
  { name: 'fastify', start: fastifyHost },
  { name: 'express', start: expressHost },
  { name: 'node:http', start: nodeHost },
  { name: 'fetch', start: fetchHost },
];
