// The chat: one HTTP server for the page (public/), its backend-for-frontend (session.js) and the WebSocket
// gateway (@tessera/realtime, Centrifuge protocol, on /connection/websocket). The gateway verifies tokens for
// audience "chat" against the auth server's JWKS, takes channel rights from their scopes, and follows the
// server's revocation feed: a revoked user's connections close at once.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createGateway } from '@tessera/realtime';
import { createRevocationList, createVerifier } from '@tessera/verifier';

import { authClient } from './auth-client.js';
import { send, sessionRoutes } from './session.js';

export const CHAT_AUDIENCE = 'chat';
/** The rights a chat user needs, on every room: `chat:room:<name>` (see @tessera/realtime channels). */
export const CHAT_SCOPES = ['subscribe', 'publish', 'presence', 'history'].map((action) => `chat:room:*:${action}`);

const CHANNELS = {
  namespaces: { chat: { history: { size: 100, ttlSeconds: 600 }, presence: true, joinLeave: true } },
};

// The page, and the SDK's browser bundle (it defines `globalThis.Centrifuge`) from the installed package.
const sdk = join(dirname(fileURLToPath(import.meta.resolve('centrifuge'))), '..', 'dist', 'centrifuge.js');
const page = (name) => fileURLToPath(new URL(`public/${name}`, import.meta.url));
const FILES = {
  '/': [page('index.html'), 'text/html; charset=utf-8'],
  '/app.js': [page('app.js'), 'text/javascript; charset=utf-8'],
  '/style.css': [page('style.css'), 'text/css; charset=utf-8'],
  '/vendor/centrifuge.js': [sdk, 'text/javascript; charset=utf-8'],
  '/vendor/centrifuge.js.map': [`${sdk}.map`, 'application/json'],
};
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Starts the chat on `host:port`. `clientId`/`clientSecret` are the chat-web client's (password and
 * refresh_token grants, audience "chat"); `revocationClient` holds tessera:revocations for the audience
 * `<issuer>/revocations`. Resolves once the revocation list is current and the server listens.
 */
export async function startChat({ issuer, host, port, clientId, clientSecret, revocationClient }) {
  const revocations = createRevocationList({
    issuer,
    clientId: revocationClient.clientId,
    clientSecret: revocationClient.clientSecret,
  });
  await revocations.ready(10_000);
  const verifier = createVerifier({
    issuer,
    audience: CHAT_AUDIENCE,
    algorithms: ['ES256'],
    jwksUri: `${issuer}/.well-known/jwks.json`,
    revocations,
  });
  const gateway = createGateway({
    verifier,
    revocations,
    channels: CHANNELS,
    logger: (level, event, fields) => {
      if (level !== 'info') console.warn(`[chat] ${level} ${event} ${JSON.stringify(fields)}`);
    },
  });
  const routes = sessionRoutes({
    auth: authClient({ issuer, clientId, clientSecret }),
    verifier,
    audience: CHAT_AUDIENCE,
    requiredScope: CHAT_SCOPES[0],
  });
  const files = Object.fromEntries(Object.entries(FILES).map(([path, [file, type]]) => [path, [readFileSync(file), type]]));

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://chat').pathname;
    const route = routes[`${req.method} ${path}`];
    if (route) {
      // Cross-site requests are refused (the cookie is SameSite=Strict too); curl sends no Origin.
      if (!sameOrigin(req)) return send(res, 403, { error: 'cross-origin request refused' });
      route(req, res).catch((err) => {
        console.error(`[chat] ${req.method} ${path}: ${err.message}`);
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
      return;
    }
    const file = files[path];
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return send(res, 404, { error: 'not found' });
    res.writeHead(200, { 'content-type': file[1], ...PAGE_HEADERS }).end(req.method === 'HEAD' ? undefined : file[0]);
  });
  await gateway.attach(server);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${port}`,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      verifier.close();
      revocations.close();
    },
  };
}

/** True unless the browser says the request comes from another origin (curl sends no Origin). */
function sameOrigin(req) {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return URL.canParse(origin) && new URL(origin).host === req.headers.host;
}
