/**
 * What a newcomer meets first (issue "First contact"), each as a real child process: a mistyped flag gets
 * a "did you mean"; `token get` shows the server's refusal (error and error_description) with exit 1 and
 * ERR_TOKEN_REQUEST; a port in use is one line naming the port and the setting that changes it, for
 * `tessera serve`, `tessera gateway` and `npm start`; the "listening at" line shows the bound address and the
 * issuer beside it when they differ; `init` on an initialised folder names --dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { demoPort } from '@tessera/testing';

import { tempDir, tessera } from './helpers/cli.js';
import { run, start, type Running } from './helpers/process.js';

const QUICKSTART = fileURLToPath(new URL('../../../examples/quickstart/main.js', import.meta.url));

/** Holds a port at 127.0.0.1 until closed. */
async function holdPort(port = 0): Promise<{ port: number; server: Server }> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** One `error:` line, no stack trace. */
function oneLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
}

describe('first contact: what a newcomer is told', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let data: string;
  let config: string;
  let issuer: string;
  let serve: Running;

  before(async () => {
    root = await tempDir();
    data = join(root.dir, 'data');
    mkdirSync(data);
    config = join(data, 'tessera.json');
    writeFileSync(config, JSON.stringify({ dataDir: '.', port: 0, logLevel: 'warn' }));
    serve = start(['serve', '--config', config]);
    issuer = await serve.listening;
  });
  after(async () => {
    await serve.stop();
    await root.remove();
  });

  it('an unknown flag: exit 2 with "did you mean" the nearest flag of the command', async () => {
    const r = await tessera(['serve', '--prot', '4000', '--dir', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: ERR_USAGE: unknown flag --prot \(did you mean --port\?\)$/m);
    const t = await tessera(['token', 'get', '--issuer', issuer, '--client-ide', 'x']);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /unknown flag --client-ide \(did you mean --client-id\?\)/);
    const far = await tessera(['users', 'list', '--frobnicate']);
    assert.match(far.stderr, /unknown flag --frobnicate\n/, 'nothing near: no suggestion');
    // A secret pasted where a flag goes is neither echoed nor matched.
    const pasted = `--${'s3cr3tValue'.repeat(4)}`;
    const p = await tessera(['serve', pasted]);
    assert.equal(p.code, 2);
    assert.ok(!p.stderr.includes('s3cr3tValue'), p.stderr);
  });

  it('an unknown command: exit 2 with "did you mean" the nearest command', async () => {
    const r = await tessera(['tokn', 'get']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: ERR_USAGE: unknown command "tokn get" \(did you mean "token get"\?\)$/m);
    const one = await tessera(['serv', '--port', '4000']);
    assert.match(one.stderr, /unknown command "serv --port" \(did you mean "serve"\?\)/);
    const far = await tessera(['frobnicate']);
    assert.match(far.stderr, /unknown command "frobnicate"\n/);
  });

  it("token get shows the server's error and error_description, exit 1 (a refusal, not bad input)", async () => {
    const r = await run(['token', 'get', '--issuer', issuer, '--client-id', 'nobody'], {
      env: { TESSERA_CLIENT_SECRET: 'not-the-secret' },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: ERR_TOKEN_REQUEST: the server refused the token request \(HTTP 401\): invalid_client: \S/);
    assert.ok(!r.stderr.includes('not-the-secret'));
    oneLine(r.stderr);
  });

  it('token get: an unreachable server is named, exit 1', async () => {
    const held = await holdPort();
    await new Promise((resolve) => held.server.close(resolve));
    const r = await run(['token', 'get', '--issuer', `http://127.0.0.1:${held.port}`, '--client-id', 'x'], {
      env: { TESSERA_CLIENT_SECRET: 'x' },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`ERR_TOKEN_REQUEST: cannot reach http://127\\.0\\.0\\.1:${held.port}/oauth/token: ECONNREFUSED`),
    );
  });

  it('token get: a terminal escape in a hostile error_description is not printed', async () => {
    const hostile = createHttpServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: 'see \u001b]0;pwned\u0007 here' }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
      const r = await run(['token', 'get', '--issuer', url, '--client-id', 'x'], { env: { TESSERA_CLIENT_SECRET: 'x' } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\(HTTP 400\): invalid_request\n/);
      assert.ok(!r.stderr.includes('\u001b') && !r.stderr.includes('pwned'));
    } finally {
      hostile.close();
    }
  });

  it('listening at the bound address, with the issuer beside it when it differs', async () => {
    assert.match(issuer, /^http:\/\/127\.0\.0\.1:\d+$/, 'a derived issuer is the bound address: one URL');
    assert.doesNotMatch(serve.stderr(), /\(issuer /);
    const other = join(root.dir, 'issuer');
    mkdirSync(other);
    writeFileSync(join(other, 'tessera.json'), '{}');
    const s = start(['serve', '--dir', other, '--port', '0'], { env: { TESSERA_ISSUER: 'https://auth.example.test' } });
    try {
      await s.listening;
      assert.match(s.stderr(), /tessera listening at http:\/\/127\.0\.0\.1:\d+ \(issuer https:\/\/auth\.example\.test\)/);
    } finally {
      await s.stop();
    }
  });

  it('serve --json: once listening, one JSON line on stdout with listening_at and issuer', async () => {
    const other = join(root.dir, 'json');
    mkdirSync(other);
    writeFileSync(join(other, 'tessera.json'), '{}');
    const s = start(['serve', '--dir', other, '--port', '0', '--json'], { env: { TESSERA_ISSUER: 'https://auth.example.test' } });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        // Standard output is JSON lines: the server's log lines, and this one.
        s.child.stdout!.on('data', () => {
          const line = s
            .stdout()
            .split('\n')
            .find((l) => l.includes('"listening_at"'));
          if (line) resolve(line);
        });
        void s.exited.then((code) => reject(new Error(`serve exited ${code}: ${s.stderr()}`)));
      });
      const ready = JSON.parse(line) as { listening_at: string; issuer: string };
      assert.match(ready.listening_at, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(ready.issuer, 'https://auth.example.test');
      assert.equal((await fetch(`${ready.listening_at}/healthz`)).status, 200);
    } finally {
      await s.stop();
    }
  });

  it('serve on a port in use: one line naming the port and --port / TESSERA_PORT, exit 1', async () => {
    const held = await holdPort();
    try {
      const r = await run(['serve', '--config', config, '--port', String(held.port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^error: ERR_PORT_IN_USE: port ${held.port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(r.stderr, /--port, TESSERA_PORT or "port" in /);
      oneLine(r.stderr);
    } finally {
      held.server.close();
    }
  });

  it('gateway on a port in use: one line naming the port and --port / "port", exit 1', async () => {
    const held = await holdPort();
    const gw = join(root.dir, 'gateway.json');
    writeFileSync(gw, JSON.stringify({ issuer, port: held.port, channels: { namespaces: {} }, revocations: false }));
    try {
      const r = await run(['gateway', '--config', gw]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^error: ERR_PORT_IN_USE: port ${held.port} on 127\\.0\\.0\\.1 is already in use`));
      assert.match(r.stderr, /--port or "port" in /);
      oneLine(r.stderr);
    } finally {
      held.server.close();
    }
  });

  it('npm start on a port in use: one line naming the port and PORT, exit 1', async () => {
    const port = await demoPort();
    const held = await holdPort(port);
    try {
      const child = spawn(process.execPath, [QUICKSTART], {
        env: { ...process.env, PORT: String(port), TESSERA_DEMO_DIR: join(root.dir, 'demo'), LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`^error: port ${port} is already in use`));
      assert.match(stderr, /PORT=5000 npm start/);
      oneLine(stderr);
    } finally {
      held.server.close();
    }
  });

  it('init on an initialised folder names the flag that chooses another (--dir)', async () => {
    const r = await tessera(['init', '--dir', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERR_FILE_EXISTS: .*tessera\.json already exists.*choose another --dir\)/);
    assert.doesNotMatch(r.stderr, /--out/);
  });
});
