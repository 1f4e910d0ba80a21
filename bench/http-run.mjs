// What bench/http.mjs and bench/http-instructions.mjs share: starting one server of http-server.mjs, checking
// that it answers as its mode must, and driving it with autocannon.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const AUTOCANNON = here('../node_modules/autocannon/autocannon.js');

/** The version of an installed package, for the results file. */
export const version = (pkg) => JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`), 'utf8')).version;

/**
 * Starts `node http-server.mjs <mode>` through `wrap` (a function from [cmd, args] to [cmd, args]: core pinning,
 * valgrind). Resolves once it prints READY, with its port, the valid token and a wrong-audience token.
 */
export function startServer(mode, wrap = (cmd, args) => [cmd, args], timeoutMs = 60_000) {
  const [cmd, args] = wrap(process.execPath, [here('./http-server.mjs'), mode]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${mode}: no READY within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+) (\S+) (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ child, port: Number(m[1]), token: m[2], wrongAudience: m[3] });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode}: server exited ${code}\n${err}`));
    });
  });
}

/** Stops a server started by startServer and waits for it to exit. */
export function stopServer({ child }) {
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

/** A token whose signature no longer matches: one character of the signature's middle changed. */
function tampered(token) {
  const i = token.length - 20;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

/**
 * Proves a mode answers as it must before it is measured: 200 and the same JSON for the valid token, and,
 * for a mode that verifies, 401 for a tampered signature, a wrong audience and no header at all.
 */
export async function checkAnswers(spec, server) {
  const url = `http://127.0.0.1:${server.port}/orders`;
  const get = async (token) => {
    const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.text() };
  };
  const ok = await get(server.token);
  if (ok.status !== 200 || ok.body !== '{"ok":true,"sub":"alice"}')
    throw new Error(`${spec.mode}: valid token answered ${ok.status} ${ok.body}`);
  if (!spec.verifies) return;
  for (const [what, token] of [
    ['tampered signature', tampered(server.token)],
    ['wrong audience', server.wrongAudience],
    ['no token', undefined],
  ]) {
    const r = await get(token);
    if (r.status !== 401) throw new Error(`${spec.mode}: ${what} answered ${r.status}, not 401`);
  }
}

/**
 * Runs autocannon against the server's route with the valid token (`extra`: `-d <s>` or `-a <n>`), through
 * `wrap` (core pinning). Any non-2xx answer, socket error or timeout fails the run.
 */
export async function load(server, connections, extra, wrap = (cmd, args) => [cmd, args]) {
  const [cmd, args] = wrap(process.execPath, [
    AUTOCANNON,
    '-j',
    '-c',
    String(connections),
    ...extra,
    '-H',
    `authorization=Bearer ${server.token}`,
    `http://127.0.0.1:${server.port}/orders`,
  ]);
  const { stdout } = await promisify(execFile)(cmd, args, { maxBuffer: 64 << 20 });
  const r = JSON.parse(stdout);
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
    throw new Error(`non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`);
  return { rps: r.requests.average, p99: r.latency.p99, requests: r['2xx'] };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
