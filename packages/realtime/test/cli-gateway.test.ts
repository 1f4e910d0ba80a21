/**
 * `tessera gateway --config FILE` as an operator runs it: a real child process, a real auth server, Redis
 * as the broker, the revocation feed; and a config it cannot run refused with exit 2 and the setting named.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { generateEncryptionKey } from '@tessera/core';
import { CLI_ACTOR } from '@tessera/server/internal';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';

import { startAuthServer, type AuthServer } from './helpers/auth.js';
import { once } from './helpers/gateway.js';
import { REDIS_URL, skipWithoutRedis } from './helpers/redis.js';

const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; listening: Promise<string>; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
  });
  // Tests of a refused config await the exit, not this.
  listening.catch(() => undefined);
  return { child, listening, stderr: () => err };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('tessera gateway', { skip: await skipWithoutRedis('tessera gateway (Redis broker)') }, () => {
  let auth: AuthServer;
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    auth = await startAuthServer();
    await auth.user('gus');
    dir = mkdtempSync(join(tmpdir(), 'tessera-gateway-cli-'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? exitOf(c) : undefined)));
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two nodes from one config file: the API on B reaches a client on A through Redis; revocations reach both', async () => {
    const feed = await auth.feedClient();
    writeFileSync(join(dir, 'feed-secret'), feed.secret + '\n', { mode: 0o600 });
    const config = join(dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        issuer: auth.url,
        audience: 'realtime',
        algorithms: ['ES256'],
        channels: { namespaces: { chat: { history: { size: 10, ttlSeconds: 60 } } } },
        revocations: { clientId: feed.id, clientSecretFile: 'feed-secret' },
        redisUrl: REDIS_URL,
      }),
    );
    // Two nodes from the same file, on one Redis.
    const a = run(['gateway', '--config', config, '--port', '0']);
    const b = run(['gateway', '--config', config, '--port', '0']);
    children.push(a.child, b.child);
    const [wsA, wsB] = await Promise.all([a.listening, b.listening]);
    assert.match(wsA, /^ws:\/\/127\.0\.0\.1:\d+\/connection\/websocket$/);

    const token = await auth.login('gus');
    const client = new Centrifuge(wsA, { websocket: WebSocket, token });
    client.connect();
    await once(client, 'connected');
    const sub = client.newSubscription('chat:room:cli');
    sub.subscribe();
    await once(sub, 'subscribed');

    const got = once<{ data: unknown }>(sub, 'publication');
    const apiUrl = wsB.replace('ws://', 'http://').replace('/connection/websocket', '/api/publish');
    const res = await fetch(apiUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${await auth.serviceToken(['realtime:publish'])}` },
      body: JSON.stringify({ channel: 'chat:room:cli', data: 'from node B' }),
    });
    assert.equal(res.status, 200);
    assert.equal((await got).data, 'from node B');

    const cut = once<{ code: number; reason: string }>(client, 'disconnected', 5_000);
    await auth.revoke(token);
    assert.deepEqual(await cut, { code: 3500, reason: 'token revoked' });

    // The user on both nodes; a cut-off of the user reaches both.
    const onA = new Centrifuge(wsA, { websocket: WebSocket, token: await auth.login('gus') });
    const onB = new Centrifuge(wsB, { websocket: WebSocket, token: await auth.login('gus') });
    onA.connect();
    onB.connect();
    await Promise.all([once(onA, 'connected'), once(onB, 'connected')]);
    const cutA = once<{ code: number }>(onA, 'disconnected', 5_000);
    const cutB = once<{ code: number }>(onB, 'disconnected', 5_000);
    await auth.revokeSubject('user-gus');
    assert.equal((await cutA).code, 3500);
    assert.equal((await cutB).code, 3500);
    assert.ok(!a.stderr().includes(token) && !a.stderr().includes(feed.secret), 'no secret in the output');
  });

  it('a config it cannot run: exit 2 with the setting named', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ issuer: auth.url, channels: { namespaces: {} }, revocations: { clientId: 'x' } }));
    const r = run(['gateway', '--config', config], { TESSERA_GATEWAY_REVOCATION_SECRET: '' });
    const code = await exitOf(r.child);
    assert.equal(code, 2);
    assert.match(r.stderr(), /revocations/);
    writeFileSync(
      config,
      JSON.stringify({ issuer: auth.url, channels: { namespaces: {} }, revocations: false, limits: { nope: 1 } }),
    );
    const r2 = run(['gateway', '--config', config]);
    assert.equal(await exitOf(r2.child), 2);
    assert.match(r2.stderr(), /limits\.nope/);
  });
});

describe('tessera gateway with decryptionKeyFile (encrypted access tokens)', () => {
  let auth: AuthServer;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    auth = await startAuthServer();
    await auth.user('ivy');
    dir = mkdtempSync(join(tmpdir(), 'tessera-gateway-enc-'));
    // The gateway's key, as `tessera keys generate --use enc` writes it; the auth server gets the public half.
    const key = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'gateway-enc-1' });
    writeFileSync(join(dir, 'gateway-enc.jwk.json'), JSON.stringify(key.toJwk({ private: true })), { mode: 0o600 });
    await auth.server.admin.resources.add(CLI_ACTOR, {
      name: 'realtime',
      resource: 'realtime',
      encrypt_access_tokens: true,
      encryption_keys: [key.publicKey().toJwk()],
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exitOf(child);
    }
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the encrypted tokens the auth server issues for its audience (the key file named relatively)', async () => {
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({
        issuer: auth.url,
        algorithms: ['ES256'],
        decryptionKeyFile: 'gateway-enc.jwk.json',
        channels: { namespaces: { chat: {} } },
        revocations: false,
      }),
    );
    const g = run(['gateway', '--config', join(dir, 'gateway.json'), '--port', '0']);
    child = g.child;
    const ws = await g.listening;
    const token = await auth.login('ivy');
    assert.equal(token.split('.').length, 5, "the auth server encrypts the gateway audience's tokens");
    const client = new Centrifuge(ws, { websocket: WebSocket, token });
    client.connect();
    const connected = await once<{ client: string }>(client, 'connected');
    assert.match(connected.client, /^[0-9a-f-]{36}$/);
    client.disconnect();
    assert.ok(!g.stderr().includes(token), 'no token in the output');
  });
});
