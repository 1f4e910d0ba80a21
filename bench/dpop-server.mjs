// One HTTP server for bench/dpop.mjs: `GET /orders` (scope orders:read) behind one of Tessera's four adapters
// (fastify, express, node, fetch: the fetch handler bridged from node:http), its verifier with the verified-token
// cache on and DPoP on (the defaults). It mints, with its own issuer key, a bearer token and a token bound to the
// DPoP key whose thumbprint it is given, and prints `READY <port> <bearer token> <bound token>` once listening.
//   node bench/dpop-server.mjs <fastify|express|node|fetch> <jkt>
import { createServer } from 'node:http';

import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { tesseraExpress } from '@tessera/verifier/express';
import { tesseraFastify } from '@tessera/verifier/fastify';
import { withAuth as fetchWithAuth } from '@tessera/verifier/fetch';
import { withAuth as nodeWithAuth } from '@tessera/verifier/node';
import express from 'express';
import Fastify from 'fastify';

const [adapter, jkt] = process.argv.slice(2);
const ISSUER = 'https://auth.bench';
const AUDIENCE = 'orders';
const SCOPE = 'orders:read';
const key = generateKey('ES256');
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: buildJwks([key]) });
const claims = { iss: ISSUER, sub: 'alice', aud: AUDIENCE, client_id: 'web', scope: SCOPE, ttl: 3600 };
const bearer = signAccessToken(claims, key);
const bound = signAccessToken({ ...claims, claims: { cnf: { jkt } } }, key);
const body = (p) => JSON.stringify({ ok: true, sub: p.sub });

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

async function start() {
  switch (adapter) {
    case 'fastify': {
      const app = Fastify({ logger: false });
      await app.register(tesseraFastify, { verifier });
      app.get('/orders', { config: { tessera: { scopes: [SCOPE] } } }, async (req) => ({ ok: true, sub: req.principal.sub }));
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      return Number(new URL(address).port);
    }
    case 'express': {
      const app = express();
      app.get(
        '/orders',
        tesseraExpress(verifier, { scopes: [SCOPE] }),
        (req, res) => void res.json({ ok: true, sub: req.principal.sub }),
      );
      return listen(createServer(app));
    }
    case 'node':
      return listen(
        createServer(
          nodeWithAuth(verifier, (_req, res, p) => res.writeHead(200, { 'content-type': 'application/json' }).end(body(p)), {
            scopes: [SCOPE],
          }),
        ),
      );
    case 'fetch': {
      const handler = fetchWithAuth(verifier, (_request, p) => Response.json({ ok: true, sub: p.sub }), { scopes: [SCOPE] });
      // The smallest node:http bridge: the Request as a fetch host would hand it over, the Response written back.
      return listen(
        createServer(async (req, res) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
          const response = await handler(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers }));
          res.writeHead(response.status, Object.fromEntries(response.headers)).end(Buffer.from(await response.arrayBuffer()));
        }),
      );
    }
    default:
      throw new Error(`unknown adapter ${adapter}: fastify, express, node or fetch`);
  }
}

const port = await start();
console.log(`READY ${port} ${bearer} ${bound}`);
