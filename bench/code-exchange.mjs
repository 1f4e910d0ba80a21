// Code exchange benchmark: authorization_code grant requests/s (PKCE S256, client_secret_basic; an ES256 JWT
// access token and a stored refresh token per answer) of Tessera (@tessera/server on a temp SQLite folder)
// against node-oidc-provider (in-memory adapter), in the same run.
//
//   npx tsc -b && node bench/code-exchange.mjs
//   env: ROUNDS=5 COUNT=15000 WARMUP=3000 CONNECTIONS=50 MODES=tessera,oidc-provider
//
// Method: each server runs in its own process (bench/code-exchange-server.mjs) pinned to core 0; the load
// generator (bench/code-exchange-load.mjs) runs pinned to core 1. Codes live 60 s, and each request spends one,
// so per round and mode: a fresh server, WARMUP codes minted and exchanged (discarded), then COUNT codes minted
// and exchanged (measured). Modes alternate inside a round so that background load falls on all alike.
// Reported: the median over ROUNDS of requests/s, of p99 latency and of the server process's CPU time (user +
// system, from /proc) per exchange. Writes bench/results/code-exchange.json.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { hasTaskset, pin } from './pin.mjs';
import { cpuMs } from './proc.mjs';
import { startProcess, stopServer } from './server-process.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const COUNT = Number(process.env.COUNT ?? 15000);
const WARMUP = Number(process.env.WARMUP ?? 3000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const MODES = (process.env.MODES ?? 'tessera,oidc-provider').split(',');
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const version = (pkg) => JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`), 'utf8')).version;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function start(mode) {
  const [cmd, args] = pin(0, process.execPath, [here('./code-exchange-server.mjs'), mode]);
  const { child, match } = await startProcess(mode, cmd, args, /READY (\d+) (.+)\n/, 60_000);
  return { child, port: Number(match[1]), exchange: JSON.parse(match[2]) };
}

/**
 * Mints `n` codes on the server (not measured), then exchanges them all with the load generator; resolves with
 * its figures and the server's CPU time (ms) spent during the exchanges alone.
 */
async function exchangeCodes(server, n) {
  const codes = await (await fetch(`http://127.0.0.1:${server.exchange.control}/mint?n=${n}`)).text();
  const file = join(tmpdir(), `tessera-codes-${process.pid}.txt`);
  writeFileSync(file, codes);
  try {
    const [cmd, args] = pin(1, process.execPath, [
      here('./code-exchange-load.mjs'),
      String(server.port),
      JSON.stringify(server.exchange),
      file,
      String(CONNECTIONS),
    ]);
    const cpuBefore = cpuMs(server.child.pid);
    const { stdout } = await promisify(execFile)(cmd, args, { maxBuffer: 1 << 20 });
    const cpuAfter = cpuMs(server.child.pid);
    const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    return { ...JSON.parse(stdout), cpu };
  } finally {
    rmSync(file, { force: true });
  }
}

const runs = Object.fromEntries(MODES.map((m) => [m, []]));
const loadBefore = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    const server = await start(mode);
    try {
      if (WARMUP > 0) await exchangeCodes(server, WARMUP);
      const r = await exchangeCodes(server, COUNT);
      const cpuUsPerRequest = r.cpu === undefined ? undefined : Math.round((r.cpu * 1000) / r.requests);
      runs[mode].push({ ...r, cpuUsPerRequest });
      console.error(
        `round ${round + 1} ${mode}: ${Math.round(r.rps)} exchanges/s, p99 ${r.p99} ms, server CPU ${cpuUsPerRequest} µs/exchange`,
      );
    } finally {
      await stopServer(server);
    }
  }
}

const figures = Object.fromEntries(
  MODES.map((m) => [
    m,
    {
      rps: Math.round(median(runs[m].map((r) => r.rps))),
      p99Ms: median(runs[m].map((r) => r.p99)),
      cpuUsPerRequest: median(runs[m].map((r) => r.cpuUsPerRequest ?? 0)),
    },
  ]),
);
const ratio = (a, b) => (figures[a] && figures[b] ? Math.round((figures[a].rps / figures[b].rps) * 100) / 100 : undefined);
const cpuRatio = (a, b) =>
  figures[a]?.cpuUsPerRequest && figures[b]?.cpuUsPerRequest
    ? Math.round((figures[b].cpuUsPerRequest / figures[a].cpuUsPerRequest) * 100) / 100
    : undefined;
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, pinned: hasTaskset, loadBefore },
  settings: { ROUNDS, COUNT, WARMUP, CONNECTIONS },
  versions: { 'oidc-provider': version('oidc-provider') },
  figures,
  tesseraVsOidcProvider: { rps: ratio('tessera', 'oidc-provider'), cpu: cpuRatio('tessera', 'oidc-provider') },
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/code-exchange.json'), JSON.stringify(result, null, 2) + '\n');
