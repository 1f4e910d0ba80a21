// Starting and stopping one benchmark server process (spawned with NODE_ENV=production, ready once its stdout
// matches what it prints when listening) and driving it with autocannon. Used by http-run.mjs and
// token-endpoint-run.mjs.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));

/**
 * Spawns `cmd args` and resolves with `{ child, match }` once its stdout matches `ready`; rejects (naming
 * `label`, with the process's stderr) if it exits first or prints nothing that matches within `timeoutMs`.
 */
export function startProcess(label, cmd, args, ready, timeoutMs) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label}: no READY within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const match = ready.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({ child, match });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label}: server exited ${code}\n${err}`));
    });
  });
}

/** Stops a server started by startProcess and waits for it to exit. */
export function stopServer({ child }) {
  child.removeAllListeners('exit');
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

/**
 * Runs autocannon with `connections` and `args` (duration or count, method, headers, body, URL), through `wrap`
 * (core pinning). Any non-2xx answer, socket error or timeout fails the run.
 */
export async function autocannon(connections, args, wrap = (cmd, a) => [cmd, a]) {
  const [cmd, all] = wrap(process.execPath, [AUTOCANNON, '-j', '-c', String(connections), ...args]);
  const { stdout } = await promisify(execFile)(cmd, all, { maxBuffer: 64 << 20 });
  const r = JSON.parse(stdout);
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
    throw new Error(`non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`);
  return { rps: r.requests.average, p99: r.latency.p99, requests: r['2xx'] };
}
