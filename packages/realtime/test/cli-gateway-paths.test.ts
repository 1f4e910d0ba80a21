/**
 * `tessera gateway --config relative/gateway.json` started from another folder: the TLS certificate and key
 * and the revocation feed's secret file named relatively in the config resolve against the config file's
 * folder; a file that is not there is reported with the path where it was looked for.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { startAuthServer, type AuthServer } from './helpers/auth.js';
import { selfSignedCertificate } from './helpers/tls.js';

const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

/** The gateway's environment without a Redis URL: one node, in-memory broker. */
function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.TESSERA_REDIS_URL;
  delete e.TESSERA_GATEWAY_REVOCATION_SECRET;
  return e;
}

function gateway(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, 'gateway', ...args], { cwd, env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /listening at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`gateway exited ${code}: ${err}`)));
  });
  listening.catch(() => undefined);
  return { child, exited, listening, stderr: () => err };
}

function healthz(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(`${url}/healthz`, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('tessera gateway: relative paths in its config file', () => {
  let auth: AuthServer;
  let root: string;
  let conf: string;

  before(async () => {
    auth = await startAuthServer();
    root = mkdtempSync(join(tmpdir(), 'tessera-gateway-paths-'));
    conf = join(root, 'etc', 'gateway');
    mkdirSync(join(conf, 'tls'), { recursive: true });
    mkdirSync(join(conf, 'secrets'));
    selfSignedCertificate(join(conf, 'tls'));
    const feed = await auth.feedClient();
    writeFileSync(join(conf, 'secrets', 'feed'), feed.secret + '\n', { mode: 0o600 });
    writeFileSync(
      join(conf, 'gateway.json'),
      JSON.stringify({
        issuer: auth.url,
        port: 0,
        tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' },
        channels: { namespaces: { chat: {} } },
        revocations: { clientId: feed.id, clientSecretFile: 'secrets/feed' },
      }),
    );
  });
  after(async () => {
    await auth.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('TLS files and the feed secret file resolve against the config file, not the working directory', async () => {
    const g = gateway(['--config', 'etc/gateway/gateway.json'], root);
    try {
      // It listens only once the revocation feed (read with the secret file) has loaded.
      const wsUrl = await g.listening;
      assert.match(wsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/connection\/websocket$/);
      const base = wsUrl.replace('wss://', 'https://').replace('/connection/websocket', '');
      const res = await healthz(base, readFileSync(join(conf, 'tls', 'cert.pem')));
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).status, 'ok');
    } finally {
      g.child.kill('SIGTERM');
      await g.exited;
    }
  });

  it('a missing file is named by the path where it was looked for', async () => {
    const config = join(conf, 'missing.json');
    writeFileSync(
      config,
      JSON.stringify({
        issuer: auth.url,
        tls: { certFile: 'tls/nope.pem', keyFile: 'tls/key.pem' },
        channels: { namespaces: {} },
        revocations: false,
      }),
    );
    const g = gateway(['--config', 'etc/gateway/missing.json'], root);
    assert.equal(await g.exited, 2);
    assert.ok(g.stderr().includes(join(conf, 'tls', 'nope.pem')), g.stderr());
    assert.match(g.stderr(), /tls\.certFile/);
  });
});
