// Token endpoint on PostgreSQL with several instances against one instance on SQLite: client_credentials
// requests/s, p99, and the CPU each request costs every process that serves it.
//
//   npx tsc -b && node bench/token-endpoint-cluster.mjs
//   env: ROUNDS=5 DURATION=10 WARMUP=5 CONNECTIONS=50 MODES=sqlite,pg-1,pg-2,pg-2-balancer
//   needs PostgreSQL at 127.0.0.1:5432 (user postgres, database test; TESSERA_TEST_POSTGRES overrides) and the
//   redis-server binary, as packages/server/test/cluster.test.ts does.
//
// Modes, all with CONNECTIONS connections in total and the same request as bench/token-endpoint.mjs (POST
// /oauth/token, client_secret_basic, grant_type client_credentials, scope, resource; ES256):
//   sqlite         one instance on SQLite, the embedded default (bench/token-endpoint-server.mjs: createServer
//                  in a process of its own on a temp data dir)
//   pg-1           one instance of the cluster below, loaded directly (the other one idle)
//   pg-2           both instances of the cluster, each loaded directly by an autocannon process of its own with
//                  half the connections, at the same time; requests/s added up
//   pg-2-balancer  both instances through the harness's TCP round-robin balancer (one autocannon)
// The cluster is packages/server/test/helpers/cluster.ts with 2 instances (processes) on one fresh PostgreSQL
// schema and its own Redis (the token endpoint does not use Redis unless rate limits are on); the instances
// connect to PostgreSQL directly, not through the harness's fault-injection proxy. The balancer runs inside
// this script's process, so its CPU is this process's CPU during the run.
//
// Method: per round, a fresh SQLite server and a fresh cluster; the order of the two alternates between rounds.
// Each mode gets a WARMUP-second run that is discarded, then a DURATION-second measured run. Nothing is pinned:
// the machine has 2 cores, and two instances plus PostgreSQL plus the load generator share them, so two
// instances cannot be twice one. Reported per mode, median over ROUNDS: requests/s, p99, and CPU time (user +
// system, from /proc) per request of each serving process: the Node instances, the PostgreSQL backends that
// serve them (found by application_name), the balancer, and autocannon itself (under /usr/bin/time); plus how
// busy the whole machine was (/proc/stat), which shows when the cores, not the server, are the limit, and the
// CPU used meanwhile by everything else (busy minus all of the above, in cores: other people's work on a
// shared machine). Any non-2xx answer, socket error or timeout fails the run. Writes
// bench/results/token-endpoint-cluster.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { CLOCK_TICKS, cpuMs } from './proc.mjs';

import { loadMasterKey, openPostgresStore, registerClient } from '@tessera/server/internal';

import { Cluster } from '../packages/server/dist-test/helpers/cluster.js';
import { adminQuery, createSchema, dropSchema, urlWithSchema } from '../packages/server/dist-test/helpers/postgres.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const MODES = (process.env.MODES ?? 'sqlite,pg-1,pg-2,pg-2-balancer').split(',');
const PG_MODES = MODES.filter((m) => m.startsWith('pg-'));
const AUDIENCE = 'https://orders.example';
const SCOPE = 'orders:read';
const APPLICATION_NAME = `tessera-bench-${process.pid}`;
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const version = (pkg) => JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`), 'utf8')).version;
const basic = (id, secret) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Busy and total jiffies of the whole machine, all cores. */
function machineTicks() {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** The PostgreSQL backends serving the cluster, with the CPU each has used so far. */
async function backendsCpu() {
  const rows = await adminQuery('select pid from pg_stat_activity where application_name = $1', [APPLICATION_NAME]);
  return new Map(rows.map((r) => [r.pid, cpuMs(r.pid) ?? 0]));
}

/** CPU (ms) of a set of processes between two readings: processes that came later count from zero. */
const spent = (before, after) => [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

const TIME = (() => {
  try {
    execFileSync('/usr/bin/time', ['-f', '%U', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs autocannon (under /usr/bin/time when there, for the load generator's own CPU). */
function autocannon(url, request, seconds, connections) {
  const headers = Object.entries(request.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const args = [
    here('../node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    ...headers,
    '-b',
    request.body,
    `${url}${request.path}`,
  ];
  // Asynchronous: the balancer lives in this process and must go on relaying meanwhile.
  const [cmd, argv] = TIME ? ['/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err.slice(-500)}`));
      const r = JSON.parse(out);
      if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
        return reject(new Error(`${url}: non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`));
      const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      resolve({
        rps: r.requests.average,
        p99: r.latency.p99,
        requests: r.requests.total,
        cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined,
      });
    });
  });
}

/**
 * One measured run: `targets` are loaded at the same time (connections split evenly), `servers` are the pids
 * whose CPU is charged to the requests. Returns requests/s (added up), the worst p99, and CPU µs per request.
 */
async function measure(targets, request, servers, { pg = false, balancer = false } = {}) {
  const per = Math.floor(CONNECTIONS / targets.length);
  if (WARMUP > 0) await Promise.all(targets.map((t) => autocannon(t, request, WARMUP, per)));
  const before = {
    servers: servers.map(cpuMs),
    pg: pg ? await backendsCpu() : new Map(),
    self: process.cpuUsage(),
    machine: machineTicks(),
  };
  const runs = await Promise.all(targets.map((t) => autocannon(t, request, DURATION, per)));
  const after = {
    servers: servers.map(cpuMs),
    pg: pg ? await backendsCpu() : new Map(),
    self: process.cpuUsage(before.self),
    machine: machineTicks(),
  };
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const perRequest = (ms) => Math.round((ms * 1000) / requests);
  const nodeMs = after.servers.reduce((sum, ms, i) => sum + ms - before.servers[i], 0);
  const pgMs = spent(before.pg, after.pg);
  const selfMs = (after.self.user + after.self.system) / 1000;
  const loadMs = runs.every((r) => r.cpuMs !== undefined) ? runs.reduce((n, r) => n + r.cpuMs, 0) : undefined;
  const ticks = (t) => (t * 1000) / CLOCK_TICKS;
  const machineMs = ticks(after.machine.busy - before.machine.busy);
  return {
    rps: runs.reduce((n, r) => n + r.rps, 0),
    p99: Math.max(...runs.map((r) => r.p99)),
    requests,
    perTarget: runs.map((r) => Math.round(r.rps)),
    cpuUsPerRequest: {
      node: perRequest(nodeMs),
      ...(pg ? { postgres: perRequest(pgMs), total: perRequest(nodeMs + pgMs) } : { total: perRequest(nodeMs) }),
      ...(balancer ? { balancer: perRequest(selfMs) } : {}),
      ...(loadMs !== undefined ? { autocannon: perRequest(loadMs) } : {}),
    },
    machineBusy: Number(((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)).toFixed(2)),
    /** Cores' worth of CPU used meanwhile by everything else on the machine (other people's work). */
    otherCores:
      loadMs === undefined ? undefined : Number(((machineMs - nodeMs - pgMs - selfMs - loadMs) / (DURATION * 1000)).toFixed(2)),
  };
}

function startSqlite() {
  const child = spawn(process.execPath, [here('./token-endpoint-server.mjs'), 'tessera'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+) (.+)\n/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}`, request: JSON.parse(m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`sqlite server exited ${code}: ${err}`)));
  });
}

async function sqliteRound(runs) {
  const { child, url, request } = await startSqlite();
  try {
    runs.sqlite.push(await measure([url], request, [child.pid]));
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => (child.exitCode !== null ? res() : child.on('exit', res)));
  }
}

async function clusterRound(runs) {
  const schema = await createSchema();
  const database = new URL(urlWithSchema(schema));
  database.searchParams.set('application_name', APPLICATION_NAME);
  const cluster = await Cluster.start({
    instances: 2,
    env: { TESSERA_DATABASE: database.toString(), TESSERA_LOG_LEVEL: 'silent', NODE_ENV: 'production' },
  });
  const store = openPostgresStore(urlWithSchema(schema));
  try {
    const master = loadMasterKey({ masterKey: cluster.env.TESSERA_MASTER_KEY, masterKeyFile: '', create: false });
    const { client, secret } = await registerClient(
      store,
      master,
      { id: 'reports', grantTypes: ['client_credentials'], scopes: [SCOPE], audiences: [AUDIENCE] },
      Date.now(),
    );
    const request = {
      path: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, resource: AUDIENCE }).toString(),
    };
    const [a, b] = cluster.instances;
    const pids = [a.proc.pid, b.proc.pid];
    for (const mode of PG_MODES) {
      if (mode === 'pg-1') runs[mode].push(await measure([a.url], request, [a.proc.pid], { pg: true }));
      else if (mode === 'pg-2') runs[mode].push(await measure([a.url, b.url], request, pids, { pg: true }));
      else if (mode === 'pg-2-balancer')
        runs[mode].push(await measure([cluster.url], request, pids, { pg: true, balancer: true }));
      else throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await store.close();
    await cluster.close();
    await dropSchema(schema).catch(() => undefined);
  }
}

const runs = Object.fromEntries(MODES.map((m) => [m, []]));
const loadBefore = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  const blocks = [...(MODES.includes('sqlite') ? [sqliteRound] : []), ...(PG_MODES.length > 0 ? [clusterRound] : [])];
  if (round % 2 === 1) blocks.reverse();
  for (const block of blocks) await block(runs);
  for (const m of MODES) {
    const r = runs[m].at(-1);
    console.error(
      `round ${round + 1} ${m}: ${Math.round(r.rps)} req/s (${r.perTarget.join(' + ')}), p99 ${r.p99} ms, CPU µs/request ${JSON.stringify(r.cpuUsPerRequest)}, machine busy ${r.machineBusy}, other work ${r.otherCores} cores`,
    );
  }
}

const figures = Object.fromEntries(
  MODES.map((m) => {
    const rs = runs[m];
    const cpu = Object.fromEntries(
      Object.keys(rs[0].cpuUsPerRequest).map((k) => [k, median(rs.map((r) => r.cpuUsPerRequest[k]))]),
    );
    return [
      m,
      {
        rps: Math.round(median(rs.map((r) => r.rps))),
        p99Ms: median(rs.map((r) => r.p99)),
        cpuUsPerRequest: cpu,
        machineBusy: median(rs.map((r) => r.machineBusy)),
        otherCores: median(rs.map((r) => r.otherCores ?? NaN)),
        rounds: rs,
      },
    ];
  }),
);
const ratio = (a, b) => (figures[a] && figures[b] ? Number((figures[a].rps / figures[b].rps).toFixed(2)) : undefined);
const cpuRatio = (a, b) =>
  figures[a] && figures[b] ? Number((figures[a].cpuUsPerRequest.total / figures[b].cpuUsPerRequest.total).toFixed(2)) : undefined;
const summary = {
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  pinned: false,
  rounds: ROUNDS,
  durationS: DURATION,
  warmupS: WARMUP,
  connections: CONNECTIONS,
  /** One-minute load average of the machine before and after the run (2 cores: above 2, others compete). */
  loadAverage: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
  versions: { autocannon: version('autocannon'), postgres: (await adminQuery('show server_version'))[0]?.server_version },
  figures,
  ratios: {
    'pg-2 / sqlite req/s': ratio('pg-2', 'sqlite'),
    'pg-2-balancer / sqlite req/s': ratio('pg-2-balancer', 'sqlite'),
    'pg-1 / sqlite req/s': ratio('pg-1', 'sqlite'),
    'pg-2 / pg-1 req/s': ratio('pg-2', 'pg-1'),
    'pg-2-balancer / pg-2 req/s': ratio('pg-2-balancer', 'pg-2'),
    'pg-1 / sqlite CPU per request (node + postgres)': cpuRatio('pg-1', 'sqlite'),
    'pg-2 / sqlite CPU per request (node + postgres)': cpuRatio('pg-2', 'sqlite'),
  },
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/token-endpoint-cluster.json'), JSON.stringify(summary, null, 2) + '\n');

const LABELS = {
  sqlite: '1 instance, SQLite',
  'pg-1': '1 instance, PostgreSQL',
  'pg-2': '2 instances, PostgreSQL, loaded directly',
  'pg-2-balancer': '2 instances, PostgreSQL, through the balancer',
};
console.log(
  `| setup | req/s (median of ${ROUNDS}) | p99 ms | CPU µs/request: Node | PostgreSQL | balancer | total | autocannon | machine busy | other work (cores) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
);
for (const m of MODES) {
  const f = figures[m];
  const c = f.cpuUsPerRequest;
  console.log(
    `| ${LABELS[m]} | ${f.rps} | ${f.p99Ms} | ${c.node} | ${c.postgres ?? '-'} | ${c.balancer ?? '-'} | ${c.total} | ${c.autocannon ?? '-'} | ${Math.round(f.machineBusy * 100)}% | ${f.otherCores} |`,
  );
}
console.log('');
for (const [k, v] of Object.entries(summary.ratios)) if (v !== undefined) console.log(`${k}: ${v}`);
console.log(
  `${summary.machine}, node ${summary.node}, ${CONNECTIONS} connections, ${DURATION} s runs, not pinned; load average ${summary.loadAverage.join(' -> ')}`,
);
