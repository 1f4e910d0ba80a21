/**
 * What the auth server writes to its log, read from the standard output of a real server process (pino's
 * own lines): credentials in URLs never appear, whatever the route; at the default level a request writes
 * no line (the per-request lines were the largest cost of a token request); `logRequests` or the debug
 * level gives one line per request; warnings and errors keep their level.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';

import { contextOf } from '@tessera/server/internal';

import { basic, startServer } from './helpers/server.js';

interface LogLine {
  level: number;
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  [key: string]: unknown;
}

interface Instance {
  url: string;
  /** Stops the process (SIGTERM) and returns everything it wrote to stdout, and the lines parsed. */
  stop(): Promise<{ text: string; lines: LogLine[] }>;
}

/** An auth server in its own process, configured by TESSERA_* variables only, its stdout captured. */
async function instance(env: Record<string, string>): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-log-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  const proc = fork(new URL('./fixtures/instance.js', import.meta.url), [], {
    env: { ...inherited, TESSERA_DATA_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let text = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.on('message', (m: { type?: string; url?: string }) => m.type === 'listening' && resolve(m.url!));
    void exited.then(() => reject(new Error(`the server exited before it started: ${stderr}`)));
  });
  return {
    url,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const lines = text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
      return { text, lines };
    },
  };
}

/** Writes `bytes` on a new connection and waits for the server to close it. */
function raw(url: string, bytes: string): Promise<void> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('data', () => undefined);
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.write(bytes);
  });
}

const requestLines = (lines: LogLine[]) => lines.filter((l) => l.req !== undefined || l.res !== undefined);

describe('request logging', () => {
  it('secret-in-query-logged: credentials in any URL are redacted in the log lines of a real server', async () => {
    const server = await instance({ TESSERA_LOG_REQUESTS: 'true' });
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('nobody', 'SECRET-BASIC') };
    await fetch(`${server.url}/healthz?client_secret=SECRET-1&keep=visible`).then((r) => r.text());
    await fetch(`${server.url}/oauth/token?client_secret=SECRET-2`, {
      method: 'POST',
      headers: form,
      body: 'grant_type=client_credentials',
    }).then((r) => r.text());
    await fetch(`${server.url}/admin/users?access_token=SECRET-3`).then((r) => r.text());
    await fetch(`${server.url}/nope?password=SECRET-4&refresh_token=SECRET-5`).then((r) => r.text());
    await fetch(`${server.url}/revocations?token=SECRET-6`).then((r) => r.text());
    await fetch(`${server.url}/healthz?client%5Fsecret=SECRET-7`).then((r) => r.text());
    await fetch(`${server.url}/admin/users/%zz?assertion=SECRET-8`).then((r) => r.text());
    await fetch(`${server.url}/oauth/token?code=SECRET-9&subject_token=SECRET-10&client_assertion=SECRET-11`, {
      method: 'POST',
      headers: form,
      body: 'x=1',
    }).then((r) => r.text());
    await raw(server.url, 'GET /healthz?password=SECRET-12 HTTP/1.1\r\nhost: x\r\ncontent-length: x\r\n\r\n');
    // OpenID Connect logout: the hint is a whole ID token; state is not a credential.
    await fetch(`${server.url}/logout?id_token_hint=SECRET-13&state=visible`).then((r) => r.text());
    const { text, lines } = await server.stop();
    assert.doesNotMatch(text, /SECRET-/, 'no credential in the log');
    const urls = requestLines(lines).map((l) => l.req?.url);
    assert.ok(urls.includes('/healthz?client_secret=[redacted]&keep=visible'), `logged URLs: ${JSON.stringify(urls)}`);
    assert.ok(urls.includes('/nope?password=[redacted]&refresh_token=[redacted]'), `logged URLs: ${JSON.stringify(urls)}`);
    assert.ok(urls.includes('/logout?id_token_hint=[redacted]&state=visible'), `logged URLs: ${JSON.stringify(urls)}`);
  });

  it('request-log-cost: at the default level a request writes no line; logRequests and debug give one line each', async () => {
    const paths = ['/healthz', '/.well-known/jwks.json', '/nope'];
    const run = async (env: Record<string, string>) => {
      const server = await instance(env);
      for (const p of paths) await fetch(server.url + p).then((r) => r.text());
      await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      }).then((r) => r.text());
      return (await server.stop()).lines;
    };

    const quiet = await run({});
    assert.ok(
      quiet.some((l) => l.level === 30),
      'the logger writes at info (the listening line)',
    );
    assert.deepEqual(requestLines(quiet), [], 'no per-request line at info');

    for (const [env, level] of [
      [{ TESSERA_LOG_REQUESTS: 'true' }, 30],
      [{ TESSERA_LOG_LEVEL: 'debug' }, 20],
    ] as const) {
      const lines = requestLines(await run(env));
      assert.equal(lines.length, paths.length + 1, `one line per request: ${JSON.stringify(lines)}`);
      for (const l of lines) {
        assert.equal(l.level, level);
        assert.equal(l.msg, 'request completed');
        assert.equal(typeof l.req?.method, 'string');
        assert.equal(typeof l.req?.url, 'string');
        assert.equal(typeof l.res?.statusCode, 'number');
        assert.equal(typeof l.responseTime, 'number');
      }
      assert.deepEqual(
        lines.map((l) => [l.req?.url, l.res?.statusCode]),
        [...paths.map((p) => [p, p === '/nope' ? 404 : 200]), ['/oauth/token', 401]],
      );
    }
  });

  it('keeps warnings and errors at the default level', async () => {
    const lines: LogLine[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l) as LogLine);
        done();
      },
    });
    const t = await startServer({ logStream, overrides: { logLevel: 'info' } });
    const svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    assert.equal(
      (await t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(svc.id, svc.secret!) })).status,
      200,
    );
    assert.deepEqual(requestLines(lines), [], 'no per-request line');
    // The database goes away: readiness warns, the token endpoint fails with 500 and logs the error.
    await contextOf(t.server).store.close();
    assert.equal((await fetch(`${t.url}/readyz`)).status, 503);
    const failed = await t.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(svc.id, svc.secret!) },
    );
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.body, { error: 'server_error', error_description: 'internal error' });
    assert.ok(
      lines.some((l) => l.level === 40 && l.msg === 'not ready'),
      'the warning is logged',
    );
    assert.ok(
      lines.some((l) => l.level === 50 && l.msg === 'request failed'),
      'the error is logged',
    );
    // The store is closed already: the server's own close fails at its end, the folder goes regardless.
    await t.close().catch(() => rmSync(t.dir, { recursive: true, force: true }));
  });
});
