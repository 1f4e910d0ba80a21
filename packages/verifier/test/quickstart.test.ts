/** `npm start` runs examples/quickstart: its printed curl calls must behave as printed. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port < 65000) return port;
  }
}

describe('quickstart example (npm start)', () => {
  let child: ChildProcess;
  let out = '';
  let port = 0;
  before(async () => {
    port = await freePortPair();
    child = spawn(process.execPath, [new URL('../../../examples/quickstart/main.js', import.meta.url).pathname], {
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl-C to stop')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`quickstart exited with ${code}`)));
    });
  });
  after(() => {
    child.kill('SIGTERM');
  });

  it('serves the JWKS and protects the orders routes as its instructions say', async () => {
    const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as { keys: { alg: string }[] };
    assert.equal(jwks.keys[0]?.alg, 'ES256');
    const tokens = [...out.matchAll(/Bearer ([\w-]+\.[\w-]+\.[\w-]+)/g)].map((m) => m[1]!);
    assert.equal(tokens.length, 3);
    const [reader, , writer] = tokens as [string, string, string];
    const orders = `http://127.0.0.1:${port + 1}/orders`;
    assert.equal((await fetch(orders)).status, 401);
    const ok = await fetch(orders, { headers: { authorization: `Bearer ${reader}` } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { orders: { owner: string }[] }).orders[0]?.owner, 'alice');
    const denied = await fetch(orders, { method: 'POST', headers: { authorization: `Bearer ${reader}` } });
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    assert.equal((await fetch(orders, { method: 'POST', headers: { authorization: `Bearer ${writer}` } })).status, 201);
  });
});
