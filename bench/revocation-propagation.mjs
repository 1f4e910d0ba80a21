// Revocation propagation benchmark: how long after POST /oauth/revoke answers does every verifier refuse the
// token? A cluster of auth-server instances (separate processes, one PostgreSQL schema, one Redis) behind the
// test harness's TCP round-robin balancer, and verifier processes: some follow the revocation event stream
// through the balancer (so each is attached to one instance), the others follow Redis directly.
//
//   npx tsc -b && node bench/revocation-propagation.mjs
//   env: RUNS=3 INSTANCES=3 STREAM_VERIFIERS=7 REDIS_VERIFIERS=3 REVOCATIONS=200 PAUSE_MIN=20 PAUSE_MAX=50
//        CHECK_EVERY=10 DEADLINE_MS=5000 PG_PROXY=0
//   needs PostgreSQL at 127.0.0.1:5432 (user postgres, database test; TESSERA_TEST_POSTGRES overrides) and the
//   redis-server binary, as packages/server/test/cluster.test.ts does.
//
// Method: each run starts a fresh cluster (packages/server/test/helpers/cluster.ts). Every access token to be
// revoked is fetched before the measurement (client_credentials of a service client with a one-hour access
// TTL), so the token endpoint is not timed. Then, one at a time with a random pause of PAUSE_MIN..PAUSE_MAX ms
// between them, each token is revoked with POST /oauth/revoke (client_secret_basic, token_type_hint
// access_token) on a new connection to the balancer, so that revocations go through every instance in turn.
// t0 is the wall clock (performance.timeOrigin + performance.now(), as the verifiers use) when the revoke
// response has been read; each verifier reports over IPC the wall clock at which it applied the revocation
// (matched by the token's jti); latency = that time - t0. It is negative when the verifier heard of the
// revocation before the HTTP answer reached us (the instance publishes on Redis and writes its audit event
// before it answers): reported as is, and counted. Also recorded: latency from when the revoke request was
// sent (an upper bound that includes the revoke itself), and when the revocation showed up on the Redis bus
// (a subscriber of this script's own). Every CHECK_EVERY-th token is verified on every verifier before the
// run (GET /check -> 200, which also fills their verified-token cache) and again right after every verifier
// has reported its revocation (-> 401 expected). The script peeks at the balancer's connections (a private
// field of the harness's Balancer) to tell which instance answered each revocation and which instance each
// stream verifier is attached to; stream latencies are split by "same instance" and "other instance". The
// instances reach PostgreSQL directly, not through the harness's fault-injection TCP proxy (PG_PROXY=1 keeps
// it), which would relay every query through this script's event loop.
// Percentiles are nearest-rank over all (revocation x verifier) samples. Writes bench/results/revocation-propagation.json.
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { loadMasterKey, openPostgresStore, registerClient } from '@tessera/server/internal';
import { REVOCATIONS_CHANNEL, REVOCATIONS_SCOPE } from '@tessera/verifier';
import { Redis } from 'ioredis';

import { Cluster } from '../packages/server/dist-test/helpers/cluster.js';
import { createSchema, dropSchema, urlWithSchema } from '../packages/server/dist-test/helpers/postgres.js';

const RUNS = Number(process.env.RUNS ?? 3);
const INSTANCES = Number(process.env.INSTANCES ?? 3);
const STREAM_VERIFIERS = Number(process.env.STREAM_VERIFIERS ?? 7);
const REDIS_VERIFIERS = Number(process.env.REDIS_VERIFIERS ?? 3);
const REVOCATIONS = Number(process.env.REVOCATIONS ?? 200);
const PAUSE_MIN = Number(process.env.PAUSE_MIN ?? 20);
const PAUSE_MAX = Number(process.env.PAUSE_MAX ?? 50);
const CHECK_EVERY = Number(process.env.CHECK_EVERY ?? 10);
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 5_000);
const PG_PROXY = process.env.PG_PROXY === '1';
const TARGET_P99_MS = 50;
const AUDIENCE = 'https://orders.example';
const SCOPE = 'orders:read';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const wallClock = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const basic = (id, secret) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const round1 = (x) => (x === undefined ? undefined : Math.round(x * 10) / 10);

/** Nearest-rank percentiles (ms) of a list of samples. */
function stats(xs) {
  if (xs.length === 0) return { n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return {
    n: s.length,
    p50: round1(at(0.5)),
    p90: round1(at(0.9)),
    p99: round1(at(0.99)),
    max: round1(s[s.length - 1]),
    min: round1(s[0]),
    negative: s.filter((x) => x < 0).length,
  };
}

/**
 * Watches the balancer's connections: which backend each client connection went to, and, for revocation
 * streams, which verifier opened it (from the client_id of the bearer token in the request). Relies on the
 * harness adding each client socket, then its upstream socket, to `balancer.sockets` once connected.
 */
const STREAM_REQUEST = Buffer.from('GET /revocations/stream');
function watchBalancer(balancer, onStream) {
  const backendOf = new Map();
  let client;
  balancer.sockets = new (class extends Set {
    add(socket) {
      if (socket.localPort === balancer.port) {
        client = socket;
        // The client socket is paused until it is piped: this listener sees the requests without resuming it.
        // A verifier may send the stream request on the keep-alive connection of its token request.
        socket.on('data', (chunk) => {
          if (!chunk.subarray(0, 23).equals(STREAM_REQUEST)) return;
          const head = chunk.toString('latin1');
          const auth = /^authorization: Bearer (\S+)/im.exec(head);
          if (auth) onStream(claimsOf(auth[1]).client_id, backendOf.get(socket.remotePort));
        });
      } else if (client) {
        backendOf.set(client.remotePort, socket.remotePort);
        client = undefined;
      }
      return super.add(socket);
    }
  })(balancer.sockets);
  return backendOf;
}

/** POST /oauth/revoke on a connection of its own; resolves with the local port, send time and answer time. */
function revoke(url, authorization, token) {
  const body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
  return new Promise((resolve, reject) => {
    const sentAt = wallClock();
    let localPort;
    const req = request(
      `${url}/oauth/revoke`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          connection: 'close',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const answeredAt = wallClock();
          if (res.statusCode !== 200) reject(new Error(`revoke answered ${res.statusCode}`));
          else resolve({ sentAt, answeredAt, localPort });
        });
      },
    );
    req.on('socket', (s) => s.once('connect', () => (localPort = s.localPort)));
    req.on('error', reject);
    req.end(body);
  });
}

async function postForm(url, form, authorization) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

async function run(index) {
  // The instances reach PostgreSQL directly (a schema of our own), not through the harness's fault-injection
  // proxy, which lives in this process: PG_PROXY=1 keeps the proxy.
  const schema = PG_PROXY ? undefined : await createSchema();
  const cluster = await Cluster.start({ instances: INSTANCES, env: schema ? { TESSERA_DATABASE: urlWithSchema(schema) } : {} });
  const store = openPostgresStore(schema ? urlWithSchema(schema) : cluster.directDatabase);
  const bus = new Redis(cluster.redis.url);
  try {
    const instanceOf = (port) => cluster.instances.findIndex((i) => i.port === port);
    const streamAttachments = new Map();
    const backendOf = watchBalancer(cluster.balancer, (clientId, port) => {
      const list = streamAttachments.get(clientId) ?? [];
      list.push(instanceOf(port));
      streamAttachments.set(clientId, list);
    });

    const master = loadMasterKey({ masterKey: cluster.env.TESSERA_MASTER_KEY, masterKeyFile: '', create: false });
    const now = Date.now();
    const reg = async (input) => {
      const { client, secret } = await registerClient(store, master, input, now);
      return { id: client.id, secret, authorization: basic(client.id, secret) };
    };
    const service = await reg({
      id: 'reports',
      grantTypes: ['client_credentials'],
      scopes: [SCOPE],
      audiences: [AUDIENCE],
      accessTokenTtl: 3_600,
    });

    // Verifiers: each with a feed client of its own, so that its stream can be told apart at the balancer.
    const sources = [...Array(STREAM_VERIFIERS).fill('stream'), ...Array(REDIS_VERIFIERS).fill('redis')];
    const verifiers = await Promise.all(
      sources.map(async (source, i) => {
        const feed = await reg({
          id: `verifier-${i}`,
          grantTypes: ['client_credentials'],
          scopes: [REVOCATIONS_SCOPE],
          audiences: [`${cluster.url}/revocations`],
        });
        const v = await cluster.addVerifier({
          VERIFIER_CLIENT_ID: feed.id,
          VERIFIER_CLIENT_SECRET: feed.secret,
          VERIFIER_AUDIENCE: AUDIENCE,
          ...(source === 'redis' ? { VERIFIER_REDIS_URL: cluster.redis.url } : {}),
        });
        const appliedAt = new Map();
        v.proc.on('message', (m) => {
          if (m.type === 'revocation' && m.kind === 'jti') appliedAt.set(m.value, m.at);
        });
        return { v, source, clientId: feed.id, appliedAt };
      }),
    );

    // When each revocation went by on the Redis bus.
    const onBus = new Map();
    await bus.subscribe(REVOCATIONS_CHANNEL);
    bus.on('message', (_c, m) => {
      const at = wallClock();
      const msg = JSON.parse(m);
      if (msg.type === 'revocation' && msg.revocation.kind === 'jti') onBus.set(msg.revocation.value, at);
    });

    // The tokens, fetched up front.
    const tokens = [];
    for (let next = 0; next < REVOCATIONS;) {
      const batch = Array.from({ length: Math.min(8, REVOCATIONS - next) }, () =>
        postForm(
          `${cluster.url}/oauth/token`,
          { grant_type: 'client_credentials', scope: SCOPE, resource: AUDIENCE },
          service.authorization,
        ),
      );
      next += batch.length;
      for (const b of await Promise.all(batch)) tokens.push({ token: b.access_token, jti: claimsOf(b.access_token).jti });
    }
    const checked = tokens.filter((_, i) => i % CHECK_EVERY === 0);
    for (const t of checked) {
      const statuses = await Promise.all(verifiers.map(({ v }) => v.check(t.token)));
      if (statuses.some((s) => s !== 200)) throw new Error(`a fresh token was refused before its revocation: ${statuses}`);
    }
    await sleep(1_000);

    const loadBefore = loadavg()[0];
    const revocations = [];
    const refusals = { checked: 0, wrong: [] };
    for (const [i, t] of tokens.entries()) {
      const r = await revoke(cluster.url, service.authorization, t.token);
      revocations.push({ ...t, ...r, instance: instanceOf(backendOf.get(r.localPort)) });
      if (i % CHECK_EVERY === 0) {
        // Right after every verifier has reported applying it, each must refuse the token.
        const deadline = r.answeredAt + DEADLINE_MS;
        while (verifiers.some((x) => !x.appliedAt.has(t.jti)) && wallClock() < deadline) await sleep(2);
        const statuses = await Promise.all(verifiers.map(({ v }) => v.check(t.token)));
        refusals.checked += statuses.length;
        statuses.forEach((s, k) => s !== 401 && refusals.wrong.push({ jti: t.jti, verifier: k, status: s }));
      }
      await sleep(PAUSE_MIN + Math.random() * (PAUSE_MAX - PAUSE_MIN));
    }
    const last = revocations.at(-1).answeredAt;
    while (verifiers.some((x) => revocations.some((r) => !x.appliedAt.has(r.jti))) && wallClock() < last + DEADLINE_MS)
      await sleep(20);
    const loadAfter = loadavg()[0];

    // Samples.
    const attachedTo = (clientId) => streamAttachments.get(clientId)?.at(-1);
    const groups = {
      all: [],
      stream: [],
      redis: [],
      streamSameInstance: [],
      streamOtherInstance: [],
      fromSend: [],
      bus: [],
      streamOtherAfterBus: [],
      redisAfterBus: [],
    };
    let late = 0;
    /** The five slowest samples: which revocation (in order), which verifier. */
    const slowest = [];
    const lateSamples = [];
    for (const [n, r] of revocations.entries()) {
      let reachedAll = true;
      if (onBus.has(r.jti)) groups.bus.push(onBus.get(r.jti) - r.answeredAt);
      for (const [k, x] of verifiers.entries()) {
        const at = x.appliedAt.get(r.jti);
        if (at === undefined || at - r.answeredAt > DEADLINE_MS) {
          reachedAll = false;
          lateSamples.push({ jti: r.jti, verifier: k, latency: at === undefined ? null : at - r.answeredAt });
          continue;
        }
        const latency = at - r.answeredAt;
        slowest.push({ revocation: n, verifier: k, source: x.source, latencyMs: round1(latency) });
        slowest.sort((a, b) => b.latencyMs - a.latencyMs).splice(5);
        groups.all.push(latency);
        groups.fromSend.push(at - r.sentAt);
        groups[x.source].push(latency);
        const other = x.source === 'stream' && attachedTo(x.clientId) !== r.instance;
        if (x.source === 'stream') (other ? groups.streamOtherInstance : groups.streamSameInstance).push(latency);
        // From the Redis bus on: what the other instances' catch-up (a read from PostgreSQL) and the stream add.
        if (onBus.has(r.jti) && (other || x.source === 'redis'))
          groups[other ? 'streamOtherAfterBus' : 'redisAfterBus'].push(at - onBus.get(r.jti));
      }
      if (!reachedAll) late++;
    }
    const perInstance = Array.from({ length: INSTANCES }, (_, k) => revocations.filter((r) => r.instance === k).length);
    const result = {
      run: index + 1,
      loadAverage: [Number(loadBefore.toFixed(2)), Number(loadAfter.toFixed(2))],
      revocations: revocations.length,
      revocationsPerInstance: perInstance,
      streamVerifiersPerInstance: Array.from(
        { length: INSTANCES },
        (_, k) => verifiers.filter((x) => x.source === 'stream' && attachedTo(x.clientId) === k).length,
      ),
      streamReconnections: verifiers.reduce((n, x) => n + Math.max(0, (streamAttachments.get(x.clientId)?.length ?? 1) - 1), 0),
      revokeRoundTripMs: stats(revocations.map((r) => r.answeredAt - r.sentAt)),
      notEverywhereWithinDeadline: late,
      lateSamples: lateSamples.slice(0, 20),
      slowest,
      refusalChecks: { checked: refusals.checked, not401: refusals.wrong.length, examples: refusals.wrong.slice(0, 10) },
      latencyMs: Object.fromEntries(Object.entries(groups).map(([k, xs]) => [k, stats(xs)])),
    };
    return { result, groups };
  } finally {
    bus.disconnect();
    await store.close();
    await cluster.close();
    if (schema) await dropSchema(schema).catch(() => undefined);
  }
}

const loadBefore = loadavg()[0];
const runs = [];
const pooled = {};
for (let i = 0; i < RUNS; i++) {
  const { result, groups } = await run(i);
  runs.push(result);
  for (const [k, xs] of Object.entries(groups)) (pooled[k] ??= []).push(...xs);
  const l = result.latencyMs;
  console.error(
    `run ${i + 1}: all p50 ${l.all.p50} p99 ${l.all.p99} max ${l.all.max} ms; stream p99 ${l.stream.p99}, redis p99 ${l.redis.p99}; ` +
      `not everywhere in ${DEADLINE_MS} ms: ${result.notEverywhereWithinDeadline}; not 401: ${result.refusalChecks.not401}/${result.refusalChecks.checked}; load ${result.loadAverage.join(' -> ')}`,
  );
}

const latencyMs = Object.fromEntries(Object.entries(pooled).map(([k, xs]) => [k, stats(xs)]));
const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  /** One-minute load average of the machine before and after all runs (2 cores: above 2, others compete). */
  loadAverage: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
  runs: RUNS,
  instances: INSTANCES,
  streamVerifiers: STREAM_VERIFIERS,
  redisVerifiers: REDIS_VERIFIERS,
  revocationsPerRun: REVOCATIONS,
  pauseMs: [PAUSE_MIN, PAUSE_MAX],
  deadlineMs: DEADLINE_MS,
  pgProxy: PG_PROXY,
  /** Over every run: latency from the revoke answer (bus: when the revocation went by on Redis; fromSend: from the revoke request). */
  latencyMs,
  notEverywhereWithinDeadline: runs.reduce((n, r) => n + r.notEverywhereWithinDeadline, 0),
  refusalChecks: {
    checked: runs.reduce((n, r) => n + r.refusalChecks.checked, 0),
    not401: runs.reduce((n, r) => n + r.refusalChecks.not401, 0),
  },
  target: `p99 < ${TARGET_P99_MS} ms, every revocation everywhere within ${DEADLINE_MS} ms`,
  targetMet: latencyMs.all.p99 < TARGET_P99_MS && runs.every((r) => r.notEverywhereWithinDeadline === 0),
  perRun: runs,
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/revocation-propagation.json'), JSON.stringify(summary, null, 2) + '\n');

const LABELS = {
  all: 'every verifier',
  stream: 'event stream (through the balancer)',
  streamSameInstance: '  attached to the instance that revoked',
  streamOtherInstance: '  attached to another instance',
  redis: 'Redis directly',
  bus: '(the Redis bus itself)',
  streamOtherAfterBus: '(stream, other instance: from the bus on)',
  redisAfterBus: '(Redis directly: from the bus on)',
  fromSend: 'every verifier, from the revoke request',
};
console.log(`| verifiers | samples | p50 ms | p99 ms | max ms | negative |\n| --- | ---: | ---: | ---: | ---: | ---: |`);
for (const [k, label] of Object.entries(LABELS)) {
  const s = latencyMs[k];
  console.log(`| ${label} | ${s.n} | ${s.p50} | ${s.p99} | ${s.max} | ${s.negative} |`);
}
console.log(
  `\n${RUNS} runs x ${REVOCATIONS} revocations, ${INSTANCES} instances, ${STREAM_VERIFIERS} stream + ${REDIS_VERIFIERS} Redis verifiers; ` +
    `not everywhere within ${DEADLINE_MS} ms: ${summary.notEverywhereWithinDeadline}; refused with 401 after the report: ` +
    `${summary.refusalChecks.checked - summary.refusalChecks.not401}/${summary.refusalChecks.checked}; target p99 < ${TARGET_P99_MS} ms: ${summary.targetMet ? 'met' : 'missed'}`,
);
console.log(`${summary.machine}, node ${summary.node}, load average ${summary.loadAverage.join(' -> ')}`);
