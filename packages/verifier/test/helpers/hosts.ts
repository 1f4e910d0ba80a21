import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { Principal, Verifier } from '@tessera/verifier';
import { tesseraExpress, requireScope } from '@tessera/verifier/express';
import { tesseraFastify } from '@tessera/verifier/fastify';
import { withAuth as fetchWithAuth } from '@tessera/verifier/fetch';
import { authenticate } from '@tessera/verifier/node';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';

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

const who = (p: Principal) => JSON.stringify({ sub: p.sub, clientId: p.clientId, scopes: p.scopes, jkt: p.jkt, x5t: p.x5t });

/**
 * A host served over TLS that asks every client for a certificate (mutual TLS) and takes any, or none: the
 * certificate is for the verifier to check against a certificate-bound token (RFC 8705), not for the handshake.
 */
export interface HostTls {
  /** The server's certificate and key, PEM. */
  cert: string;
  key: string;
  /** The CA clients trust the server's certificate by. */
  ca: string;
}

/**
 * A GET over TLS by node:https (trusting `tls.ca`), on a connection of its own (no session reuse), presenting
 * `client`'s certificate when given.
 */
export function viaHttps(
  base: string,
  path: string,
  tls: HostTls,
  request: { authorization?: string; headers?: Record<string, string>; client?: { cert: string; key: string } } = {},
): Promise<HostResponse> {
  const { authorization, headers, client } = request;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      base + path,
      {
        ca: tls.ca,
        agent: false,
        headers: requestHeaders(authorization, headers),
        ...(client ? { cert: client.cert, key: client.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString() });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function httpsOptions(tls: HostTls) {
  return { cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: false };
}
/** The body of the host application's own error handler. */
const appError = (err: unknown) =>
  JSON.stringify({ error: 'app_handler', message: err instanceof Error ? err.message : String(err) });
const REALM = 'orders-api';

async function listen(server: Server, scheme: 'http' | 'https' = 'http'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

/** A host's `request`: by fetch over http, by node:https without a client certificate over TLS. */
function requester(base: string, tls: HostTls | undefined): Host['request'] {
  if (tls === undefined) return (p, a, h) => viaHttp(base, p, a, h);
  return (p, a, h) => viaHttps(base, p, tls, { authorization: a, headers: h });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function fastifyHost(verifier: Verifier, tls?: HostTls): Promise<Host> {
  // Typed as the plain host: the routes and hooks are the same over https.
  const app =
    tls === undefined
      ? Fastify({ logger: false })
      : (Fastify({ logger: false, https: httpsOptions(tls) }) as unknown as FastifyInstance);
  app.setErrorHandler((err, _req, reply) => reply.code(500).type('application/json').send(appError(err)));
  await app.register(tesseraFastify, { verifier, realm: REALM });
  for (const [path, policy] of Object.entries(ROUTES)) {
    app.get(path, { config: { tessera: policy } }, async (req) => who(req.principal!));
  }
  app.get('/public', { config: { tessera: { public: true } } }, async (req) =>
    JSON.stringify({ public: true, principal: req.principal }),
  );
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { name: 'fastify', base, request: requester(base, tls), close: () => app.close() };
}

async function expressHost(verifier: Verifier, tls?: HostTls): Promise<Host> {
  const app = express();
  app.get('/public', (_req, res) => void res.send(JSON.stringify({ public: true })));
  app.use(tesseraExpress(verifier, { realm: REALM }));
  for (const [path, policy] of Object.entries(ROUTES)) {
    app.get(path, requireScope(policy.scopes, policy.mode, { realm: REALM }), (req, res) => void res.send(who(req.principal!)));
  }
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).type('application/json').send(appError(err));
  });
  const server = tls === undefined ? createServer(app) : createHttpsServer(httpsOptions(tls), app);
  const base = await listen(server, tls === undefined ? 'http' : 'https');
  return { name: 'express', base, request: requester(base, tls), close: () => closeServer(server) };
}

async function nodeHost(verifier: Verifier, tls?: HostTls): Promise<Host> {
  const listener: Parameters<typeof createServer>[1] = async (req, res) => {
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
  };
  const server = tls === undefined ? createServer(listener) : createHttpsServer(httpsOptions(tls), listener);
  const base = await listen(server, tls === undefined ? 'http' : 'https');
  return { name: 'node:http', base, request: requester(base, tls), close: () => closeServer(server) };
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

/** The hosts; each but fetch (a fetch Request has no TLS peer certificate) also over mutual TLS, given `tls`. */
export const HOSTS: readonly { name: string; start: (v: Verifier, tls?: HostTls) => Promise<Host> }[] = [
  { name: 'fastify', start: fastifyHost },
  { name: 'express', start: expressHost },
  { name: 'node:http', start: nodeHost },
  { name: 'fetch', start: fetchHost },
];
