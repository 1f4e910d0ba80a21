// RPC benchmark: unary Connect calls (inventory.v1.InventoryService/GetStock, JSON) on connect-node, without
// auth against the same server with the @tessera/rpc auth interceptor, and with the gate in front as well
// (withAuthGate + interceptor). The verifier's verified-token cache is on and every request carries the same
// token: the steady state of a service called by another service.
//
//   npx tsc -b && node bench/rpc.mjs
//   env: ROUNDS=10 DURATION=3 WARMUP=3 CONNECTIONS=50 SESSIONS=2 STREAMS=25 MODES=plain,auth,gate PROTOCOLS=h1,h2
//
// Method: one server process per mode (bench/rpc-server.mjs), all pinned to core 0 and started once; the load
// generator pinned to core 1 (when taskset and two cores are there): autocannon with CONNECTIONS keep-alive
// connections for HTTP/1.1 (h1), bench/rpc-h2load.mjs with SESSIONS connections x STREAMS concurrent streams
// for h2c (h2). Only one server is loaded at a time. Each server first gets a WARMUP-second run per protocol
// (discarded); then, ROUNDS times, each mode in turn gets a DURATION-second run per protocol. Short runs
// taken in turn put the modes side by side under the same background load (this machine is shared), and the
// ratio of each auth mode to plain is taken per round, then the median over rounds. Also reported: median
// requests/s, p99 latency and server CPU time per request (user + system, from /proc). Any non-2xx answer
// or error fails the run. Writes bench/results/rpc.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

import { hasTaskset, pin } from './pin.mjs';
import { cpuMs } from './proc.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const DURATION = Number(process.env.DURATION ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const SESSIONS = Number(process.env.SESSIONS ?? 2);
const STREAMS = Number(process.env.STREAMS ?? 25);
const MODES = (process.env.MODES ?? 'plain,auth,gate').split(',');
const PROTOCOLS = (process.env.PROTOCOLS ?? 'h1,h2').split(',');
const TARGET = 0.9;
const PATH = '/inventory.v1.InventoryService/GetStock';
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

function startServer(mode) {
  const [cmd, args] = pin(0, process.execPath, [here('./rpc-server.mjs'), mode]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+) (\d+) (\S+)/.exec(out);
      if (m) resolve({ child, h1: Number(m[1]), h2: Number(m[2]), token: m[3] });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

function loadH1(port, token, seconds) {
  const [cmd, args] = pin(1, process.execPath, [
    here('../node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(CONNECTIONS),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-H',
    `authorization=Bearer ${token}`,
    '-b',
    '{"sku":"sku-1"}',
    `http://127.0.0.1:${port}${PATH}`,
  ]);
  const r = JSON.parse(execFileSync(cmd, args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
    throw new Error(`h1: non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`);
  return { rps: r.requests.average, p99: r.latency.p99, requests: r.requests.total };
}

function loadH2(port, token, seconds) {
  const [cmd, args] = pin(1, process.execPath, [
    here('./rpc-h2load.mjs'),
    `http://127.0.0.1:${port}${PATH}`,
    `Bearer ${token}`,
    String(seconds),
    String(SESSIONS),
    String(STREAMS),
  ]);
  const r = JSON.parse(execFileSync(cmd, args, { maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] }).toString());
  if (r.errors > 0) throw new Error(`h2: ${r.errors} errors`);
  return r;
}

const LOAD = { h1: loadH1, h2: loadH2 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Object.fromEntries(PROTOCOLS.map((p) => [p, Object.fromEntries(MODES.map((m) => [m, []]))]));

const servers = {};
for (const mode of MODES) {
  servers[mode] = await startServer(mode);
  for (const protocol of PROTOCOLS) LOAD[protocol](servers[mode][protocol], servers[mode].token, WARMUP); // warm-up, discarded
}
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const protocol of PROTOCOLS) {
      for (const mode of MODES) {
        const server = servers[mode];
        const before = cpuMs(server.child.pid);
        const r = LOAD[protocol](server[protocol], server.token, DURATION);
        const after = cpuMs(server.child.pid);
        const cpuUsPerRequest =
          before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1000) / r.requests);
        runs[protocol][mode].push({ ...r, cpuUsPerRequest });
        console.error(
          `round ${round + 1} ${protocol} ${mode}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, server CPU ${cpuUsPerRequest} µs/request`,
        );
      }
    }
  }
} finally {
  for (const server of Object.values(servers)) server.child.kill('SIGTERM');
}

const figures = {};
for (const protocol of PROTOCOLS) {
  figures[protocol] = {};
  for (const mode of MODES) {
    const rs = runs[protocol][mode];
    figures[protocol][mode] = {
      rps: Math.round(median(rs.map((r) => r.rps))),
      p99Ms: median(rs.map((r) => r.p99)),
      cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest ?? NaN)),
    };
    if (mode !== 'plain' && runs[protocol].plain) {
      // The ratio per round (the runs side by side), then the median over rounds.
      figures[protocol][mode].ratio = Number(median(rs.map((r, i) => r.rps / runs[protocol].plain[i].rps)).toFixed(3));
    }
  }
}
const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  pinned: hasTaskset,
  rounds: ROUNDS,
  durationS: DURATION,
  warmupS: WARMUP,
  h1Connections: CONNECTIONS,
  h2Streams: `${SESSIONS}x${STREAMS}`,
  target: TARGET,
  figures,
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/rpc.json'), JSON.stringify(summary, null, 2) + '\n');

const LABELS = { plain: 'no auth', auth: 'auth interceptor, cache on', gate: 'gate + interceptor, cache on' };
console.log(
  `| protocol | server | req/s (median of ${ROUNDS}) | ratio | p99 ms | server CPU µs/request |\n| --- | --- | ---: | ---: | ---: | ---: |`,
);
for (const protocol of PROTOCOLS) {
  for (const mode of MODES) {
    const f = figures[protocol][mode];
    console.log(
      `| ${protocol === 'h1' ? 'Connect, HTTP/1.1' : 'Connect, h2c'} | ${LABELS[mode] ?? mode} | ${f.rps} | ${f.ratio ?? ''} | ${f.p99Ms} | ${f.cpuUsPerRequest} |`,
    );
  }
}
console.log(
  `target: auth >= ${TARGET}x no auth; ${summary.machine}, node ${summary.node}, server on core 0, load on core 1: ${hasTaskset}`,
);
