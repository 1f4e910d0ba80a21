// What bench/token-endpoint.mjs and bench/token-endpoint-instructions.mjs share: starting one server of
// token-endpoint-server.mjs and driving it with autocannon.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { autocannon, startProcess, stopServer } from './server-process.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Starts `node <script> <mode>` (by default this checkout's token-endpoint-server.mjs) through `wrap` (a
 * function from [cmd, args] to [cmd, args]: core pinning, valgrind; `nodeFlags` go before the script).
 * Resolves once it prints READY, with its port and the request to send.
 */
export async function startTokenServer(
  mode,
  { wrap = (cmd, args) => [cmd, args], script = here('./token-endpoint-server.mjs'), nodeFlags = [], timeoutMs = 60_000 } = {},
) {
  const [cmd, args] = wrap(process.execPath, [...nodeFlags, script, mode]);
  const { child, match } = await startProcess(mode, cmd, args, /READY (\d+) (.+)\n/, timeoutMs);
  return { child, port: Number(match[1]), request: JSON.parse(match[2]) };
}

export { stopServer as stopTokenServer };

/**
 * Sends the server's token request with autocannon (`extra`: `-d <s>` or `-a <n>`), through `wrap` (core
 * pinning). Any non-2xx answer, socket error or timeout fails the run.
 */
export function loadTokens(server, connections, extra, wrap) {
  const { port, request } = server;
  const headers = Object.entries(request.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const args = [...extra, '-m', 'POST', ...headers, '-b', request.body, `http://127.0.0.1:${port}${request.path}`];
  return autocannon(connections, args, wrap);
}

/**
 * The DPoP mode's load (a server whose request names a `dpop.htu`): bench/token-endpoint-dpop-load.mjs, through
 * `wrap` (core pinning), sends the request for `seconds` with a fresh proof each, `proofs` of them signed before
 * the run. Fails like `loadTokens`. Resolves with `{ rps, p99, requests, presigned, signedLive, loadCpuUsPerRequest }`.
 */
export async function loadTokensWithProofs(server, connections, seconds, proofs, wrap) {
  const [cmd, args] = wrap(process.execPath, [
    here('./token-endpoint-dpop-load.mjs'),
    String(server.port),
    JSON.stringify(server.request),
    String(connections),
    String(seconds),
    String(proofs),
  ]);
  const { stdout } = await promisify(execFile)(cmd, args, { maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}
