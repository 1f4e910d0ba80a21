// DPoP (RFC 9449) at the services: what a proof costs per request, against a bearer token, caches on.
//
//   npx tsc -b && node bench/dpop.mjs
//   (env: ROUNDS=5 DURATION=10 WARMUP=3 CONNECTIONS=50 ADAPTERS=fastify,express,node,fetch BENCH_ROUND_MS=1000
//    BENCH_ROUNDS=7)
//
// Two parts, one run, writing bench/results/dpop.json:
//
// 1. In process, pinned to core 0 (`node bench/dpop.mjs micro` alone): one raw node:crypto verification of an
//    ES256 proof's signature (IEEE P1363, the bytes decoded once outside the loop: the floor), core's
//    DpopProofVerifier.verifyProof of that proof (the whole proof check: parse, header rules, key from the jwk
//    header, signature, claims, ath, jkt), and the Verifier's request path (authorizeRequestCached, the token in
//    the verified-token cache) with a Bearer token and with a DPoP token and a fresh proof per call (single use:
//    proofs signed before each round, outside the timing). Interleaved rounds of BENCH_ROUND_MS, median µs of
//    this process's CPU time per call (wall time kept in the JSON). Target: the proof check at most 1.2x one raw
//    verification.
// 2. Over HTTP, per adapter (Fastify plugin, Express middleware, node:http withAuth, fetch withAuth behind a
//    node:http bridge): the server (bench/dpop-server.mjs) pinned to core 0, the load (bench/dpop-load.mjs: keep-alive
//    connections, one request after another, in dpop mode a freshly signed proof per request) on core 1. Each
//    server is first checked to accept both credentials and refuse a DPoP token without proof, a bound token sent as
//    Bearer and a replayed proof. Per round and adapter: bearer and dpop (order alternating by round), each a
//    discarded warm-up run then a measured one; reported: median req/s, p99 and server CPU µs per request (/proc).
//    The load generator signs a proof per request, so in dpop mode it may be the limit of req/s: read the server's
//    CPU per request.
import { execFile } from 'node:child_process';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { buildJwks, DpopProofVerifier, generateKey, signAccessToken } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

import { dpopKey, proofMaker } from './dpop-proofs.mjs';
import { median } from './http-run.mjs';
import { hasTaskset, pin } from './pin.mjs';
import { cpuMs } from './proc.mjs';
import { startProcess, stopServer } from './server-process.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const int = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
};

// ------------------------------------------------------------------------------------------- in process

async function micro() {
  const ROUND_MS = int('BENCH_ROUND_MS', 1000);
  const ROUNDS = int('BENCH_ROUNDS', 7);
  const URL_ = 'https://api.example.com/orders';
  const issuerKey = generateKey('ES256');
  const holder = dpopKey();
  const base = { iss: 'https://auth.bench', sub: 'alice', aud: 'orders', client_id: 'web', scope: 'orders:read', ttl: 3600 };
  const bearer = signAccessToken(base, issuerKey);
  const bound = signAccessToken({ ...base, claims: { cnf: { jkt: holder.jkt } } }, issuerKey);
  const verifier = createVerifier({ issuer: base.iss, audience: base.aud, algorithms: ['ES256'], jwks: buildJwks([issuerKey]) });
  const make = proofMaker(holder, bound, URL_);
  const proof = make();
  const at = proof.lastIndexOf('.');
  const signingInput = Buffer.from(proof.slice(0, at), 'latin1');
  const signature = Buffer.from(proof.slice(at + 1), 'base64url');
  const publicKey = { key: createPublicKey({ key: holder.jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' };
  const fixedNow = Date.now();
  const checker = new DpopProofVerifier({ algorithms: ['ES256'], now: () => fixedNow });
  const proofRequest = { method: 'GET', url: URL_, accessToken: bound, jkt: holder.jkt };
  const bearerRequest = { authorization: `Bearer ${bearer}`, method: 'GET', url: URL_ };
  const dpopAuthorization = `DPoP ${bound}`;
  const options = { scopes: ['orders:read'] };
  // Both tokens verified once: the request paths below run on the verified-token cache.
  await verifier.verify(bearer);
  await verifier.verify(bound);

  let sink;
  let pool = [];
  const contestants = [
    {
      id: 'raw',
      what: 'raw node:crypto verify of the proof (ES256)',
      fn: () => cryptoVerify('sha256', signingInput, publicKey, signature),
    },
    { id: 'proof', what: 'DpopProofVerifier.verifyProof (the proof check)', fn: () => checker.verifyProof(proof, proofRequest) },
    {
      id: 'bearer',
      what: 'Verifier request, Bearer (cached token)',
      fn: () => verifier.authorizeRequestCached(bearerRequest, options),
    },
    {
      id: 'dpop',
      what: 'Verifier request, DPoP (cached token, fresh proof)',
      pooled: true,
      fn: (i) =>
        verifier.authorizeRequestCached({ authorization: dpopAuthorization, dpop: pool[i], method: 'GET', url: URL_ }, options),
    },
  ];
  /** µs per call of this process's CPU time (what a neighbour on the core does not change) and of wall time. */
  const run = (c, ms, limit = Infinity) => {
    let ops = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms && ops < limit) {
      for (let i = 0; i < 16 && ops < limit; i++) sink = c.fn(ops++);
      t = performance.now();
    }
    const cpu = process.cpuUsage(cpu0);
    if (sink === undefined || sink === false) throw new Error(`${c.id} refused`);
    return { cpu: (cpu.user + cpu.system) / ops, wall: ((t - t0) * 1000) / ops };
  };
  const fill = (n) => {
    pool = Array.from({ length: n }, () => make());
  };
  for (const c of contestants) {
    if (c.pooled) {
      fill(20_000);
      c.rate = 1000 / run(c, 300, pool.length).wall; // calls per ms
    } else run(c, 300);
    c.rounds = [];
    c.wallRounds = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + r) % contestants.length];
      if (c.pooled) fill(Math.ceil(c.rate * ROUND_MS * 1.5));
      const { cpu, wall } = run(c, ROUND_MS, c.pooled ? pool.length : Infinity);
      c.rounds.push(cpu);
      c.wallRounds.push(wall);
    }
  }
  const us = Object.fromEntries(
    contestants.map((c) => [
      c.id,
      {
        what: c.what,
        usPerCall: median(c.rounds),
        rounds: c.rounds,
        wallUsPerCall: median(c.wallRounds),
        wallRounds: c.wallRounds,
      },
    ]),
  );
  return {
    roundMs: ROUND_MS,
    rounds: ROUNDS,
    us,
    proofCheckToRaw: us.proof.usPerCall / us.raw.usPerCall,
    dpopAddedUs: us.dpop.usPerCall - us.bearer.usPerCall,
    dpopAddedToRaw: (us.dpop.usPerCall - us.bearer.usPerCall) / us.raw.usPerCall,
  };
}

if (process.argv[2] === 'micro') {
  console.log(JSON.stringify(await micro()));
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------ HTTP

const ROUNDS = int('ROUNDS', 5);
const DURATION = int('DURATION', 10);
const WARMUP = int('WARMUP', 3);
const CONNECTIONS = int('CONNECTIONS', 50);
const ADAPTERS = (process.env.ADAPTERS ?? 'fastify,express,node,fetch').split(',').map((s) => s.trim());
const exec = promisify(execFile);
const startLoad = loadavg()[0];

const [microCmd, microArgs] = pin(0, process.execPath, [here('./dpop.mjs'), 'micro']);
console.error('in process: raw verify, proof check, Verifier request Bearer / DPoP ...');
const inProcess = JSON.parse((await exec(microCmd, microArgs, { maxBuffer: 16 << 20 })).stdout);

const holder = dpopKey();

async function startServer(adapter) {
  const [cmd, args] = pin(0, process.execPath, [here('./dpop-server.mjs'), adapter, holder.jkt]);
  const { child, match } = await startProcess(adapter, cmd, args, /READY (\d+) (\S+) (\S+)/, 60_000);
  return { child, port: Number(match[1]), bearer: match[2], bound: match[3] };
}

/** Accepts both credentials; refuses a DPoP token without proof, a bound token as Bearer, a replayed proof. */
async function check(adapter, server) {
  const url = `http://127.0.0.1:${server.port}/orders`;
  const make = proofMaker(holder, server.bound, url);
  const get = async (headers) => (await fetch(url, { headers })).status;
  const proof = make();
  const expect = [
    ['bearer', await get({ authorization: `Bearer ${server.bearer}` }), 200],
    ['dpop', await get({ authorization: `DPoP ${server.bound}`, dpop: proof }), 200],
    ['replayed proof', await get({ authorization: `DPoP ${server.bound}`, dpop: proof }), 401],
    ['no proof', await get({ authorization: `DPoP ${server.bound}` }), 401],
    ['bound token as Bearer', await get({ authorization: `Bearer ${server.bound}` }), 401],
  ];
  for (const [what, got, want] of expect) if (got !== want) throw new Error(`${adapter}: ${what} answered ${got}, not ${want}`);
}

async function load(server, mode, seconds) {
  const token = mode === 'dpop' ? server.bound : server.bearer;
  const [cmd, args] = pin(1, process.execPath, [
    here('./dpop-load.mjs'),
    String(server.port),
    mode,
    token,
    String(seconds),
    String(CONNECTIONS),
    JSON.stringify(holder.privateJwk),
  ]);
  return JSON.parse((await exec(cmd, args, { maxBuffer: 16 << 20 })).stdout);
}

const runs = Object.fromEntries(ADAPTERS.flatMap((a) => ['bearer', 'dpop'].map((m) => [`${a} ${m}`, []])));
for (let round = 0; round < ROUNDS; round++) {
  for (const adapter of ADAPTERS) {
    const server = await startServer(adapter);
    try {
      if (round === 0) await check(adapter, server);
      for (const mode of round % 2 === 0 ? ['bearer', 'dpop'] : ['dpop', 'bearer']) {
        await load(server, mode, WARMUP); // warm-up, discarded
        const before = cpuMs(server.child.pid);
        const r = await load(server, mode, DURATION);
        const after = cpuMs(server.child.pid);
        const cpuUs = before === undefined || after === undefined ? undefined : ((after - before) * 1000) / r.requests;
        runs[`${adapter} ${mode}`].push({ ...r, cpuUs });
        console.error(
          `round ${round + 1} ${adapter} ${mode}: ${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(1)} ms, ${cpuUs?.toFixed(1)} µs CPU/req`,
        );
      }
    } finally {
      await stopServer(server);
    }
  }
}

const http = Object.fromEntries(
  Object.entries(runs).map(([k, rs]) => [
    k,
    {
      rps: Math.round(median(rs.map((r) => r.rps))),
      p99Ms: Number(median(rs.map((r) => r.p99)).toFixed(2)),
      cpuUsPerRequest: rs.every((r) => r.cpuUs !== undefined) ? Number(median(rs.map((r) => r.cpuUs)).toFixed(1)) : undefined,
    },
  ]),
);
const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  pinned: hasTaskset,
  loadAverageAtStart: startLoad,
  inProcess,
  http: { rounds: ROUNDS, durationS: DURATION, warmupS: WARMUP, connections: CONNECTIONS, modes: http },
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/dpop.json'), `${JSON.stringify(summary, null, 2)}\n`);

const f = (x, d = 1) => x.toFixed(d);
const u = inProcess.us;
console.log(`\n${summary.machine}, node ${summary.node}, pinned ${summary.pinned}, load average at start ${f(startLoad, 2)}\n`);
console.log(`In process (median of ${inProcess.rounds} rounds of ${inProcess.roundMs} ms), µs per call:\n`);
console.log('| what | CPU µs | wall µs |\n| --- | ---: | ---: |');
for (const id of ['raw', 'proof', 'bearer', 'dpop'])
  console.log(`| ${u[id].what} | ${f(u[id].usPerCall, 2)} | ${f(u[id].wallUsPerCall, 2)} |`);
console.log(
  `\nproof check / raw verify: **${f(inProcess.proofCheckToRaw, 2)}x** (target <= 1.2x); DPoP request - Bearer request: ${f(inProcess.dpopAddedUs, 2)} µs = ${f(inProcess.dpopAddedToRaw, 2)}x raw\n`,
);
console.log(`Over HTTP (median of ${ROUNDS} rounds of ${DURATION} s, ${CONNECTIONS} connections):\n`);
console.log(
  '| adapter | Bearer req/s | DPoP req/s | Bearer p99 ms | DPoP p99 ms | Bearer CPU µs/req | DPoP CPU µs/req | added µs |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const a of ADAPTERS) {
  const b = http[`${a} bearer`];
  const d = http[`${a} dpop`];
  const added =
    b.cpuUsPerRequest !== undefined && d.cpuUsPerRequest !== undefined ? f(d.cpuUsPerRequest - b.cpuUsPerRequest) : '-';
  console.log(
    `| ${a} | ${b.rps} | ${d.rps} | ${b.p99Ms} | ${d.p99Ms} | ${b.cpuUsPerRequest ?? '-'} | ${d.cpuUsPerRequest ?? '-'} | ${added} |`,
  );
}
