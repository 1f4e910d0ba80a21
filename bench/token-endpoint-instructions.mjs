// Instructions per token of the token endpoint (POST /oauth/token, client_credentials, client_secret_basic,
// ES256 JWT access token): a figure that does not depend on what else the machine runs, for comparing two
// versions of the code on a shared machine where requests/s and CPU time cannot be trusted.
//
// The server of bench/token-endpoint-server.mjs (mode `tessera`: fresh SQLite folder, audit event and metrics
// per token, as in production) runs under `valgrind --tool=callgrind --instr-atstart=no` (counting off), is
// checked to answer an ES256 `at+jwt` access token, gets WARMUP token requests to let V8 compile the hot path,
// then counting is switched on and WINDOWS windows of REQUESTS requests each are counted (counters zeroed
// before and dumped after each window). As in bench/http-instructions.mjs, V8's optimizing compiler and major
// GC are counted apart (they fall in some windows only): the least window is the figure compared, the median
// is reported beside it. Counts are user space, all threads (the libuv pool, V8's threads), not the kernel.
// Each window's autocannon opens its connections anew (about 240,000 instructions each on the server): few
// connections and many requests per window keep that out of the per-token figure (10 and 1,000: 2,400).
//
// CHECKOUT=/path/to/a/worktree (or several, comma-separated) measures a second, built checkout of the repository in the same run (side by
// side: counts do not depend on the load): its own bench/token-endpoint-server.mjs and its node_modules, driven
// by the same autocannon, so the server code of two commits is compared. Node runs with --perf-basic-prof so
// that instructions in JIT code are attributed to the JavaScript function and file they belong to; the least
// window of each checkout is broken down by group (Fastify and Node's HTTP, Tessera's JS, OpenSSL, SQLite,
// prom-client, Kysely, V8) and by function.
//
//   npx tsc -b && CHECKOUT=/work/wt/other node bench/token-endpoint-instructions.mjs
//   env: WARMUP=10000 REQUESTS=1000 WINDOWS=5 CONNECTIONS=10 CHECKOUT= OUT=results/token-endpoint-instructions.json
//        KEEP=<dir> (keep every window's callgrind dump and V8's perf map there, for callgrind_annotate)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { control, dumpCounts, requireValgrind, underCallgrind, valgrindVersion } from './callgrind.mjs';
import { breakdown } from './callgrind-groups.mjs';
import { loadTokens, startTokenServer, stopTokenServer } from './token-endpoint-run.mjs';

const WARMUP = Number(process.env.WARMUP ?? 10_000);
const REQUESTS = Number(process.env.REQUESTS ?? 1_000);
const WINDOWS = Number(process.env.WINDOWS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const OUT = process.env.OUT ?? 'results/token-endpoint-instructions.json';
const KEEP = process.env.KEEP === undefined ? undefined : resolve(process.env.KEEP);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const git = (cwd, ...args) => execFileSync('git', args, { cwd }).toString().trim();

const checkouts = [{ name: 'this', root: here('..') }];
for (const [i, path] of (process.env.CHECKOUT ?? '').split(',').filter(Boolean).entries())
  checkouts.push({ name: `checkout${i + 1}`, root: resolve(path) });
for (const c of checkouts) {
  c.script = join(c.root, 'bench/token-endpoint-server.mjs');
  if (!existsSync(c.script)) throw new Error(`${c.script} not found`);
  if (!existsSync(join(c.root, 'packages/server/dist/index.js'))) throw new Error(`${c.root} is not built: run npx tsc -b there`);
  c.commit = git(c.root, 'rev-parse', '--short', 'HEAD');
  c.dirty = git(c.root, 'status', '--porcelain', '--untracked-files=no', '--', 'packages') !== '';
}

requireValgrind();
if (KEEP !== undefined) mkdirSync(KEEP, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'tessera-token-instructions-'));

/** Proves the server answers a client_credentials request with an ES256 at+jwt access token. */
async function checkAnswer(server) {
  const { port, request } = server;
  const res = await fetch(`http://127.0.0.1:${port}${request.path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  const body = await res.json();
  const header = JSON.parse(Buffer.from(String(body.access_token).split('.')[0], 'base64url').toString());
  if (res.status !== 200 || body.token_type !== 'Bearer' || header.alg !== 'ES256' || header.typ !== 'at+jwt')
    throw new Error(`token request answered ${res.status} ${JSON.stringify(body)} (header ${JSON.stringify(header)})`);
}

/** Counts one checkout: a fresh server under callgrind, checked, warmed up, then WINDOWS counted windows. */
async function measure(checkout) {
  // valgrind's pid is the server's: it runs node in its own process.
  const server = await startTokenServer('tessera', {
    wrap: underCallgrind(dir),
    script: checkout.script,
    // --perf-basic-prof also writes V8's log (code events): into the temporary folder, not the working one.
    nodeFlags: ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(dir, `${checkout.name}.v8.log`)}`],
    timeoutMs: 600_000,
  });
  const pid = server.child.pid;
  const mapFile = `/tmp/perf-${pid}.map`;
  try {
    await checkAnswer(server);
    await loadTokens(server, CONNECTIONS, ['-a', String(WARMUP), '-t', '300']);
    control(pid, '--instr=on');
    const windows = [];
    for (let w = 0; w < WINDOWS; w++) {
      control(pid, '--zero');
      const r = await loadTokens(server, CONNECTIONS, ['-a', String(REQUESTS), '-t', '300']);
      const file = join(KEEP ?? dir, `${checkout.name}-${checkout.commit}.window${w + 1}.callgrind`);
      const c = dumpCounts(dir, pid, file);
      windows.push({
        file,
        requests: r.requests,
        total: c.total / r.requests,
        path: (c.total - c.compiler - c.majorGc) / r.requests,
        compiler: c.compiler / r.requests,
        majorGc: c.majorGc / r.requests,
      });
    }
    const paths = windows.map((w) => w.path);
    const least = windows.find((w) => w.path === Math.min(...paths));
    const result = {
      commit: checkout.commit,
      uncommittedChanges: checkout.dirty,
      least: Math.round(least.path),
      median: Math.round(median(paths)),
      leastTotal: Math.round(Math.min(...windows.map((w) => w.total))),
      windows: windows.map(({ total, path, compiler, majorGc }) =>
        Object.fromEntries(Object.entries({ total, path, compiler, majorGc }).map(([k, v]) => [k, Math.round(v)])),
      ),
      leastWindow: breakdown(least.file, mapFile, least.requests),
    };
    console.error(
      `${checkout.name} (${checkout.commit}): least ${result.least}, median ${result.median} instructions / token (${paths.map(Math.round)})`,
    );
    return result;
  } finally {
    await stopTokenServer(server);
    if (KEEP === undefined) rmSync(mapFile, { force: true });
    else if (existsSync(mapFile)) renameSync(mapFile, join(KEEP, `${checkout.name}-${checkout.commit}.perf.map`));
  }
}

let results;
try {
  // Counts do not depend on how many servers run at once: the checkouts are measured side by side.
  results = await Promise.all(checkouts.map(measure));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const version = (pkg) => JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`), 'utf8')).version;
const summary = {
  method:
    'callgrind instruction counts of the server process (user space, all threads) per client_credentials token; least and median: without V8 optimizing-compiler and major-GC functions',
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  valgrind: valgrindVersion(),
  versions: Object.fromEntries(['fastify', 'kysely', 'better-sqlite3', 'prom-client', 'autocannon'].map((p) => [p, version(p)])),
  warmupRequests: WARMUP,
  requestsPerWindow: REQUESTS,
  windows: WINDOWS,
  connections: CONNECTIONS,
  instructionsPerToken: Object.fromEntries(checkouts.map((c, i) => [c.name === 'this' ? 'this' : c.root, results[i]])),
};
const outFile = resolve(here('.'), OUT);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(summary, null, 2) + '\n');

console.log(`| code | instructions / token (least of ${WINDOWS} windows) | median | least total |`);
console.log('| --- | ---: | ---: | ---: |');
checkouts.forEach((c, i) =>
  console.log(
    `| ${c.name === 'this' ? 'this checkout' : c.root} (${c.commit}${c.dirty ? ', with changes' : ''}) | ${results[i].least} | ${results[i].median} | ${results[i].leastTotal} |`,
  ),
);
const groups = [...new Set(results.flatMap((r) => Object.keys(r.leastWindow.groups)))];
console.log(`\n| group (exclusive, least window) | ${checkouts.map((c) => c.commit).join(' | ')} |`);
console.log(`| --- |${checkouts.map(() => ' ---: |').join('')}`);
for (const g of groups) console.log(`| ${g} | ${results.map((r) => r.leastWindow.groups[g] ?? 0).join(' | ')} |`);
