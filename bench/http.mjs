// HTTP benchmark: one JSON route unauthenticated, behind Tessera's Fastify plugin and Express middleware (the
// verified-token cache on and off), and behind what users would pick instead (@fastify/jwt with and without
// fast-jwt's cache, express-jwt with jwks-rsa), every mode with the same ES256 token and key (bench/http-modes.mjs
// lists them, bench/http-server.mjs builds them). Server pinned to core 0, autocannon to core 1. Each mode is
// first checked to answer 200 to the token and 401 to a tampered or wrong-audience one. Per round, every mode
// gets a fresh server, a discarded warm-up run and a measured run; modes alternate inside a round so background
// load falls on all alike. Reported: the median over ROUNDS of requests/s, p99 and server CPU time per request
// (user + system, from /proc), and the ratios of bench/http-modes.mjs. Writes bench/results/http.json.
//   npx tsc -b && node bench/http.mjs     (env: ROUNDS=5 DURATION=10 CONNECTIONS=50 MODES=fastify,tessera-fastify,...)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { MODES, RATIOS } from './http-modes.mjs';
import { checkAnswers, load, median, startServer, stopServer, version } from './http-run.mjs';
import { hasTaskset, pin } from './pin.mjs';
import { cpuMs } from './proc.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const only = process.env.MODES?.split(',');
const modes = only === undefined ? MODES : MODES.filter((m) => only.includes(m.mode));
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const onCore = (core) => (cmd, args) => pin(core, cmd, args);

const startLoad = loadavg()[0];
const runs = Object.fromEntries(modes.map((m) => [m.mode, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const spec of modes) {
    const server = await startServer(spec.mode, onCore(0));
    try {
      if (round === 0) await checkAnswers(spec, server);
      await load(server, CONNECTIONS, ['-d', String(DURATION)], onCore(1)); // warm-up run, discarded
      const cpuBefore = cpuMs(server.child.pid);
      const r = await load(server, CONNECTIONS, ['-d', String(DURATION)], onCore(1));
      const cpuAfter = cpuMs(server.child.pid);
      const cpuUsPerRequest =
        cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / r.requests;
      runs[spec.mode].push({ ...r, cpuUsPerRequest });
      console.error(`round ${round + 1} ${spec.mode}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms`);
    } finally {
      await stopServer(server);
    }
  }
}

const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  versions: {
    ...Object.fromEntries(['fastify', 'express', '@fastify/jwt', 'express-jwt', 'jwks-rsa'].map((p) => [p, version(p)])),
    'fast-jwt (inside @fastify/jwt)': version('@fastify/jwt/node_modules/fast-jwt'),
  },
  pinned: hasTaskset,
  loadAverageAtStart: startLoad,
  rounds: ROUNDS,
  durationS: DURATION,
  connections: CONNECTIONS,
  modes: Object.fromEntries(
    modes.map(({ mode }) => {
      const rs = runs[mode];
      const cpu = rs.every((r) => r.cpuUsPerRequest !== undefined) ? median(rs.map((r) => r.cpuUsPerRequest)) : undefined;
      return [
        mode,
        {
          rps: Math.round(median(rs.map((r) => r.rps))),
          p99Ms: median(rs.map((r) => r.p99)),
          cpuUsPerRequest: cpu === undefined ? undefined : Number(cpu.toFixed(2)),
        },
      ];
    }),
  ),
};
summary.ratios = Object.fromEntries(
  RATIOS.filter(([, a, b]) => summary.modes[a] && summary.modes[b]).map(([name, a, b, target]) => [
    name,
    { rps: Number((summary.modes[a].rps / summary.modes[b].rps).toFixed(3)), target },
  ]),
);
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/http.json'), JSON.stringify(summary, null, 2) + '\n');

console.log(`| mode | req/s (median of ${ROUNDS}) | p99 ms | server CPU µs / request |\n| --- | ---: | ---: | ---: |`);
for (const { mode, label } of modes) {
  const m = summary.modes[mode];
  console.log(`| ${label} | ${m.rps} | ${m.p99Ms} | ${m.cpuUsPerRequest ?? ''} |`);
}
console.log(`\n| ratio of req/s | value | target |\n| --- | ---: | --- |`);
for (const [name, r] of Object.entries(summary.ratios)) console.log(`| ${name} | ${r.rps} | ${r.target} |`);
console.log(
  `\n${summary.machine}, node ${summary.node}, server on core 0 and load on core 1: ${hasTaskset}, load average at start ${startLoad.toFixed(2)}`,
);
