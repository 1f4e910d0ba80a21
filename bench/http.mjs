// HTTP benchmark: one Fastify route unauthenticated vs the same route behind the Tessera plugin (verified-
// token cache on). Server pinned to core 0, autocannon to core 1. Alternates the modes for ROUNDS rounds
// and reports the median requests/s of each and the ratios. A third mode, `shell`, is the unauthenticated
// route in an app that awaits the registration of an empty plugin first, as the plugin's app does: it
// separates what Fastify costs for a registered plugin from what Tessera's hooks cost.
//   node bench/http.mjs        (env: ROUNDS=5 DURATION=10 CONNECTIONS=50)
import { spawn, execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdirSync } from 'node:fs';

import { hasTaskset, pin } from './pin.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

function startServer(mode) {
  const [cmd, args] = pin(0, process.execPath, [here('./http-server.mjs'), mode]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+) (\S+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), token: m[2] });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

function load(port, token) {
  const bin = here('../node_modules/autocannon/autocannon.js');
  const [cmd, args] = pin(1, process.execPath, [
    bin,
    '-j',
    '-c',
    String(CONNECTIONS),
    '-d',
    String(DURATION),
    '-H',
    `authorization=Bearer ${token}`,
    `http://127.0.0.1:${port}/orders`,
  ]);
  const out = execFileSync(cmd, args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const r = JSON.parse(out);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`non-2xx ${r.non2xx}, errors ${r.errors}`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { plain: [], shell: [], auth: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of ['plain', 'shell', 'auth']) {
    const { child, port, token } = await startServer(mode);
    load(port, token); // warm-up run, discarded
    const r = load(port, token);
    results[mode].push(r);
    child.kill('SIGTERM');
    await new Promise((res) => child.on('exit', res));
    console.error(`round ${round + 1} ${mode}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms`);
  }
}
const plain = median(results.plain.map((r) => r.rps));
const shell = median(results.shell.map((r) => r.rps));
const auth = median(results.auth.map((r) => r.rps));
const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  pinned: hasTaskset,
  rounds: ROUNDS,
  durationS: DURATION,
  connections: CONNECTIONS,
  plainRps: Math.round(plain),
  shellRps: Math.round(shell),
  authRps: Math.round(auth),
  ratio: Number((auth / plain).toFixed(3)),
  ratioToShell: Number((auth / shell).toFixed(3)),
  plainP99Ms: median(results.plain.map((r) => r.p99)),
  authP99Ms: median(results.auth.map((r) => r.p99)),
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/http.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`| route | req/s (median of ${ROUNDS}) | p99 ms |\n| --- | ---: | ---: |`);
console.log(`| unauthenticated | ${summary.plainRps} | ${summary.plainP99Ms} |`);
console.log(
  `| unauthenticated, empty plugin registered (awaited) | ${summary.shellRps} | ${median(results.shell.map((r) => r.p99))} |`,
);
console.log(`| Tessera plugin, cache on | ${summary.authRps} | ${summary.authP99Ms} |`);
console.log(
  `ratio ${summary.ratio} (target >= 0.9), to the empty-plugin app ${summary.ratioToShell}; ${summary.machine}, node ${summary.node}, server on core 0, load on core 1: ${hasTaskset}`,
);
