// Instructions per request of each server of bench/http.mjs: a figure that does not depend on what else the
// machine runs, for when requests/s cannot be trusted (a shared machine). This machine's virtual CPUs expose
// no hardware counters (`perf stat -e instructions` answers <not supported>), so the server runs under
// valgrind's callgrind, which counts the instructions it executes (user space, all threads: V8's compiler
// and GC threads included; not the kernel's).
//
// Per mode: a fresh server under `valgrind --tool=callgrind --instr-atstart=no` (counting off), checked to
// answer 200 / 401 as its mode must, WARMUP requests to let V8 compile the hot path, counting switched on,
// then WINDOWS windows of REQUESTS requests each (REQUESTS_FULL for modes that verify a signature on every
// request; counters zeroed before and dumped after each window). A window that holds a major GC or a late
// optimizing compile counts up to twice as much as one that does not, so the least window is the figure
// compared (the request path with its minor GCs, in steady state); the median is reported beside it. Counts
// do not depend on the machine's load, so PARALLEL modes are measured at once.
// Ratios are peer instructions / Tessera instructions: above 1, Tessera's adapter does less work per request.
//   npx tsc -b && node bench/http-instructions.mjs
//   env: WARMUP=20000 REQUESTS=1000 REQUESTS_FULL=200 WINDOWS=5 CONNECTIONS=50 PARALLEL=2 MODES=fastify,...
//        OUT=results/http-instructions.json (relative to bench/)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { control, dumpCounts, requireValgrind, underCallgrind, valgrindVersion } from './callgrind.mjs';
import { MODES, RATIOS } from './http-modes.mjs';
import { checkAnswers, load, median, startServer, stopServer, version } from './http-run.mjs';

const WARMUP = Number(process.env.WARMUP ?? 50_000);
const WARMUP_FULL = Number(process.env.WARMUP_FULL ?? 5_000);
const REQUESTS = Number(process.env.REQUESTS ?? 1_000);
const REQUESTS_FULL = Number(process.env.REQUESTS_FULL ?? 200);
const WINDOWS = Number(process.env.WINDOWS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const PARALLEL = Number(process.env.PARALLEL ?? 3);
const OUT = process.env.OUT ?? 'results/http-instructions.json';
const only = process.env.MODES?.split(',');
const modes = only === undefined ? MODES : MODES.filter((m) => only.includes(m.mode));
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

requireValgrind();

const dir = mkdtempSync(join(tmpdir(), 'tessera-http-instructions-'));
const underCallgrindHere = underCallgrind(dir);

/** Counts one mode: a fresh server under callgrind, checked, warmed up, then WINDOWS counted windows. */
async function measure(spec) {
  const requests = spec.full ? REQUESTS_FULL : REQUESTS;
  // valgrind's pid is the server's: it runs node in its own process.
  const server = await startServer(spec.mode, underCallgrindHere, 600_000);
  try {
    await checkAnswers(spec, server);
    await load(server, CONNECTIONS, ['-a', String(spec.full ? WARMUP_FULL : WARMUP), '-t', '300']);
    control(server.child.pid, '--instr=on');
    const windows = [];
    for (let w = 0; w < WINDOWS; w++) {
      control(server.child.pid, '--zero');
      const r = await load(server, CONNECTIONS, ['-a', String(requests), '-t', '300']);
      const c = dumpCounts(dir, server.child.pid);
      windows.push({
        total: c.total / r.requests,
        path: (c.total - c.compiler - c.majorGc) / r.requests,
        compiler: c.compiler / r.requests,
        majorGc: c.majorGc / r.requests,
      });
    }
    const paths = windows.map((w) => w.path);
    const result = {
      least: Math.round(Math.min(...paths)),
      median: Math.round(median(paths)),
      leastTotal: Math.round(Math.min(...windows.map((w) => w.total))),
      requestsPerWindow: requests,
      windows: windows.map((w) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Math.round(v)]))),
    };
    console.error(
      `${spec.mode}: least ${result.least}, median ${result.median} instructions / request (${paths.map(Math.round)})`,
    );
    return result;
  } finally {
    await stopServer(server);
  }
}

const results = {};
try {
  // Counts do not depend on how many servers run at once, so PARALLEL modes are measured side by side.
  // The modes that verify every request take longest: they start first.
  const queue = [...modes.filter((m) => m.full), ...modes.filter((m) => !m.full)];
  const worker = async () => {
    for (let spec = queue.shift(); spec !== undefined; spec = queue.shift()) {
      try {
        results[spec.mode] = await measure(spec);
      } catch (err) {
        queue.length = 0; // the other workers finish their mode (and stop its server), then stop
        throw err;
      }
    }
  };
  const failed = (await Promise.allSettled(Array.from({ length: PARALLEL }, worker))).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const summary = {
  method:
    'callgrind instruction counts of the server process (user space, all threads) per request; least and median: without V8 optimizing-compiler and major-GC functions',
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  valgrind: valgrindVersion(),
  versions: {
    ...Object.fromEntries(['fastify', 'express', '@fastify/jwt', 'express-jwt', 'jwks-rsa'].map((p) => [p, version(p)])),
    'fast-jwt (inside @fastify/jwt)': version('@fastify/jwt/node_modules/fast-jwt'),
  },
  warmupRequests: WARMUP,
  warmupRequestsFull: WARMUP_FULL,
  windows: WINDOWS,
  connections: CONNECTIONS,
  instructionsPerRequest: results,
  ratios: Object.fromEntries(
    RATIOS.filter(([, a, b]) => results[a] && results[b]).map(([name, a, b, target]) => [
      name,
      {
        least: Number((results[b].least / results[a].least).toFixed(3)),
        median: Number((results[b].median / results[a].median).toFixed(3)),
        leastTotal: Number((results[b].leastTotal / results[a].leastTotal).toFixed(3)),
        target,
      },
    ]),
  ),
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here(`./${OUT}`), JSON.stringify(summary, null, 2) + '\n');

console.log(`| mode | instructions / request (least of ${WINDOWS} windows) | median | least total |`);
console.log('| --- | ---: | ---: | ---: |');
for (const { mode, label } of modes) {
  const r = results[mode];
  if (r) console.log(`| ${label} | ${r.least} | ${r.median} | ${r.leastTotal} |`);
}
console.log(
  '\n| ratio (instructions of the second / of the first: > 1 means the first does less) | least | median | least total | target |',
);
console.log('| --- | ---: | ---: | ---: | --- |');
for (const [name, r] of Object.entries(summary.ratios))
  console.log(`| ${name} | ${r.least} | ${r.median} | ${r.leastTotal} | ${r.target} |`);
