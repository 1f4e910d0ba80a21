// The single-page app example: one HTTP server for the page (public/: plain HTML and JS, no build step), the
// oauth4webapi library the page signs in with (served from the installed package), and the API the page calls
// (GET /api/orders, protected by @tessera/verifier's Fastify plugin, with a revocation list that follows the
// auth server's feed: a revoked session's tokens are refused within milliseconds).
//
// The page signs in with the authorization code flow and PKCE through Tessera's hosted login, keeps its tokens
// in memory only (gone with the tab), and refreshes them with the rotating refresh token.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { createRevocationList, createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';

export const SPA_CLIENT_ID = 'spa';
export const SPA_AUDIENCE = 'spa-api';
export const SPA_SCOPES = ['orders:read'];
/** A loopback redirect URI: the authorization server matches it on any port (RFC 8252 section 7.3). */
export const SPA_REDIRECT_URI = 'http://127.0.0.1/callback';

const file = (path) => readFileSync(fileURLToPath(import.meta.resolve(path)));
const page = (name) => readFileSync(fileURLToPath(new URL(`public/${name}`, import.meta.url)));
const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Starts the app on 127.0.0.1:`port` (a loopback IP, the host its redirect URI names). `revocationClient` holds
 * tessera:revocations for the audience `<issuer>/revocations`. Resolves once the revocation list is current and
 * the server listens, with its URL and `close`.
 */
export async function startSpa({ issuer, port, revocationClient }) {
  const revocations = createRevocationList({
    issuer,
    clientId: revocationClient.clientId,
    clientSecret: revocationClient.clientSecret,
  });
  await revocations.ready(10_000);
  const verifier = createVerifier({
    issuer,
    audience: SPA_AUDIENCE,
    algorithms: ['ES256'],
    jwksUri: `${issuer}/.well-known/jwks.json`,
    revocations,
  });
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
  await app.register(tesseraFastify, { verifier, realm: 'spa-api' });

  const html = page('index.html');
  const script = page('app.js');
  const style = page('style.css');
  const library = file('oauth4webapi');
  // The page may talk to its own origin and to the auth server (discovery, token endpoint), nothing else.
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${new URL(issuer).origin}`,
    "script-src 'self'",
    "style-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const pub = { config: { tessera: { public: true } } };
  const sendPage = (reply) =>
    reply
      .headers({ ...PAGE_HEADERS, 'content-security-policy': csp })
      .type('text/html; charset=utf-8')
      .send(html);
  app.get('/', pub, async (_req, reply) => sendPage(reply));
  app.get('/callback', pub, async (_req, reply) => sendPage(reply));
  app.get('/app.js', pub, async (_req, reply) => reply.headers(PAGE_HEADERS).type('text/javascript; charset=utf-8').send(script));
  app.get('/style.css', pub, async (_req, reply) => reply.headers(PAGE_HEADERS).type('text/css; charset=utf-8').send(style));
  app.get('/vendor/oauth4webapi.js', pub, async (_req, reply) =>
    reply.headers(PAGE_HEADERS).type('text/javascript; charset=utf-8').send(library),
  );
  app.get('/config.json', pub, async () => ({
    issuer,
    clientId: SPA_CLIENT_ID,
    audience: SPA_AUDIENCE,
    scope: SPA_SCOPES.join(' '),
  }));
  app.get('/api/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({
    orders: [{ id: 1, item: 'tessera tiles', for: req.principal.sub }],
  }));

  await app.listen({ port, host: '127.0.0.1' });
  const { port: bound } = app.server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    async close() {
      await app.close();
      verifier.close();
      revocations.close();
    },
  };
}
