// Sign-in benchmark: full sign-in flows per second of Tessera (@tessera/server on a temp SQLite folder, default
// settings, ES256) on one core, argon2id at the default cost, with the share of the server's CPU that argon2id
// takes. Beside it stands Keycloak's published figure of 15 password logins per vCPU per second.
//
//   npx tsc -b && node bench/sign-in.mjs
//   env: ROUNDS=5 DURATION=10 WARMUP=3 CONCURRENCY=2 USERS=200 ARGON2_COUNT=50
//   CONCURRENCY=1,2,4,8 measures each of these numbers of flows in flight, interleaved inside every round.
//
// A flow is what a browser and a public single-page app do to sign a user in (bench/sign-in-load.mjs): GET
// /authorize (code, PKCE S256, state, scope) -> the login page, whose form's hidden fields (request reference,
// anti-forgery token) and login cookie are kept -> POST /login with username and password -> 303 to the redirect
// URI with the code (state checked) -> POST /oauth/token with the code and the PKCE verifier -> 200 with an
// access token. Each flow has a fresh cookie jar, so there is no single sign-on and every flow verifies one
// password with argon2id: the run checks this against the server's count of password verifications. Any other
// answer fails the run.
//
// Method: the server (bench/sign-in-server.mjs) runs in its own process pinned to core 0, all its threads (the
// event loop and libuv's pool, where argon2id runs) on that one core; the load generator runs pinned to core 1
// (when taskset and two cores are there). CONCURRENCY flows run in a closed loop (each worker starts its next flow
// when its last is done). Per round and concurrency: a fresh server, a WARMUP-second run that is discarded, a
// DURATION-second measured run, and, with the server stopped, ARGON2_COUNT argon2id verifications with as many
// in flight, in a process of their own pinned to core 0 (bench/sign-in-argon2.mjs: the server's verifyPassword,
// CPU time from process.cpuUsage; several verifications interleaved on one core cost more CPU each than one
// alone, so the share compares like with like). Reported, the median over ROUNDS of: flows/s; p50 and p99 of a
// flow's latency; the server process's CPU time (user + system, all threads, from /proc) per flow; flows per
// CPU-second (1 s / CPU per flow: the figure to set beside a per-vCPU one, and one that depends less on what
// else the machine runs than flows/s does); the CPU time of one argon2id verification; and the argon2id share,
// argon2id CPU / server CPU per flow.
//
// Concurrency 2 by default: one flow's HTTP steps run while the other's argon2id does, which keeps the one core
// busy. Most of a flow is argon2id, so one flow in flight leaves the core idle only between requests, and
// more than two only queue on the core: argon2id runs on libuv's pool of 4 threads, but all on core 0, each
// with its own 19 MiB, and the CPU per flow grew (by 10-15% at 8 in flight, in a sweep on a loaded machine)
// while latency grew with the queue and flows/s did not.
//
// Login throttle: left at its defaults. The users (USERS of them, all with the same password) take turns round
// robin, so one username never has two attempts in flight and its (username, address) budget is never touched;
// every flow comes from 127.0.0.1, and attempts in flight count against that address's budget
// (loginMaxFailuresPerAddress, 50 by default), so the run refuses a concurrency that could reach it. No login
// fails, so no failure is ever counted: the throttle checks every attempt as it would in production and never
// refuses one. Writes bench/results/sign-in.json.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { hasTaskset, pin } from './pin.mjs';
import { cpuMs } from './proc.mjs';
import { startProcess, stopServer } from './server-process.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 3);
const CONCURRENCY = (process.env.CONCURRENCY ?? '2').split(',').map(Number);
const USERS = Number(process.env.USERS ?? 200);
const ARGON2_COUNT = Number(process.env.ARGON2_COUNT ?? 50);
/** Keycloak's published sizing figure: password logins per second per vCPU. */
const KEYCLOAK_LOGINS_PER_VCPU_S = 15;
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const run = promisify(execFile);

if (Math.max(...CONCURRENCY) > USERS)
  throw new Error(`CONCURRENCY ${CONCURRENCY} > USERS ${USERS}: a user would sign in twice at once`);

async function startServer(concurrency) {
  const [cmd, args] = pin(0, process.execPath, [here('./sign-in-server.mjs'), String(USERS)]);
  const { child, match } = await startProcess('sign-in server', cmd, args, /READY (\d+) (.+)\n/, 60_000);
  const flow = JSON.parse(match[2]);
  if (concurrency >= flow.addressBudget) {
    await stopServer({ child });
    throw new Error(`CONCURRENCY ${concurrency} would reach the per-address login budget (${flow.addressBudget})`);
  }
  return { child, port: Number(match[1]), flow };
}

const verifications = async (server) =>
  Number(await (await fetch(`http://127.0.0.1:${server.flow.control}/verifications`)).text());

/** Runs the load generator for `seconds`; resolves with its figures and the server's CPU time (ms) meanwhile. */
async function signIns(server, concurrency, seconds) {
  const [cmd, args] = pin(1, process.execPath, [
    here('./sign-in-load.mjs'),
    String(server.port),
    JSON.stringify(server.flow),
    String(concurrency),
    String(seconds),
  ]);
  const verifiedBefore = await verifications(server);
  const cpuBefore = cpuMs(server.child.pid);
  const { stdout } = await run(cmd, args, { maxBuffer: 1 << 20 });
  const cpuAfter = cpuMs(server.child.pid);
  const r = JSON.parse(stdout);
  const verified = (await verifications(server)) - verifiedBefore;
  if (verified !== r.flows) throw new Error(`${r.flows} flows verified ${verified} passwords, not one each`);
  return { ...r, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

async function argon2Cost(concurrency) {
  const [cmd, args] = pin(0, process.execPath, [here('./sign-in-argon2.mjs'), String(ARGON2_COUNT), String(concurrency)]);
  const { stdout } = await run(cmd, args, { env: { ...process.env, NODE_ENV: 'production' } });
  return JSON.parse(stdout);
}

const runs = Object.fromEntries(CONCURRENCY.map((c) => [c, []]));
const loadBefore = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  const measured = [];
  for (const concurrency of CONCURRENCY) {
    const server = await startServer(concurrency);
    try {
      if (WARMUP > 0) await signIns(server, concurrency, WARMUP);
      measured.push([concurrency, await signIns(server, concurrency, DURATION)]);
    } finally {
      await stopServer(server);
    }
  }
  for (const [concurrency, r] of measured) {
    const argon2 = await argon2Cost(concurrency);
    const cpuUsPerFlow = r.cpu === undefined ? undefined : Math.round((r.cpu * 1000) / r.flows);
    const figures = {
      flows: r.flows,
      seconds: Math.round(r.seconds * 100) / 100,
      flowsPerS: Math.round(r.rps * 10) / 10,
      p50Ms: r.p50,
      p99Ms: r.p99,
      stepMeanMs: r.stepMeanMs,
      cpuUsPerFlow,
      flowsPerCpuS: cpuUsPerFlow ? Math.round((1e6 / cpuUsPerFlow) * 10) / 10 : undefined,
      argon2CpuUs: argon2.cpuUsPerVerification,
      argon2WallMs: argon2.wallMsPerVerification,
      argon2Share: cpuUsPerFlow ? Math.round((argon2.cpuUsPerVerification / cpuUsPerFlow) * 1000) / 1000 : undefined,
    };
    runs[concurrency].push(figures);
    console.error(
      `round ${round + 1}, ${concurrency} in flight: ${figures.flowsPerS} flows/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, ` +
        `server CPU ${cpuUsPerFlow} µs/flow (${figures.flowsPerCpuS} flows per CPU-second), ` +
        `argon2id ${figures.argon2CpuUs} µs (share ${figures.argon2Share})`,
    );
  }
}

const KEYS = ['flowsPerS', 'p50Ms', 'p99Ms', 'cpuUsPerFlow', 'flowsPerCpuS', 'argon2CpuUs', 'argon2Share'];
const figures = Object.fromEntries(
  CONCURRENCY.map((c) => [
    c,
    {
      ...Object.fromEntries(KEYS.map((k) => [k, median(runs[c].map((r) => r[k] ?? NaN))])),
      rounds: runs[c],
    },
  ]),
);
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, pinned: hasTaskset },
  /** One-minute load average of the machine before and after the run (2 cores: above 2, others compete). */
  loadAverage: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
  settings: { ROUNDS, DURATION, WARMUP, CONCURRENCY, USERS, ARGON2_COUNT },
  throttle: 'default settings; users round robin, one attempt in flight per username; concurrency below the per-address budget',
  keycloakLoginsPerVcpuS: KEYCLOAK_LOGINS_PER_VCPU_S,
  /** Per concurrency (flows in flight), the medians over the rounds and each round's figures. */
  figures,
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/sign-in.json'), JSON.stringify(result, null, 2) + '\n');

console.log(
  `| flows in flight | flows/s | p50 / p99 ms | server CPU µs/flow | flows per CPU-second | argon2id µs | argon2id share |\n` +
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
);
for (const c of CONCURRENCY) {
  const f = figures[c];
  console.log(
    `| ${c} | ${f.flowsPerS} | ${f.p50Ms} / ${f.p99Ms} | ${f.cpuUsPerFlow} | ${f.flowsPerCpuS} | ${f.argon2CpuUs} | ${(f.argon2Share * 100).toFixed(1)}% |`,
  );
}
console.log(
  `\nmedians of ${ROUNDS} rounds of ${DURATION} s; Keycloak publishes ${KEYCLOAK_LOGINS_PER_VCPU_S} password logins per vCPU-second; ` +
    `${result.machine.model} x${result.machine.cpus}, node ${result.machine.node}, ${USERS} users; ` +
    `server on core 0, load on core 1: ${hasTaskset}; load average ${result.loadAverage.join(' -> ')}`,
);
