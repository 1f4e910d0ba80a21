// One HTTP server for bench/http.mjs and bench/http-instructions.mjs, in one of the modes of http-modes.mjs:
// the same JSON route (`GET /orders`, scope `orders:read` required where a token is checked) unauthenticated,
// behind Tessera's adapters, and behind the libraries users would pick instead, each set up as its README shows.
// Prints `READY <port> <token> <wrong-audience token>` on stdout once listening.
//   node bench/http-server.mjs <mode>
import { createPublicKey } from 'node:crypto';

import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { tesseraExpress } from '@tessera/verifier/express';
import { tesseraFastify } from '@tessera/verifier/fastify';
import fastifyJwt from '@fastify/jwt';
import express from 'express';
import { expressjwt } from 'express-jwt';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import jwksRsa from 'jwks-rsa';

import { MODES } from './http-modes.mjs';

const ISSUER = 'https://auth.bench';
const AUDIENCE = 'orders';
const SCOPE = 'orders:read';
const JWKS_PATH = '/.well-known/jwks.json';

/** Whether a peer's decoded claims hold the route's scope: the check a user adds by hand to each peer. */
const hasScope = (claims) => typeof claims?.scope === 'string' && claims.scope.split(' ').includes(SCOPE);

async function fastifyApp(mode, jwks, publicPem) {
  const app = Fastify({ logger: false });
  if (mode === 'tessera-fastify' || mode === 'tessera-fastify-nocache') {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwks,
      cache: mode === 'tessera-fastify' ? undefined : false,
    });
    await app.register(tesseraFastify, { verifier });
    app.get('/orders', { config: { tessera: { scopes: [SCOPE] } } }, async (req) => ({ ok: true, sub: req.principal.sub }));
    return app;
  }
  if (mode === 'fastify-jwt' || mode === 'fastify-jwt-nocache') {
    // The README's static-key setup (its JWKS way needs get-jwks, which fetches the same key as this PEM), with
    // the checks fast-jwt offers that Tessera's strict profile makes: typ, issuer, audience, required claims.
    await app.register(fastifyJwt, {
      secret: { public: publicPem },
      verify: {
        algorithms: ['ES256'],
        allowedIss: ISSUER,
        allowedAud: AUDIENCE,
        checkTyp: 'at+jwt',
        requiredClaims: ['iss', 'aud', 'exp', 'sub', 'iat', 'jti', 'client_id'],
        cache: mode === 'fastify-jwt',
      },
    });
    // The README's authentication hook, plus the scope check @fastify/jwt leaves to the app.
    app.addHook('onRequest', async (request, reply) => {
      try {
        await request.jwtVerify();
      } catch (err) {
        return reply.send(err);
      }
      if (!hasScope(request.user)) return reply.code(403).send({ error: 'insufficient_scope' });
    });
    app.get('/orders', async (req) => ({ ok: true, sub: req.user.sub }));
    return app;
  }
  if (mode === 'fastify-shell') await app.register(fp(async () => {}));
  app.get('/orders', async () => ({ ok: true, sub: 'alice' }));
  return app;
}

/** Express apps read the JWKS over HTTP, from the server itself, as express-jwt + jwks-rsa must. */
function expressRoute(mode, jwksUri) {
  if (mode === 'tessera-express' || mode === 'tessera-express-nocache') {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      jwksUri,
      // The first fetch, from this server itself, can take longer than the default 5 s under valgrind
      // (bench/http-instructions.mjs); it is not on the measured path.
      jwksOptions: { timeoutMs: 60_000 },
      cache: mode === 'tessera-express' ? undefined : false,
    });
    return [tesseraExpress(verifier, { scopes: [SCOPE] }), (req, res) => res.json({ ok: true, sub: req.principal.sub })];
  }
  if (mode === 'express-jwt') {
    // The README's JWKS setup; jsonwebtoken inside checks issuer, audience, exp and nbf. It has no typ
    // check and no required claims; the scope check is the app's.
    const auth = expressjwt({
      secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true, timeout: 60_000 }),
      algorithms: ['ES256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const scope = (req, res, next) => (hasScope(req.auth) ? next() : res.status(403).json({ error: 'insufficient_scope' }));
    return [auth, scope, (req, res) => res.json({ ok: true, sub: req.auth.sub })];
  }
  return [(req, res) => res.json({ ok: true, sub: 'alice' })];
}

async function listenFastify(app) {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: Number(new URL(address).port), close: () => app.close() };
}

async function expressApp(mode, jwks) {
  const app = express();
  app.get(JWKS_PATH, (req, res) => res.json(jwks));
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = server.address().port;
  // The route is added once the port (and so the JWKS address) is known; Express routes can be added live.
  app.get('/orders', ...expressRoute(mode, `http://127.0.0.1:${port}${JWKS_PATH}`));
  // The express-jwt README's error handler: its refusals are errors passed to next().
  app.use((err, req, res, next) =>
    err.name === 'UnauthorizedError' ? res.status(401).json({ error: 'invalid_token' }) : next(err),
  );
  return { port, close: () => new Promise((resolve) => server.close(resolve)) };
}

const mode = process.argv[2] ?? 'fastify';
const spec = MODES.find((m) => m.mode === mode);
if (spec === undefined) throw new Error(`unknown mode ${mode}; one of ${MODES.map((m) => m.mode).join(', ')}`);
const key = generateKey('ES256');
const claims = { iss: ISSUER, sub: 'alice', client_id: 'web', scope: SCOPE, ttl: 3600 };
const token = signAccessToken({ ...claims, aud: AUDIENCE }, key);
const wrongAudience = signAccessToken({ ...claims, aud: 'billing' }, key);
const jwks = buildJwks([key]);
const publicPem = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
const { port, close } =
  spec.framework === 'fastify' ? await listenFastify(await fastifyApp(mode, jwks, publicPem)) : await expressApp(mode, jwks);
console.log(`READY ${port} ${token} ${wrongAudience}`);
process.on('SIGTERM', () => close().then(() => process.exit(0)));
