/**
 * The server-side commands against a real data folder and a real `tessera serve` process: init, users,
 * clients, keys, serve and token get, each as its own child process.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CLI, tempDir, tessera } from './helpers/cli.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('tessera init, users, clients, keys, serve, token get', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let data: string;
  let port: number;
  let serve: ChildProcess | undefined;
  let initOut: {
    issuer: string;
    admin_user: { username: string; password: string };
    admin_client: { client_id: string; client_secret: string };
  };

  before(async () => {
    root = await tempDir();
    data = join(root.dir, 'data');
    port = await freePort();
    const r = await tessera(['init', '--dir', data, '--port', String(port), '--json']);
    assert.equal(r.code, 0, r.stderr);
    initOut = JSON.parse(r.stdout);
  });
  after(async () => {
    serve?.kill('SIGTERM');
    await root.remove();
  });

  it('init writes a private config, master key and database, and prints the admin credentials once', async () => {
    assert.equal(initOut.issuer, `http://127.0.0.1:${port}`);
    assert.equal(initOut.admin_user.username, 'admin');
    assert.ok(initOut.admin_client.client_secret.startsWith('tss_'));
    assert.equal(statSync(join(data, 'master.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(data, 'tessera.json')).mode & 0o777, 0o600);
    const again = await tessera(['init', '--dir', data]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ERR_FILE_EXISTS/);
    // The secret is stored only as a digest: it appears nowhere in the folder's files.
    for (const name of readdirSync(data)) {
      const bytes = readFileSync(join(data, name));
      assert.ok(!bytes.includes(initOut.admin_client.client_secret), `${name} holds no client secret`);
      assert.ok(!bytes.includes(initOut.admin_user.password), `${name} holds no password`);
    }
  });

  it('users add / list / disable', async () => {
    const added = await tessera(['users', 'add', 'Carol', '--role', 'admin', '--dir', data, '--json']);
    assert.equal(added.code, 0, added.stderr);
    const user = JSON.parse(added.stdout);
    assert.equal(user.username, 'carol');
    assert.ok(user.password.length >= 20);
    const withStdin = await tessera(['users', 'add', 'dave', '--password-stdin', '--dir', data, '--json'], {
      input: 'a long enough password\n',
    });
    assert.equal(withStdin.code, 0, withStdin.stderr);
    assert.equal(JSON.parse(withStdin.stdout).password, undefined);
    const dup = await tessera(['users', 'add', 'carol', '--dir', data]);
    assert.equal(dup.code, 1);
    const list = JSON.parse((await tessera(['users', 'list', '--dir', data, '--json'])).stdout) as { username: string }[];
    assert.deepEqual(list.map((u) => u.username).sort(), ['admin', 'carol', 'dave']);
    const disabled = await tessera(['users', 'disable', 'carol', '--dir', data, '--json']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(JSON.parse(disabled.stdout).disabled, true);
  });

  it('clients add --json shows the secret once; list never shows it; rotate-secret issues a new one', async () => {
    const r = await tessera([
      'clients',
      'add',
      'orders',
      '--grant',
      'client_credentials',
      '--scope',
      'inventory:read',
      '--audience',
      'inventory',
      '--json',
      '--dir',
      data,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.ok(c.client_secret.startsWith('tss_'));
    const list = await tessera(['clients', 'list', '--dir', data, '--json']);
    assert.ok(!list.stdout.includes(c.client_secret));
    assert.ok(!list.stdout.includes('digest'));
    const bad = await tessera(['clients', 'add', 'x', '--grant', 'password', '--dir', data]);
    assert.equal(bad.code, 1, 'password grant needs a first-party client');
    const usage = await tessera(['clients', 'add', 'y', '--grant', 'implicit', '--dir', data]);
    assert.equal(usage.code, 2);
  });

  it('serve runs the server; token get fetches a client-credentials token that token verify accepts', async () => {
    const added = JSON.parse(
      (
        await tessera([
          'clients',
          'add',
          'billing',
          '--grant',
          'client_credentials',
          '--scope',
          'invoices:read',
          '--audience',
          'invoices',
          '--json',
          '--dir',
          data,
        ])
      ).stdout,
    );
    serve = spawn(process.execPath, [CLI, 'serve', '--dir', data], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      serve!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('tessera listening')) resolve();
      });
      serve!.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const issuer = `http://127.0.0.1:${port}`;
    const got = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [CLI, 'token', 'get', '--issuer', issuer, '--client-id', 'billing', '--audience', 'invoices'],
        {
          env: { ...process.env, TESSERA_CLIENT_SECRET: added.client_secret },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(got.code, 0, got.stderr);
    const token = got.stdout.trim();
    const verified = await tessera([
      'token',
      'verify',
      '--jwks',
      `${issuer}/.well-known/jwks.json`,
      '--issuer',
      issuer,
      '--audience',
      'invoices',
      '--alg',
      'ES256',
      token,
    ]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(JSON.parse(verified.stdout).sub, 'billing');
    const refused = await tessera(['token', 'get', '--issuer', issuer, '--client-id', 'billing'], {});
    assert.equal(refused.code, 2, 'no secret given');
  });

  it('keys list / rotate / import (a key made by ssh-keygen)', async () => {
    const before = JSON.parse((await tessera(['keys', 'list', '--dir', data, '--json'])).stdout) as {
      state: string;
      alg: string;
    }[];
    // One active and one next key per track: ES256 (access tokens), RS256 (ID tokens of the clients that ask).
    for (const alg of ['ES256', 'RS256'])
      assert.deepEqual(
        before
          .filter((k) => k.alg === alg)
          .map((k) => k.state)
          .sort(),
        ['active', 'next'],
        alg,
      );
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-m', 'pem', '-N', '', '-f', join(root.dir, 'ec')]);
    const imported = await tessera(['keys', 'import', join(root.dir, 'ec'), '--dir', data, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const kid = JSON.parse(imported.stdout).kid as string;
    const rsa = join(root.dir, 'rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'pem', '-N', '', '-f', rsa]);
    const wrongAlg = await tessera(['keys', 'import', rsa, '--alg', 'RS256', '--dir', data]);
    assert.equal(wrongAlg.code, 1, 'an RS256 key for an ES256 server is refused: the RS256 track makes its own keys');
    const rotated = await tessera(['keys', 'rotate', '--dir', data, '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).kid, kid, 'the imported key is the one that takes over');
  });
});
