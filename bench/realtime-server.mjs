// One WebSocket server for bench/realtime.mjs, started as a child process with an IPC channel:
//   tessera   @tessera/realtime createGateway (Centrifuge client protocol, JSON), one namespace `chat`
//             without history or presence, the publish rate limit raised out of the way (see below)
//   baseline  a bare `ws` WebSocketServer doing the least work the same clients need (see below)
// Both verify connect tokens with the same @tessera/verifier (EdDSA, JWKS from the parent in BENCH_JWKS,
// verified-token cache on, its default), listen on 127.0.0.1 port 0 and send `{type:'ready', wsUrl}` over
// IPC. On `{type:'mem'}` they run the GC twice (node --expose-gc) and answer with process.memoryUsage();
// on `{type:'stats'}` with the connections and subscriptions they hold.
//
// What the baseline does: one JSON.parse per frame (one command per frame, as the bench clients send);
// `connect` -> verifier.verify(token), then a reply; no token, an invalid one or any command before connect
// closes the socket (3500 / 3501). `subscribe` -> the socket joins a Set kept per channel name (no channel
// validation, no rights check), then a reply. `publish` -> the push frame
// `{"push":{"channel":..,"pub":{"data":..,"info":{"user","client"}}}}` (what the gateway sends) serialized
// once into one Buffer, ws.send(buffer) to every socket of the channel's Set, then the reply. `{}` (a pong)
// is ignored. On close the socket leaves its Sets.
// What it does not do, and the gateway does: channel names checked against the namespaces, rights compiled
// from the token's scopes and checked on subscribe and publish, a publish rate limit (a token bucket, here
// set to 1,000,000/s so that it never refuses), a slow-client check (bufferedAmount) before every send,
// per-connection timers (connect timeout, token expiry, server ping every 25 s), an index by user,
// commands queued per connection in order, several commands per frame, the broker interface (history,
// presence, join/leave, multi-node), error replies with codes, logging hooks.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { createGateway } from '@tessera/realtime';
import { createVerifier } from '@tessera/verifier';
import { WebSocketServer } from 'ws';

const ISSUER = 'https://auth.bench';
const AUDIENCE = 'realtime';
const WS_PATH = '/connection/websocket';

const mode = process.argv[2] ?? 'tessera';
const verifier = createVerifier({
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['EdDSA'],
  jwks: JSON.parse(process.env.BENCH_JWKS ?? '{"keys":[]}'),
});

let stats;
let wsUrl;
if (mode === 'tessera') {
  const gateway = createGateway({
    verifier,
    channels: { namespaces: { chat: {} } },
    limits: { publishRate: 1_000_000, publishBurst: 1_000_000 },
  });
  ({ wsUrl } = await gateway.listen());
  stats = () => gateway.stats();
} else if (mode === 'baseline') {
  ({ wsUrl, stats } = await startBaseline());
} else {
  throw new Error(`unknown mode ${mode}`);
}

process.on('message', (m) => {
  if (m.type === 'mem') {
    globalThis.gc?.();
    globalThis.gc?.();
    process.send({ type: 'mem', id: m.id, ...process.memoryUsage() });
  } else if (m.type === 'stats') {
    process.send({ type: 'stats', id: m.id, ...stats() });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send({ type: 'ready', wsUrl });

async function startBaseline() {
  const byChannel = new Map();
  let connections = 0;
  const server = createServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: WS_PATH, perMessageDeflate: false, clientTracking: false, maxPayload: 65_536 });
  wss.on('connection', (ws) => {
    connections++;
    const client = randomUUID();
    let user;
    let info;
    const channels = [];
    ws.on('message', (data) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.close(3501, 'bad request');
        return;
      }
      if (msg.id === undefined) return; // `{}`: the client's pong
      if (msg.connect) {
        if (user !== undefined || typeof msg.connect.token !== 'string') return void ws.close(3501, 'bad request');
        verifier.verify(msg.connect.token).then(
          (p) => {
            user = p.sub;
            info = JSON.stringify({ user, client });
            ws.send(`{"id":${msg.id},"connect":{"client":"${client}","version":"0.0.0","ping":25,"pong":true}}`);
          },
          () => ws.close(3500, 'invalid token'),
        );
      } else if (user === undefined) {
        ws.close(3501, 'bad request');
      } else if (msg.subscribe) {
        const channel = String(msg.subscribe.channel);
        let set = byChannel.get(channel);
        if (!set) byChannel.set(channel, (set = new Set()));
        set.add(ws);
        channels.push(channel);
        ws.send(`{"id":${msg.id},"subscribe":{}}`);
      } else if (msg.publish) {
        const channel = String(msg.publish.channel);
        const set = byChannel.get(channel);
        if (set) {
          const frame = Buffer.from(
            `{"push":{"channel":${JSON.stringify(channel)},"pub":{"data":${JSON.stringify(msg.publish.data)},"info":${info}}}}`,
          );
          for (const s of set) s.send(frame, { binary: false });
        }
        ws.send(`{"id":${msg.id},"publish":{}}`);
      }
    });
    ws.on('close', () => {
      connections--;
      for (const c of channels) {
        const set = byChannel.get(c);
        set?.delete(ws);
        if (set?.size === 0) byChannel.delete(c);
      }
    });
    ws.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const subscriptions = () => [...byChannel.values()].reduce((n, s) => n + s.size, 0);
  return {
    wsUrl: `ws://127.0.0.1:${server.address().port}${WS_PATH}`,
    stats: () => ({ connections, subscriptions: subscriptions(), channels: byChannel.size }),
  };
}
