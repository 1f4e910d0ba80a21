// What bench/http.mjs and bench/http-instructions.mjs share: starting one server of http-server.mjs, checking
// that it answers as its mode must, and driving it with autocannon.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { autocannon, startProcess, stopServer } from './server-process.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** The version of an installed package, for the results file. */
export const version = (pkg) => JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`), 'utf8')).version;

/**
 * Starts `node http-server.mjs <mode>` through `wrap` (a function from [cmd, args] to [cmd, args]: core pinning,
 * valgrind). Resolves once it prints READY, with its port, the valid token and a wrong-audience token.
 */
export async function startServer(mode, wrap = (cmd, args) => [cmd, args], timeoutMs = 60_000) {
  const [cmd, args] = wrap(process.execPath, [here('./http-server.mjs'), mode]);
  const { child, match } = await startProcess(mode, cmd, args, /READY (\d+) (\S+) (\S+)/, timeoutMs);
  return { child, port: Number(match[1]), token: match[2], wrongAudience: match[3] };
}

export { stopServer };

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
export function load(server, connections, extra, wrap) {
  const args = [...extra, '-H', `authorization=Bearer ${server.token}`, `http://127.0.0.1:${server.port}/orders`];
  return autocannon(connections, args, wrap);
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
