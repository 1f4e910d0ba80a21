/** `npm start` runs examples/quickstart: the curl lines it prints must work as printed. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

async function freePort(): Promise<number> {
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

function start(port: number, dir: string): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, [new URL('../../../examples/quickstart/main.js', import.meta.url).pathname], {
    env: { ...process.env, PORT: String(port), TESSERA_DEMO_DIR: dir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C to stop')) resolve({ child, out });
    });
    child.on('exit', (code) => reject(new Error(`quickstart exited with ${code}`)));
  });
}

describe('quickstart (npm start)', () => {
  let child: ChildProcess;
  let out = '';
  let port = 0;
  const dir = join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'data');
  before(async () => {
    port = await freePort();
    ({ child, out } = await start(port, dir));
  });
  after(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the printed client-credentials curl line gets a token that the orders service accepts', async () => {
    const m = /curl -s -u ([\w-]+):(\S+) -d grant_type=client_credentials -d resource=orders (\S+)/.exec(out);
    assert.ok(m, out);
    const [, id, secret, tokenUrl] = m;
    const res = await fetch(tokenUrl!, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&resource=orders',
    });
    assert.equal(res.status, 200);
    const token = ((await res.json()) as { access_token: string }).access_token;
    const orders = `http://127.0.0.1:${port + 1}/orders`;
    assert.equal((await fetch(orders)).status, 401);
    const ok = await fetch(orders, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { orders: { for: string }[] }).orders[0]?.for, id);
    assert.equal((await fetch(orders, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 201);
  });

  it('the printed password-grant line logs the demo user in, with only the scopes their role grants', async () => {
    const m = /-d username=(\S+) -d 'password=([^']+)' -d client_id=(\S+) -d client_secret=(\S+) (\S+)/.exec(out);
    assert.ok(m, out);
    const [, username, password, clientId, clientSecret, tokenUrl] = m;
    const res = await fetch(tokenUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: username!, password: password!, client_id: clientId!, client_secret: clientSecret! }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { scope: string; refresh_token: string };
    assert.equal(body.scope, 'orders:read');
    assert.ok(body.refresh_token.startsWith('tsr_'));
  });

  it('a second start reuses the data folder', async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    ({ child, out } = await start(port, dir));
    assert.match(out, /Tessera is running/);
  });
});
