// Real-time gateway benchmark: @tessera/realtime's gateway against a bare `ws` broadcast server doing the
// same work for the same clients (bench/realtime-server.mjs says exactly what the baseline does and does
// not do), in the same run.
//
//   npx tsc -b && node bench/realtime.mjs
//   env: ROUNDS=5 MEMORY_ROUNDS=3 CONNS=5000 CONCURRENCY=50 CONNECT_DURATION=3 SUBSCRIBERS=1000 RATE=50
//        RATE_DURATION=5 MAX_DURATION=4 INFLIGHT=10 MODES=tessera,baseline PHASES=memory,connect,fanout
//        SERVER_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (extra node flags for the server children)
//
// Method. Each server runs in its own child process (bench/realtime-server.mjs, IPC channel, node
// --expose-gc) pinned to core 0; this process is the load generator, pinned to core 1 (when taskset and two
// cores are there). Clients are raw `ws` sockets speaking the Centrifuge client protocol (JSON):
// `{"id":1,"connect":{"token":..}}`, then `{"id":2,"subscribe":{"channel":..}}`; they answer the server's
// ping `{}` with `{}`. Every connection carries its own freshly signed EdDSA access token (unique jti), so
// the verifier's verified-token cache never helps a connect.
//  1. memory: a fresh server; 200 connections opened and closed (warm-up, not counted); GC, memoryUsage;
//     CONNS connections opened (100 at a time), each connected and subscribed to one of 100 channels
//     `chat:room:<i % 100>`; GC, memoryUsage. Reported: (after - before) / CONNS for RSS and V8 heap used.
//  2. connect: one server per mode; CONCURRENCY loops, each opening a socket, sending connect with a fresh
//     token, waiting for the reply, closing and waiting for the close, for CONNECT_DURATION s (after a 1 s
//     warm-up per server). Reported: connects completed per second, connect latency (socket opened to
//     connect reply) p50/p99, server CPU time per connect (/proc, user + system).
//  3. fanout: one server per mode holding SUBSCRIBERS subscribers of `chat:room:1` and one publisher
//     (connected, not subscribed) that sends `publish` commands whose data carries a sequence number and
//     the send time (performance.now() of this process: the subscribers live here too, same clock).
//     `rate`: RATE publications/s for RATE_DURATION s (50 x 1000 subscribers = 50,000 deliveries/s, about
//     half of what one core of the test machine sends, so that the latency is not that of a saturated
//     server; RATE=100 saturates it). `max`: as fast as possible with at most INFLIGHT publications not
//     yet received by every subscriber, for MAX_DURATION s. Reported: deliveries received per second across
//     all subscribers within the window, delivery latency p50/p99 (receive time - send time), server CPU µs
//     per delivery, and this process's CPU share (near 100% means the load generator, not the server alone,
//     was the limit). Every publication must reach every subscriber, or the run fails.
// Rounds interleave the modes (round 1 of each, then round 2, ...), so that background load falls on both
// alike. Figures are medians over ROUNDS (MEMORY_ROUNDS for memory); each ratio (Tessera / baseline) is
// taken per round, then the median. Each run also logs the CPU time that other processes took on the
// server's core and on the load generator's core (/proc/stat less our own processes): on a shared machine
// that is what makes a round slow. Writes bench/results/realtime.json.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { buildJwks, generateKey, signJwt } from '@tessera/core';
import WebSocket from 'ws';

import { hasTaskset, pin } from './pin.mjs';
import { CLOCK_TICKS, cpuMs } from './proc.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MEMORY_ROUNDS = Number(process.env.MEMORY_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
const CONNECT_DURATION = Number(process.env.CONNECT_DURATION ?? 3);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const RATE = Number(process.env.RATE ?? 50);
const RATE_DURATION = Number(process.env.RATE_DURATION ?? 5);
const MAX_DURATION = Number(process.env.MAX_DURATION ?? 4);
const INFLIGHT = Number(process.env.INFLIGHT ?? 10);
const MODES = (process.env.MODES ?? 'tessera,baseline').split(',');
const PHASES = (process.env.PHASES ?? 'memory,connect,fanout').split(',');
const SERVER_FLAGS = (process.env.SERVER_FLAGS ?? '').split(' ').filter(Boolean);
const ISSUER = 'https://auth.bench';
const AUDIENCE = 'realtime';
const SCOPE = 'chat:room:*:subscribe chat:room:*:publish';
const FANOUT_CHANNEL = 'chat:room:1';
const WARMUP_CONNS = 200;
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (...a) => console.error(...a);

// File descriptors: this process holds every client socket, each server child its side of them.
const fdLimit = (() => {
  const v = execFileSync('sh', ['-c', 'ulimit -n']).toString().trim();
  return v === 'unlimited' ? Infinity : Number(v);
})();
const fdBudget = fdLimit - 256;
let CONNS = Number(process.env.CONNS ?? 5000);
if (CONNS > fdBudget) {
  log(
    `CONNS=${CONNS} needs more file descriptors than ulimit -n (${fdLimit}) allows: capped at ${fdBudget}; raise it (ulimit -n) for more`,
  );
  CONNS = fdBudget;
}
if (2 * (SUBSCRIBERS + 1) > fdBudget)
  throw new Error(`SUBSCRIBERS=${SUBSCRIBERS} needs more file descriptors than ulimit -n (${fdLimit})`);

// The load generator on core 1; each server is started on core 0 (pin.mjs).
if (hasTaskset) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

const key = generateKey('EdDSA');
const jwks = buildJwks([key]);
let subjects = 0;
/** A fresh access token (unique sub and jti) granting subscribe and publish on chat:room:*. */
function token() {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    {
      iss: ISSUER,
      sub: `user-${++subjects}`,
      aud: AUDIENCE,
      iat: now,
      exp: now + 3600,
      jti: randomUUID(),
      client_id: 'bench',
      scope: SCOPE,
    },
    key,
    { typ: 'at+jwt' },
  );
}

// Servers.

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function startServer(mode) {
  const [cmd, args] = pin(0, process.execPath, ['--expose-gc', ...SERVER_FLAGS, here('./realtime-server.mjs'), mode]);
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', BENCH_JWKS: JSON.stringify(jwks) },
  });
  children.add(child);
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { mode, child, wsUrl: ready.wsUrl };
}

async function stopServer(server) {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
  children.delete(server.child);
}

let askId = 0;
/** Asks the server child for `mem` or `stats` over IPC. */
function ask(server, type) {
  const id = ++askId;
  return new Promise((resolve) => {
    const f = (m) => {
      if (m.id !== id) return;
      server.child.off('message', f);
      resolve(m);
    };
    server.child.on('message', f);
    server.child.send({ type, id });
  });
}

// Protocol clients.

/**
 * Opens a client: connect, then subscribe to `channel` when given. Resolves with the socket once the last
 * reply is in; afterwards every frame but the server's ping goes to `onFrame`. `onDrop` hears a close that
 * came after that.
 */
function openClient(url, tok, { channel, onFrame, onDrop } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    let state = 0; // 0 opening, 1 connect sent, 2 subscribe sent, 3 ready
    ws.on('open', () => {
      state = 1;
      ws.send(`{"id":1,"connect":{"token":"${tok}"}}`);
    });
    ws.on('message', (data) => {
      if (data.length === 2) {
        ws.send('{}'); // the server's ping
        return;
      }
      if (state === 3) {
        onFrame?.(data);
        return;
      }
      const msg = JSON.parse(data.toString());
      if (msg.error) {
        ws.terminate();
        reject(new Error(`reply ${JSON.stringify(msg)}`));
      } else if (state === 1 && msg.id === 1 && channel) {
        state = 2;
        ws.send(`{"id":2,"subscribe":{"channel":"${channel}"}}`);
      } else if ((state === 1 && msg.id === 1) || (state === 2 && msg.id === 2)) {
        state = 3;
        resolve(ws);
      }
    });
    ws.on('close', (code, reason) => {
      if (state !== 3) reject(new Error(`closed ${code} ${reason}`));
      else onDrop?.(code, String(reason));
    });
    ws.on('error', (err) => {
      if (state !== 3) reject(err);
    });
  });
}

/** Opens `n` clients, `concurrency` at a time; `options(i)` gives each one's openClient options. */
async function openMany(url, n, concurrency, options = () => ({})) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await openClient(url, token(), options(i));
      }
    }),
  );
  return out;
}

const closeClient = (ws) =>
  new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', resolve);
    ws.close(1000);
  });

async function waitUntil(predicate, ms, what) {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Busy CPU time of each core so far, ms (/proc/stat: all but idle and iowait); undefined without /proc. */
function coreBusyMs() {
  try {
    const out = [];
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+) (.*)/.exec(line);
      if (!m) continue;
      const [user, nice, system, , , irq, softirq, steal] = m[2].split(' ').map(Number);
      out[Number(m[1])] = ((user + nice + system + irq + softirq + (steal || 0)) * 1000) / CLOCK_TICKS;
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring a window: returns a function giving the CPU shares (of one core, over the window) of
 * the server, of this process, and of every other process on the server's core (0) and on ours (1).
 */
function cpuWindow(serverPid) {
  const t0 = performance.now();
  const server0 = cpuMs(serverPid);
  const client0 = process.cpuUsage();
  const cores0 = coreBusyMs();
  return () => {
    const ms = performance.now() - t0;
    const server = cpuMs(serverPid) - server0;
    const c = process.cpuUsage(client0);
    const client = (c.user + c.system) / 1000;
    const cores1 = coreBusyMs();
    const other = (core, ours) =>
      cores0 && cores1 && hasTaskset ? Math.max(0, (cores1[core] - cores0[core] - ours) / ms) : undefined;
    return {
      ms,
      serverMs: server,
      serverShare: server / ms,
      clientShare: client / ms,
      otherOnServerCore: other(0, server),
      otherOnClientCore: other(1, client),
    };
  };
}

const pct = (x) => (x === undefined || Number.isNaN(x) ? '?' : `${Math.round(x * 100)}%`);

function percentile(sorted, n, p) {
  return n === 0 ? NaN : sorted[Math.min(n - 1, Math.floor(p * (n - 1)))];
}

// 1. Connections held and memory per connection.

async function memoryRound(mode) {
  const server = await startServer(mode);
  try {
    const warm = await openMany(server.wsUrl, WARMUP_CONNS, 50, (i) => ({ channel: `chat:room:${i % 100}` }));
    await Promise.all(warm.map(closeClient));
    await waitUntil(async () => (await ask(server, 'stats')).connections === 0, 5000, 'warm-up connections to close');
    const before = await ask(server, 'mem');
    const t0 = performance.now();
    const clients = await openMany(server.wsUrl, CONNS, 100, (i) => ({ channel: `chat:room:${i % 100}` }));
    const openSeconds = (performance.now() - t0) / 1000;
    await sleep(300);
    const stats = await ask(server, 'stats');
    if (stats.connections !== CONNS || stats.subscriptions !== CONNS)
      throw new Error(
        `${mode}: server holds ${stats.connections} connections, ${stats.subscriptions} subscriptions, not ${CONNS}`,
      );
    const after = await ask(server, 'mem');
    for (const ws of clients) ws.terminate();
    const r = {
      conns: CONNS,
      rssKiBPerConn: (after.rss - before.rss) / CONNS / 1024,
      heapKiBPerConn: (after.heapUsed - before.heapUsed) / CONNS / 1024,
      externalKiBPerConn: (after.external - before.external) / CONNS / 1024,
      rssMiBBefore: before.rss / 2 ** 20,
      rssMiBAfter: after.rss / 2 ** 20,
      openPerSecond: CONNS / openSeconds,
    };
    log(
      `memory ${mode}: ${CONNS} connections, RSS ${r.rssMiBBefore.toFixed(1)} -> ${r.rssMiBAfter.toFixed(1)} MiB, ` +
        `${r.rssKiBPerConn.toFixed(2)} KiB RSS / ${r.heapKiBPerConn.toFixed(2)} KiB heap per connection (opened at ${Math.round(r.openPerSecond)}/s)`,
    );
    return r;
  } finally {
    await stopServer(server);
  }
}

// 2. Authenticated connects per second.

async function connectRun(server, seconds, tokens) {
  let completed = 0;
  let errors = 0;
  let firstError;
  let next = 0;
  const latencies = new Float64Array(Math.max(1024, tokens.length * 2));
  let n = 0;
  const window = cpuWindow(server.child.pid);
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const tok = next < tokens.length ? tokens[next++] : token();
        const t0 = performance.now();
        try {
          const ws = await openClient(server.wsUrl, tok);
          const t1 = performance.now();
          if (t1 <= end) {
            completed++;
            if (n < latencies.length) latencies[n++] = t1 - t0;
          }
          await closeClient(ws);
        } catch (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const cpu = window();
  if (errors > 0) throw new Error(`${server.mode}: ${errors} connects failed, first: ${firstError?.message}`);
  const sorted = latencies.subarray(0, n).sort();
  return {
    connectsPerSecond: completed / seconds,
    connects: completed,
    tokensMintedInWindow: Math.max(0, next - tokens.length),
    latencyP50Ms: percentile(sorted, n, 0.5),
    latencyP99Ms: percentile(sorted, n, 0.99),
    serverCpuUsPerConnect: (cpu.serverMs * 1000) / completed,
    serverCpuShare: cpu.serverShare,
    clientCpuShare: cpu.clientShare,
    otherOnServerCore: cpu.otherOnServerCore,
    otherOnClientCore: cpu.otherOnClientCore,
  };
}

// 3. Fan-out.

const DATA_MARK = Buffer.from('"data":{"s":');
const COMMA = 44;
const BRACE = 125;
const RING = 1 << 16;
const MAX_UNACKED = 64;

/** What the subscribers of one fan-out setup record; reset per run. */
function newRecorder() {
  return {
    windowEnd: 0,
    open: true, // publishing allowed
    delivered: 0, // within the window
    received: 0, // in all
    samples: new Float64Array(1 << 20),
    n: 0,
    counts: new Uint32Array(RING),
    completed: 0,
    published: 0,
    acked: 0,
    behind: 0,
    onComplete: undefined,
    drops: 0,
    errors: 0,
    firstError: undefined,
  };
}

async function startFanout(mode) {
  const server = await startServer(mode);
  const setup = { server, rec: newRecorder(), seq: 0 };
  const onFrame = (data) => {
    const now = performance.now();
    const rec = setup.rec;
    const j = data.indexOf(DATA_MARK);
    if (j === -1) return;
    let k = j + DATA_MARK.length;
    let seq = 0;
    for (let c = data[k]; c !== COMMA; c = data[++k]) seq = seq * 10 + c - 48;
    const e = data.indexOf(BRACE, k);
    const sent = Number(data.toString('latin1', k + 5, e)); // after `,"t":`
    rec.received++;
    if (now <= rec.windowEnd) {
      rec.delivered++;
      if (rec.n === rec.samples.length) {
        const bigger = new Float64Array(rec.samples.length * 2);
        bigger.set(rec.samples);
        rec.samples = bigger;
      }
      rec.samples[rec.n++] = now - sent;
    }
    const slot = seq & (RING - 1);
    if (++rec.counts[slot] === SUBSCRIBERS) {
      rec.counts[slot] = 0;
      rec.completed++;
      rec.onComplete?.();
    }
  };
  const onDrop = () => setup.rec.drops++;
  setup.subscribers = await openMany(server.wsUrl, SUBSCRIBERS, 50, () => ({ channel: FANOUT_CHANNEL, onFrame, onDrop }));
  setup.publisher = await openClient(server.wsUrl, token(), {
    onFrame: (data) => {
      setup.rec.acked++;
      if (data.includes('"error"')) {
        setup.rec.errors++;
        setup.rec.firstError ??= data.toString();
      }
    },
    onDrop: (code, reason) => {
      setup.rec.drops++;
      setup.rec.firstError ??= `publisher closed ${code} ${reason}`;
    },
  });
  const stats = await ask(server, 'stats');
  if (stats.subscriptions !== SUBSCRIBERS) throw new Error(`${mode}: ${stats.subscriptions} subscriptions, not ${SUBSCRIBERS}`);
  return setup;
}

function publish(setup) {
  const seq = ++setup.seq;
  setup.rec.published++;
  setup.publisher.send(
    `{"id":${seq},"publish":{"channel":"${FANOUT_CHANNEL}","data":{"s":${seq},"t":${performance.now().toFixed(3)}}}}`,
  );
}

async function fanoutRun(setup, kind, seconds) {
  const rec = (setup.rec = newRecorder());
  const window = cpuWindow(setup.server.child.pid);
  const start = performance.now();
  const end = start + seconds * 1000;
  rec.windowEnd = end;
  let timer;
  if (kind === 'rate') {
    const interval = 1000 / RATE;
    timer = setInterval(() => {
      const now = performance.now();
      if (now >= end || !rec.open) return clearInterval(timer);
      while (start + rec.published * interval <= now) {
        // The gateway disconnects a client with more than 128 commands waiting (connection.ts,
        // MAX_QUEUED_COMMANDS): past MAX_UNACKED unanswered publications the publisher falls behind instead.
        if (rec.published - rec.acked >= MAX_UNACKED) {
          rec.behind++;
          break;
        }
        publish(setup);
      }
    }, 1);
  } else {
    const pump = () => {
      while (rec.open && rec.published - rec.completed < INFLIGHT && performance.now() < end) publish(setup);
    };
    rec.onComplete = pump;
    pump();
  }
  await sleep(end - performance.now());
  rec.open = false; // a timer may fire a little before performance.now() reaches `end`
  clearInterval(timer);
  const cpu = window();
  const delivered = rec.delivered;
  const published = rec.published;
  // Drain: everything published must reach every subscriber.
  const drainEnd = Date.now() + 10_000;
  while ((rec.completed < published || rec.acked < published) && Date.now() < drainEnd && rec.drops === 0) await sleep(20);
  rec.onComplete = undefined;
  if (rec.drops > 0 || rec.errors > 0)
    throw new Error(
      `${setup.server.mode} ${kind}: ${rec.drops} connections dropped, ${rec.errors} error replies; first: ${rec.firstError}`,
    );
  if (rec.received !== published * SUBSCRIBERS)
    throw new Error(`${setup.server.mode} ${kind}: ${rec.received} of ${published * SUBSCRIBERS} deliveries arrived`);
  const sorted = rec.samples.subarray(0, rec.n).sort();
  return {
    published,
    publishedPerSecond: published / seconds,
    publisherHeldBack: rec.behind, // timer ticks at which MAX_UNACKED publications were unanswered
    deliveredPerSecond: delivered / seconds,
    latencyP50Ms: percentile(sorted, rec.n, 0.5),
    latencyP99Ms: percentile(sorted, rec.n, 0.99),
    latencyMaxMs: percentile(sorted, rec.n, 1),
    serverCpuUsPerDelivery: (cpu.serverMs * 1000) / delivered,
    serverCpuShare: cpu.serverShare,
    clientCpuShare: cpu.clientShare,
    otherOnServerCore: cpu.otherOnServerCore,
    otherOnClientCore: cpu.otherOnClientCore,
  };
}

async function stopFanout(setup) {
  for (const ws of [...setup.subscribers, setup.publisher]) ws.terminate();
  await stopServer(setup.server);
}

// The run.

const startedAt = new Date();
const load0 = loadavg();
log(
  `realtime bench: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}, ulimit -n ${fdLimit}, pinned: ${hasTaskset}; ` +
    `load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
);
const runs = {};
const record = (metric, mode, value) => ((runs[metric] ??= {})[mode] ??= []).push(value);

if (PHASES.includes('memory')) {
  for (let round = 0; round < MEMORY_ROUNDS; round++) {
    for (const mode of MODES) {
      const r = await memoryRound(mode);
      record('memory', mode, r);
    }
  }
}

if (PHASES.includes('connect')) {
  const servers = {};
  let estimate = 1000;
  for (const mode of MODES) {
    servers[mode] = await startServer(mode);
    const w = await connectRun(servers[mode], 1, []); // warm-up, tokens signed as it goes: discarded
    estimate = Math.max(estimate, w.connectsPerSecond * 1.5);
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Fresh tokens for the round, signed before the window; each server (its own process and cache) sees each once.
      const tokens = Array.from({ length: Math.ceil(estimate * CONNECT_DURATION) }, token);
      for (const mode of MODES) {
        const r = await connectRun(servers[mode], CONNECT_DURATION, tokens);
        record('connect', mode, r);
        estimate = Math.max(estimate, r.connectsPerSecond * 1.2);
        log(
          `round ${round + 1} connect ${mode}: ${Math.round(r.connectsPerSecond)} connects/s, latency p50 ${r.latencyP50Ms.toFixed(2)} ms ` +
            `p99 ${r.latencyP99Ms.toFixed(2)} ms, server CPU ${Math.round(r.serverCpuUsPerConnect)} µs/connect ` +
            `(CPU: server ${pct(r.serverCpuShare)}, load generator ${pct(r.clientCpuShare)}, others on their cores ${pct(r.otherOnServerCore)} / ${pct(r.otherOnClientCore)})` +
            (r.tokensMintedInWindow ? ` (${r.tokensMintedInWindow} tokens signed in the window)` : ''),
        );
      }
    }
  } finally {
    for (const s of Object.values(servers)) await stopServer(s);
  }
}

if (PHASES.includes('fanout')) {
  const setups = {};
  for (const mode of MODES) setups[mode] = await startFanout(mode);
  try {
    for (const mode of MODES) await fanoutRun(setups[mode], 'rate', 1); // warm-up, discarded
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        for (const [kind, seconds] of [
          ['rate', RATE_DURATION],
          ['max', MAX_DURATION],
        ]) {
          const r = await fanoutRun(setups[mode], kind, seconds);
          record(`fanout-${kind}`, mode, r);
          log(
            `round ${round + 1} fanout ${kind} ${mode}: ${Math.round(r.publishedPerSecond)} publications/s, ${Math.round(r.deliveredPerSecond)} deliveries/s, ` +
              `latency p50 ${r.latencyP50Ms.toFixed(2)} ms p99 ${r.latencyP99Ms.toFixed(2)} ms, server CPU ${r.serverCpuUsPerDelivery?.toFixed(2)} µs/delivery ` +
              `(CPU: server ${pct(r.serverCpuShare)}, load generator ${pct(r.clientCpuShare)}, others on their cores ${pct(r.otherOnServerCore)} / ${pct(r.otherOnClientCore)})` +
              (r.publisherHeldBack ? `; publisher held back at ${r.publisherHeldBack} ticks` : ''),
          );
        }
      }
    }
  } finally {
    for (const s of Object.values(setups)) await stopFanout(s);
  }
}

// Figures: medians over rounds; ratio Tessera / baseline per round, then the median.

const ROWS = [
  [
    'memory',
    'rssKiBPerConn',
    `server RSS per connection, KiB (${CONNS} held)`,
    2,
    'about 30 KB (1M test, 512-byte WebSocket buffers); 30-50 KB (FAQ)',
  ],
  ['memory', 'heapKiBPerConn', 'server V8 heap used per connection, KiB', 2, 'not published'],
  [
    'connect',
    'connectsPerSecond',
    `authenticated connects/s (${CONCURRENCY} at a time, EdDSA token each)`,
    0,
    'no maximum published (1M test: a steady 200k/min, about 170/s per pod)',
  ],
  ['connect', 'latencyP99Ms', 'connect latency p99, ms', 2, ''],
  ['connect', 'serverCpuUsPerConnect', 'server CPU per connect, µs', 0, ''],
  ['fanout-rate', 'deliveredPerSecond', `fan-out ${RATE} msg/s x ${SUBSCRIBERS}: deliveries/s`, 0, ''],
  ['fanout-rate', 'latencyP50Ms', `fan-out ${RATE} msg/s: latency p50, ms`, 2, ''],
  [
    'fanout-rate',
    'latencyP99Ms',
    `fan-out ${RATE} msg/s: latency p99, ms`,
    2,
    'p99 200 ms at 500k deliveries/s over 20 pods (1M test)',
  ],
  ['fanout-rate', 'serverCpuUsPerDelivery', `fan-out ${RATE} msg/s: server CPU per delivery, µs`, 2, ''],
  [
    'fanout-max',
    'deliveredPerSecond',
    `fan-out max (${INFLIGHT} in flight) x ${SUBSCRIBERS}: deliveries/s`,
    0,
    'about 25,000/s per pod of ~2 CPU (1M test: 500k/s over 20 pods, Protobuf, 10 subscribers per group channel)',
  ],
  ['fanout-max', 'latencyP50Ms', 'fan-out max: latency p50, ms', 2, ''],
  ['fanout-max', 'latencyP99Ms', 'fan-out max: latency p99, ms', 2, ''],
  ['fanout-max', 'serverCpuUsPerDelivery', 'fan-out max: server CPU per delivery, µs', 2, ''],
  ['fanout-max', 'serverCpuShare', "fan-out max: server's CPU, share of a core", 2, ''],
  ['fanout-max', 'clientCpuShare', "fan-out max: load generator's CPU, share of a core", 2, ''],
  ['fanout-max', 'otherOnServerCore', "fan-out max: other processes' CPU on the server's core", 2, ''],
];
const figures = [];
for (const [metric, field, label, digits, centrifugo] of ROWS) {
  const m = runs[metric];
  if (!m) continue;
  const row = { metric, field, label, centrifugo };
  for (const mode of MODES) row[mode] = median(m[mode].map((r) => r[field]));
  if (m.tessera && m.baseline) row.ratio = median(m.tessera.map((r, i) => r[field] / m.baseline[i][field]));
  row.digits = digits;
  figures.push(row);
}
const load1 = loadavg();
const summary = {
  date: startedAt.toISOString(),
  machine: `${cpus()[0]?.model} x${cpus().length}`,
  node: process.version,
  pinned: hasTaskset,
  loadAverageStart: load0,
  loadAverageEnd: load1,
  settings: {
    ROUNDS,
    MEMORY_ROUNDS,
    CONNS,
    CONCURRENCY,
    CONNECT_DURATION,
    SUBSCRIBERS,
    RATE,
    RATE_DURATION,
    MAX_DURATION,
    INFLIGHT,
  },
  figures: figures.map(({ digits: _digits, ...f }) => f),
  runs,
};
mkdirSync(here('./results'), { recursive: true });
writeFileSync(here('./results/realtime.json'), JSON.stringify(summary, null, 2) + '\n');

const fmt = (x, digits) =>
  x === undefined || Number.isNaN(x)
    ? ''
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
console.log(
  `| metric (median of ${ROUNDS} rounds; memory: ${MEMORY_ROUNDS}) | Tessera | baseline ws | Tessera / baseline | Centrifugo, published (context) |\n| --- | ---: | ---: | ---: | --- |`,
);
for (const f of figures) {
  console.log(
    `| ${f.label} | ${fmt(f.tessera, f.digits)} | ${fmt(f.baseline, f.digits)} | ${fmt(f.ratio, 2)} | ${f.centrifugo} |`,
  );
}
console.log(
  `${summary.machine}, node ${summary.node}, server on core 0, load generator on core 1: ${hasTaskset}; ` +
    `load average ${load0[0].toFixed(2)} -> ${load1[0].toFixed(2)}; ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`,
);
