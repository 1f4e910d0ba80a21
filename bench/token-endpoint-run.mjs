// What bench/token-endpoint.mjs and bench/token-endpoint-instructions.mjs share: starting one server of
// token-endpoint-server.mjs and driving it with autocannon.
import { fileURLToPath } from 'node:url';

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
