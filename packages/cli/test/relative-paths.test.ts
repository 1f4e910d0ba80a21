/**
 * Relative paths as a newcomer types them (issue "First contact"): `tessera init` and `tessera serve` with
 * their defaults in an empty folder, then with a relative --dir, then `serve --config relative/tessera.json`
 * from another folder; the credentials `init` printed must work against the server `serve` started. And
 * relative paths in a config file resolve against the file's folder, those in TESSERA_* variables against
 * the working directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePort } from '@tessera/testing';

import { tempDir, tessera } from './helpers/cli.js';
import { run, start, type Running } from './helpers/process.js';

interface Printed {
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
}

/** The credentials as `tessera init` prints them for a person to read. */
function printed(stdout: string): Printed {
  const field = (name: string): string => {
    const m = new RegExp(`^\\s*${name}:\\s+(\\S+)\\s*$`, 'm').exec(stdout);
    assert.ok(m, `init prints ${name}:\n${stdout}`);
    return m[1]!;
  };
  return {
    username: field('username'),
    password: field('password'),
    clientId: field('client_id'),
    clientSecret: field('client_secret'),
  };
}

/** The printed admin client gets a token (client_credentials, with `tessera token get`); the admin user logs in. */
async function credentialsWork(issuer: string, creds: Printed): Promise<void> {
  const got = await run(['token', 'get', '--issuer', issuer, '--client-id', creds.clientId], {
    env: { TESSERA_CLIENT_SECRET: creds.clientSecret },
  });
  assert.equal(got.code, 0, `the printed admin client gets a token: ${got.stderr}`);
  assert.equal(got.stdout.trim().split('.').length, 3, 'a JWT');
  const login = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64'),
    },
    body: new URLSearchParams({ grant_type: 'password', username: creds.username, password: creds.password }),
  });
  const body = (await login.json()) as { access_token?: string; error?: string };
  assert.equal(login.status, 200, `the printed admin user logs in: ${body.error}`);
  const users = await fetch(`${issuer}/admin/users`, { headers: { authorization: `Bearer ${body.access_token}` } });
  assert.equal(users.status, 200);
  assert.match(await users.text(), new RegExp(`"${creds.username}"`), 'the admin user is in the database serve opened');
}

describe('first contact: init and serve with relative paths', () => {
  let root: { dir: string; remove: () => Promise<void> };
  const running: Running[] = [];
  const serve = (args: string[], cwd: string): Running => {
    const r = start(['serve', ...args], { cwd, env: { TESSERA_LOG_LEVEL: 'warn' } });
    running.push(r);
    return r;
  };

  before(async () => {
    root = await tempDir();
  });
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await root.remove();
  });

  it('tessera init, tessera serve with their defaults in an empty folder: the printed credentials work', async () => {
    const cwd = join(root.dir, 'empty');
    mkdirSync(cwd);
    const port = await freePort();
    const init = await tessera(['init', '--port', String(port)], { cwd });
    assert.equal(init.code, 0, init.stderr);
    const server = serve([], cwd);
    const url = await server.listening;
    assert.equal(url, `http://127.0.0.1:${port}`);
    await credentialsWork(url, printed(init.stdout));
    assert.ok(existsSync(join(cwd, '.tessera', 'tessera.db')), 'the database beside tessera.json');
    assert.ok(!existsSync(join(cwd, '.tessera', '.tessera')), 'no nested data folder');
    const list = await tessera(['users', 'list'], { cwd });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /\badmin\b/, 'users list finds the admin user');
    await server.stop();
  });

  it('a relative --dir, then serve --dir from the same folder and --config from another', async () => {
    const project = join(root.dir, 'project');
    mkdirSync(project);
    const port = await freePort();
    const init = await tessera(['init', '--dir', 'var/tessera', '--port', String(port)], { cwd: project });
    assert.equal(init.code, 0, init.stderr);
    const creds = printed(init.stdout);

    const byDir = serve(['--dir', 'var/tessera'], project);
    await credentialsWork(await byDir.listening, creds);
    await byDir.stop();
    assert.ok(existsSync(join(project, 'var', 'tessera', 'master.key')), 'the master key beside tessera.json');

    const byConfig = serve(['--config', 'project/var/tessera/tessera.json'], root.dir);
    await credentialsWork(await byConfig.listening, creds);
    await byConfig.stop();
    assert.ok(!existsSync(join(root.dir, '.tessera')) && !existsSync(join(root.dir, 'tessera.db')), 'nothing made in the cwd');
  });

  it("paths in a config file resolve against the file's folder, from any working directory", async () => {
    const conf = join(root.dir, 'paths', 'conf');
    mkdirSync(conf, { recursive: true });
    writeFileSync(join(conf, 'tessera.json'), JSON.stringify({ database: 'db/auth.db', masterKeyFile: 'secrets/master.key' }));
    const r = await tessera(['users', 'list', '--config', 'conf/tessera.json'], { cwd: join(root.dir, 'paths') });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(conf, 'db', 'auth.db')), 'database');
    assert.ok(existsSync(join(conf, 'secrets', 'master.key')), 'master key');
    const dataDir = join(root.dir, 'paths', 'data-conf');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'tessera.json'), JSON.stringify({ dataDir: 'state' }));
    const d = await tessera(['users', 'list', '--config', 'data-conf/tessera.json'], { cwd: join(root.dir, 'paths') });
    assert.equal(d.code, 0, d.stderr);
    assert.ok(existsSync(join(dataDir, 'state', 'tessera.db')) && existsSync(join(dataDir, 'state', 'master.key')), 'dataDir');
  });

  it('paths in TESSERA_* variables resolve against the working directory, not the config file', async () => {
    const cwd = join(root.dir, 'env');
    mkdirSync(join(cwd, 'conf'), { recursive: true });
    writeFileSync(join(cwd, 'conf', 'tessera.json'), JSON.stringify({ dataDir: '.' }));
    const r = await run(['users', 'list', '--config', 'conf/tessera.json'], {
      cwd,
      env: { TESSERA_DATABASE: 'here.db', TESSERA_MASTER_KEY_FILE: 'keys/master.key' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(cwd, 'here.db')), 'TESSERA_DATABASE');
    assert.ok(existsSync(join(cwd, 'keys', 'master.key')), 'TESSERA_MASTER_KEY_FILE');
    assert.ok(!existsSync(join(cwd, 'conf', 'here.db')) && !existsSync(join(cwd, 'conf', 'keys')), 'nothing beside the file');
  });
});
