// Tessera as the benchmarks' server processes run it (code-exchange-server.mjs, sign-in-server.mjs,
// token-endpoint-server.mjs): @tessera/server on a fresh temp SQLite folder with the default settings but ES256
// and a silent log, listening on 127.0.0.1 port 0. @tessera/server is loaded on the first call, so that a
// process running another server never loads it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts the server; resolves with it, its context, its port and `close` (which also removes the folder). */
export async function startTessera() {
  const { createServer } = await import('@tessera/server');
  const { contextOf } = await import('@tessera/server/internal');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const server = await createServer({
    env: {},
    overrides: { dataDir: dir, host: '127.0.0.1', port: 0, logLevel: 'silent', signingAlg: 'ES256' },
  });
  const address = await server.listen();
  return {
    server,
    ctx: contextOf(server),
    port: Number(new URL(address).port),
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
