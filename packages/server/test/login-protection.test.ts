import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';

import {
  assertOAuthError,
  assertTokenResponse,
  auditEvents,
  clientCredentials,
  get,
  introspect,
  login,
  refresh,
  type Answer,
  type ClientCreds,
} from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'the right password';
const LOCKOUT_MS = 2_000;

describe('login protection', () => {
  let t: TestServer;
  let app: ClientCreds;
  /** The answer to a wrong password: every refused login must look exactly like it. */
  let wrong: Answer;
  let nextAddress = 0;
  /** A fresh source address per use (the server trusts X-Forwarded-For here), so tests do not share address lockouts. */
  const from = () => ({ 'x-forwarded-for': `198.51.100.${++nextAddress}` });

  /** The server's clock runs ahead of the real one by this much: lockouts pass without sleeping. */
  let skew = 0;

  before(async () => {
    t = await startServer({
      now: () => Date.now() + skew,
      overrides: { loginMaxFailures: 3, loginLockoutSeconds: LOCKOUT_MS / 1000, loginMaxFailuresPerAddress: 5, trustProxy: true },
    });
    app = await t.client({
      id: 'app',
      grantTypes: ['password', 'refresh_token'],
      scopes: [],
      audiences: ['api'],
      firstParty: true,
    });
    await t.user('probe', PASSWORD);
    wrong = await login(t, app, 'probe', 'not the password', {}, from());
    assertOAuthError(wrong, 400, 'invalid_grant');
  });
  after(() => t.close());

  function assertRefusedLogin(r: Answer): void {
    assertOAuthError(r, 400, 'invalid_grant');
    assert.deepEqual(r.body, wrong.body, 'a refused login looks like a wrong password');
  }

  it('gives an unknown user the same answer as a wrong password', async () => {
    assertRefusedLogin(await login(t, app, 'no-such-user', PASSWORD, {}, from()));
    assertRefusedLogin(await login(t, app, 'no-such-user', 'not the password', {}, from()));
  });

  it('locks a username out after loginMaxFailures wrong passwords, the right one included, until the lockout ends', async () => {
    await t.user('gina', PASSWORD);
    const address = from();
    for (let i = 0; i < 3; i++) assertRefusedLogin(await login(t, app, 'gina', `wrong password ${i}`, {}, address));
    assertRefusedLogin(await login(t, app, 'gina', PASSWORD, {}, address));
    // The lock is on the username, from any address, whatever its spelling.
    assertRefusedLogin(await login(t, app, 'gina', PASSWORD, {}, from()));
    assertRefusedLogin(await login(t, app, 'GINA', PASSWORD, {}, from()));
    // Other users are not affected.
    await t.user('gina2', PASSWORD);
    assertTokenResponse(await login(t, app, 'gina2', PASSWORD, {}, address));

    const lockouts = await auditEvents(t, 'login.lockout');
    assert.ok(lockouts.some((e) => e.subject === 'gina' && e.data.scope === 'username'));

    skew += LOCKOUT_MS;
    assertTokenResponse(await login(t, app, 'gina', PASSWORD, {}, address));
  });

  it('locks a source address out after loginMaxFailuresPerAddress failures, whatever the usernames', async () => {
    await t.user('hank', PASSWORD);
    const address = from();
    for (let i = 0; i < 5; i++) assertRefusedLogin(await login(t, app, `stranger-${i}`, 'guess', {}, address));
    assertRefusedLogin(await login(t, app, 'hank', PASSWORD, {}, address));
    assertTokenResponse(await login(t, app, 'hank', PASSWORD, {}, from()));

    const lockouts = await auditEvents(t, 'login.lockout');
    assert.ok(lockouts.some((e) => e.ip === address['x-forwarded-for'] && e.data.scope === 'address'));

    skew += LOCKOUT_MS;
    assertTokenResponse(await login(t, app, 'hank', PASSWORD, {}, address));
  });

  it('normalises usernames (NFKC, lower case) so that every spelling reaches one account', async () => {
    const created = await t.admin('POST', '/admin/users', { username: 'Ivy', password: PASSWORD });
    assert.equal(created.status, 201);
    assert.equal(created.body.username, 'ivy');
    const ligature = await t.admin('POST', '/admin/users', { username: '\uFB01ona', password: PASSWORD });
    assert.equal(ligature.body.username, 'fiona');
    const spellings: [string, unknown][] = [
      ['ivy', created.body.id],
      ['IVY', created.body.id],
      ['\uFF49\uFF56\uFF59', created.body.id], // full-width ｉｖｙ
      ['\uFF29\uFF36\uFF39', created.body.id], // full-width ＩＶＹ
      [' ivy ', created.body.id],
      ['FIONA', ligature.body.id],
      ['\uFB01ona', ligature.body.id], // the "ﬁ" ligature
    ];
    const answers = await Promise.all(spellings.map(([spelling]) => login(t, app, spelling, PASSWORD, {}, from())));
    answers.forEach((r, i) => {
      assertTokenResponse(r);
      assert.equal(decodeUnverified(r.body.access_token!).payload.sub, spellings[i]![1], spellings[i]![0]);
    });
    // The same user cannot be created twice under another spelling.
    assert.equal((await t.admin('POST', '/admin/users', { username: '\uFF29vy', password: PASSWORD })).status, 409);
  });

  it('refuses a disabled user, whose refresh and access tokens stop working', async () => {
    const id = await t.user('jack', PASSWORD);
    const s = await login(t, app, 'jack', PASSWORD, {}, from());
    assertTokenResponse(s);
    const disabled = await t.admin('POST', `/admin/users/${encodeURIComponent(id)}/disable`);
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.disabled, true);

    assertRefusedLogin(await login(t, app, 'jack', PASSWORD, {}, from()));
    assertOAuthError(await refresh(t, app, s.body.refresh_token!), 400, 'invalid_grant');
    assert.deepEqual((await introspect(t, app, s.body.access_token!)).body, { active: false });
    assert.deepEqual((await introspect(t, app, s.body.refresh_token!)).body, { active: false });
  });

  it('stops a refresh token of a user disabled directly in the store', async () => {
    await t.user('kate', PASSWORD);
    const s = await login(t, app, 'kate', PASSWORD, {}, from());
    assertTokenResponse(s);
    assert.ok(await t.server.context.store.updateUser('user-kate', { disabled: true }, Date.now()));
    assertOAuthError(await refresh(t, app, s.body.refresh_token!), 400, 'invalid_grant');
    assertRefusedLogin(await login(t, app, 'kate', PASSWORD, {}, from()));
  });

  it('counts failures by reason in /metrics', async () => {
    const text = (await get(t, '/metrics')).text;
    for (const reason of ['wrong_password', 'unknown_user', 'locked', 'disabled']) {
      assert.match(text, new RegExp(`^tessera_login_failures_total\\{reason="${reason}"\\} [1-9]`, 'm'), reason);
    }
  });
});

describe('token endpoint rate limit', () => {
  let t: TestServer;
  /** The server's clock, stopped: every request falls in one one-second window until the test moves it. */
  let clock = Date.now();
  before(async () => {
    t = await startServer({ now: () => clock, overrides: { tokenRateLimit: 5 } });
  });
  after(() => t.close());

  it('answers 429 after tokenRateLimit requests in one second, and serves again in the next', async () => {
    const svc = await t.client({ grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    clock = Math.floor(clock / 1_000) * 1_000 + 1_000;
    const results: Answer[] = [];
    for (let i = 0; i < 6; i++) results.push(await clientCredentials(t, svc));
    for (const r of results.slice(0, 5)) assertTokenResponse(r);
    const limited = results[5]!;
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error, 'temporarily_unavailable');
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(limited.headers.get('cache-control'), 'no-store');

    clock += 999;
    assert.equal((await clientCredentials(t, svc)).status, 429, 'still the same window');
    clock += 1;
    assertTokenResponse(await clientCredentials(t, svc));
    // Concurrent requests are counted too.
    clock += 1_000;
    const burst = await Promise.all(Array.from({ length: 10 }, () => clientCredentials(t, svc)));
    assert.deepEqual(burst.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
  });
});

/**
 * The server's log, at debug level, over every flow that handles a secret: no password, client secret,
 * refresh token or access token may appear in it. Runs a real server in a child process to capture its
 * stdout and stderr.
 */
describe('logs', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-logs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const CHILD = `
    import { writeFileSync } from 'node:fs';
    const { createServer } = await import(process.env.SERVER_ENTRY);
    const { registerClient, ADMIN_SCOPE, adminAudience } = await import(process.env.SERVER_INTERNAL);
    const server = await createServer({ overrides: { dataDir: process.env.DATA_DIR, port: 0, logLevel: 'debug' } });
    await server.listen();
    const url = server.config.issuer;
    const ctx = server.context;
    const secrets = [process.env.USER_PASSWORD, process.env.WRONG_PASSWORD, process.env.NEW_PASSWORD];
    const keep = (s) => { if (typeof s === 'string') secrets.push(s); return s; };
    const basic = (id, secret) => 'Basic ' + Buffer.from(encodeURIComponent(id) + ':' + encodeURIComponent(secret)).toString('base64');
    const post = async (path, params, headers = {}) => {
      const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params).toString() });
      const text = await res.text();
      return text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {};
    };
    const json = (method, path, token, body) => fetch(url + path, { method, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }).then((r) => r.text());

    const admin = await registerClient(ctx.store, ctx.master, { id: 'admin', grantTypes: ['client_credentials'], scopes: [ADMIN_SCOPE], audiences: [adminAudience(url)] }, Date.now());
    keep(admin.secret);
    const adminToken = keep((await post('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('admin', admin.secret) })).access_token);
    const app = await registerClient(ctx.store, ctx.master, { id: 'app', authMethod: 'client_secret_post', grantTypes: ['password', 'refresh_token'], scopes: [], audiences: ['api'], firstParty: true }, Date.now());
    keep(app.secret);
    const appAuth = { client_id: 'app', client_secret: app.secret };

    const user = JSON.parse(await json('POST', '/admin/users', adminToken, { username: 'logan', password: process.env.USER_PASSWORD }));
    await json('POST', '/admin/users', adminToken, '{"username":"broken","password":"' + process.env.USER_PASSWORD + '"');
    await json('POST', '/admin/users', adminToken, { username: 'short', password: keep('sh0rt!Q') });
    await post('/oauth/token', { grant_type: 'password', username: 'logan', password: process.env.WRONG_PASSWORD, ...appAuth });
    await post('/oauth/token', { grant_type: 'password', username: 'nobody', password: process.env.WRONG_PASSWORD, ...appAuth });
    const s = await post('/oauth/token', { grant_type: 'password', username: 'logan', password: process.env.USER_PASSWORD, ...appAuth });
    keep(s.access_token); keep(s.refresh_token);
    const s2 = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: s.refresh_token, ...appAuth });
    keep(s2.access_token); keep(s2.refresh_token);
    await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: s.refresh_token, ...appAuth }); // reuse: an anomaly is logged
    await post('/oauth/introspect', { token: s2.access_token, ...appAuth });
    await post('/oauth/revoke', { token: s2.refresh_token, ...appAuth });
    await post('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('admin', admin.secret + 'x') });
    await post('/oauth/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: app.secret.slice(0, -1) });
    await json('POST', '/admin/users/' + user.id + '/password', adminToken, { password: process.env.NEW_PASSWORD });
    await json('GET', '/admin/users', s2.access_token);
    await json('GET', '/admin/users', adminToken + 'x');
    writeFileSync(process.env.SECRETS_FILE, JSON.stringify(secrets));
    await server.close();
  `;

  it('never contain a password, client secret, refresh token or access token', async () => {
    const secretsFile = join(dir, 'secrets.json');
    const env = {
      ...process.env,
      SERVER_ENTRY: import.meta.resolve('@tessera/server'),
      SERVER_INTERNAL: import.meta.resolve('@tessera/server/internal'),
      DATA_DIR: join(dir, 'data'),
      SECRETS_FILE: secretsFile,
      USER_PASSWORD: 'Pa55word-in-the-logs?',
      WRONG_PASSWORD: 'Wr0ng-password-in-the-logs?',
      NEW_PASSWORD: 'N3w-password-in-the-logs?',
    };
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, out);

    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as string[];
    assert.equal(secrets.length, 11, 'every flow produced its secret');
    assert.match(out, /"msg":"incoming request"/, 'the log is not empty');
    assert.match(out, /anomaly/);
    for (const secret of secrets) {
      assert.ok(secret.length >= 7);
      assert.ok(!out.includes(secret), `the log contains a secret: ${secret.slice(0, 6)}…`);
      // Nor the distinctive part of a JWT (its signature), nor the secret urlencoded.
      const tail = secret.split('.').at(-1)!;
      assert.ok(!out.includes(tail), 'the log contains the signature of a token');
      assert.ok(!out.includes(encodeURIComponent(secret)));
    }
  });
});
