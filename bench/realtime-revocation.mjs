// Revocation reaching live WebSocket connections: how long after POST /oauth/revoke answers is the
// connection of the revoked token closed (code 3500) by the real-time gateway?
//
//   npx tsc -b && node bench/realtime-revocation.mjs        env: CONNECTIONS=200 PAUSE_MIN=10 PAUSE_MAX=30
//
// One process: the auth server (@tessera/server on a temporary SQLite file, port 0), the gateway
// (@tessera/realtime, its verifier on the server's JWKS, its revocation list following the server's event
// stream over HTTP, as a separate node would) and CONNECTIONS raw WebSocket clients speaking the Centrifuge
// protocol, each connected with its own access token (client credentials of one service client, one-hour
// TTL, fetched before the measurement). Then, one at a time with a random pause of PAUSE_MIN..PAUSE_MAX ms,
// each token is revoked with POST /oauth/revoke. t0: the revoke response has been read; t1: the client's
// socket reports its close. Latency = t1 - t0, negative when the close arrived before the HTTP answer was
// read (the server pushes the revocation before it answers). Percentiles are nearest-rank.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { createGateway } from '@tessera/realtime';
import { createServer } from '@tessera/server';
import { contextOf, registerClient } from '@tessera/server/internal';
import { createRevocationList, createVerifier, REVOCATIONS_SCOPE } from '@tessera/verifier';
import WebSocket from 'ws';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 200);
const PAUSE_MIN = Number(process.env.PAUSE_MIN ?? 10);
const PAUSE_MAX = Number(process.env.PAUSE_MAX ?? 30);
const AUDIENCE = 'realtime';

const dir = mkdtempSync(join(tmpdir(), 'tessera-rt-revocation-'));
const server = await createServer({ overrides: { dataDir: dir, port: 0, logLevel: 'silent' } });
await server.listen();
const issuer = server.config.issuer;
const ctx = contextOf(server);
const register = async (input) => {
  const { client, secret } = await registerClient(ctx.store, ctx.master, input, ctx.now());
  return { id: client.id, secret };
};
const service = await register({
  id: 'svc',
  grantTypes: ['client_credentials'],
  scopes: ['chat:room:*:subscribe'],
  audiences: [AUDIENCE],
  accessTokenTtl: 3600,
});
const feed = await register({
  id: 'feed',
  grantTypes: ['client_credentials'],
  scopes: [REVOCATIONS_SCOPE],
  audiences: [`${issuer}/revocations`],
});
const basic = `Basic ${Buffer.from(`${service.id}:${service.secret}`).toString('base64')}`;
const form = (path, body) =>
  fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });

const revocations = createRevocationList({ issuer, clientId: feed.id, clientSecret: feed.secret });
await revocations.ready(10_000);
const verifier = createVerifier({
  issuer,
  audience: AUDIENCE,
  algorithms: ['ES256', 'EdDSA', 'RS256'],
  jwksUri: `${issuer}/.well-known/jwks.json`,
  revocations,
});
const gateway = createGateway({
  verifier,
  revocations,
  channels: { namespaces: { chat: {} } },
  limits: { pingIntervalMs: 600_000 },
});
const { wsUrl } = await gateway.listen();

const clients = [];
for (let i = 0; i < CONNECTIONS; i++) {
  const r = await form('/oauth/token', { grant_type: 'client_credentials' });
  const { access_token: token } = await r.json();
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const connected = new Promise((resolve) => ws.once('message', resolve));
  ws.send(JSON.stringify({ id: 1, connect: { token } }));
  await connected;
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve({ code, at: performance.now() })));
  clients.push({ token, closed });
}

const latencies = [];
let wrongCode = 0;
for (const c of clients) {
  await new Promise((r) => setTimeout(r, PAUSE_MIN + Math.random() * (PAUSE_MAX - PAUSE_MIN)));
  const res = await form('/oauth/revoke', { token: c.token, token_type_hint: 'access_token' });
  await res.arrayBuffer();
  const t0 = performance.now();
  const { code, at } = await c.closed;
  if (code !== 3500) wrongCode++;
  latencies.push(at - t0);
}

const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (v) => v.toFixed(2);
console.log(`connections revoked: ${latencies.length}, closed with a code other than 3500: ${wrongCode}`);
console.log(
  `latency from the revoke response to the close, ms: p50 ${ms(pct(50))}, p90 ${ms(pct(90))}, p99 ${ms(pct(99))}, max ${ms(sorted.at(-1))}, min ${ms(sorted[0])}`,
);
console.log(`negative (closed before the revoke response was read): ${latencies.filter((l) => l < 0).length}`);
console.log(
  `${cpus()[0]?.model} x${cpus().length}, node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

await gateway.close();
verifier.close();
revocations.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
