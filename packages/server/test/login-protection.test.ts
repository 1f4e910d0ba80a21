import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import { metricsAudience, contextOf } from '@tessera/server/internal';
import { SteppedClock } from '@tessera/testing';

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
import { sample, scrape } from './helpers/metrics.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'the right password';
const LOCKOUT_MS = 60_000;
const MAX_FAILURES = 3;
const ACCOUNT_LOCK_ADDRESSES = 4;
const MAX_PER_ADDRESS = 10;

describe('login protection', () => {
  let t: TestServer;
  let app: ClientCreds;
  /** The answer to a wrong password: every refused login must look exactly like it. */
  let wrong: Answer;
  let nextAddress = 0;
  /**
   * A fresh source address per use: the server trusts X-Forwarded-For from its loopback peer (the test), as it
   * would from a load balancer, so tests do not share address budgets.
   */
  const from = () => ({ 'x-forwarded-for': `198.51.100.${++nextAddress}` });

  /** The server's clock: lock periods pass by moving it, without sleeping. */
  const clock = new SteppedClock();

  before(async () => {
    t = await startServer({
      now: clock.now,
      overrides: {
        loginMaxFailures: MAX_FAILURES,
        loginLockoutSeconds: LOCKOUT_MS / 1000,
        loginMaxLockoutSeconds: (8 * LOCKOUT_MS) / 1000,
        loginMaxFailuresPerAddress: MAX_PER_ADDRESS,
        loginAccountLockAddresses: ACCOUNT_LOCK_ADDRESSES,
        trustProxy: ['127.0.0.1'],
      },
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

  /** Refused by the throttle, at once: 429 with the seconds to wait, and nothing verified. */
  function assertThrottled(r: Answer, maxWaitSeconds: number): number {
    assertOAuthError(r, 429, 'temporarily_unavailable');
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= maxWaitSeconds, `Retry-After ${r.headers.get('retry-after')}`);
    return wait;
  }

  /** Passwords verified so far (argon2id runs), from the server's own metric. */
  const verifications = async () => sample(await scrape(t), 'tessera_password_verifications_total') ?? 0;
  /** login.failure audit events of one user: one per password verified and refused. */
  const failuresOf = async (userId: string) => {
    const r = await t.admin('GET', `/admin/audit?type=login.failure&subject=${encodeURIComponent(userId)}&limit=500`);
    assert.equal(r.status, 200);
    return (r.body as { items: unknown[] }).items.length;
  };

  it('gives an unknown user the same answer as a wrong password', async () => {
    assertRefusedLogin(await login(t, app, 'no-such-user', PASSWORD, {}, from()));
    assertRefusedLogin(await login(t, app, 'no-such-user', 'not the password', {}, from()));
  });

  it('login-brute-force-concurrent: 100 concurrent guesses (the right one last) verify at most loginMaxFailures passwords', async () => {
    const id = await t.user('burst', PASSWORD);
    const address = from();
    const before = await verifications();
    const guesses = Array.from({ length: 99 }, (_, i) => `wrong guess ${i}`).concat(PASSWORD);
    const answers = await Promise.all(guesses.map((p) => login(t, app, 'burst', p, {}, address)));

    const checked = await failuresOf(id);
    assert.ok(checked <= MAX_FAILURES, `${checked} wrong passwords checked`);
    const verified = (await verifications()) - before;
    const answered = answers.filter((r) => r.status !== 429);
    assert.ok(verified <= MAX_FAILURES, `${verified} passwords verified`);
    assert.equal(answered.length, verified, 'every password verified was answered, and no other');
    for (const r of answers) {
      if (r.status === 429) assertThrottled(r, LOCKOUT_MS / 1000);
      else if (r !== answers[99]) assertRefusedLogin(r);
    }

    // Locked: 300 more tries, the right one among them, and not one argon2id run.
    const locked = await verifications();
    const more = await Promise.all(
      Array.from({ length: 300 }, (_, i) => login(t, app, 'burst', i === 299 ? PASSWORD : 'x', {}, address)),
    );
    for (const r of more) assertThrottled(r, LOCKOUT_MS / 1000);
    assert.equal((await verifications()) - locked, 0, 'no password verified while locked');
  });

  it('lockout-denial-of-service: failures from one address never lock the real user out, and one burst escalates nothing', async () => {
    await t.user('olga', PASSWORD);
    const attacker = from();
    // One burst of 45 from one address: one lock period, of the first length, for that address only.
    const burst = await Promise.all(Array.from({ length: 45 }, (_, i) => login(t, app, 'olga', `guess ${i}`, {}, attacker)));
    assert.equal(burst.filter((r) => r.status === 400).length, MAX_FAILURES);
    const wait = assertThrottled(await login(t, app, 'olga', PASSWORD, {}, attacker), LOCKOUT_MS / 1000);
    assert.equal(wait, LOCKOUT_MS / 1000, 'the first lock period, not an escalated one');
    const periods = (await auditEvents(t, 'login.lockout')).filter((e) => e.subject === 'olga');
    assert.deepEqual(
      periods.map((e) => e.data.scope),
      ['username_address'],
      'one lock period: the escalation counts lock periods, not requests',
    );
    // The real user, from an address that has not failed, logs in during the attack.
    assertTokenResponse(await login(t, app, 'olga', PASSWORD, {}, from()));
    assertTokenResponse(await login(t, app, 'OLGA', PASSWORD, {}, from()));

    // The attacker's next lock period, after it has waited out the first, is twice as long.
    clock.advance(LOCKOUT_MS);
    for (let i = 0; i < MAX_FAILURES; i++) assertRefusedLogin(await login(t, app, 'olga', `again ${i}`, {}, attacker));
    assert.equal(
      assertThrottled(await login(t, app, 'olga', PASSWORD, {}, attacker), (2 * LOCKOUT_MS) / 1000),
      (2 * LOCKOUT_MS) / 1000,
    );
    assertTokenResponse(await login(t, app, 'olga', PASSWORD, {}, from()));
    clock.advance(2 * LOCKOUT_MS);
  });

  it('locks a username for everyone only on failures from loginAccountLockAddresses addresses (a distributed attack)', async () => {
    await t.user('gina', PASSWORD);
    for (let i = 0; i < ACCOUNT_LOCK_ADDRESSES - 1; i++)
      assertRefusedLogin(await login(t, app, 'gina', `wrong ${i}`, {}, from()));
    // Fewer addresses than that: the real user gets in.
    assertTokenResponse(await login(t, app, 'gina', PASSWORD, {}, from()));
    assertRefusedLogin(await login(t, app, 'gina', 'wrong again', {}, from()));
    // The last address: the username is locked for everyone, whatever its spelling, the right password included.
    assertThrottled(await login(t, app, 'gina', PASSWORD, {}, from()), LOCKOUT_MS / 1000);
    assertThrottled(await login(t, app, 'GINA', PASSWORD, {}, from()), LOCKOUT_MS / 1000);
    // Other users are not affected.
    await t.user('gina2', PASSWORD);
    assertTokenResponse(await login(t, app, 'gina2', PASSWORD, {}, from()));

    const lockouts = await auditEvents(t, 'login.lockout');
    assert.ok(lockouts.some((e) => e.subject === 'gina' && e.data.scope === 'username'));

    clock.advance(LOCKOUT_MS);
    assertTokenResponse(await login(t, app, 'gina', PASSWORD, {}, from()));
  });

  it('makes a source address wait after loginMaxFailuresPerAddress failures, whatever the usernames', async () => {
    await t.user('hank', PASSWORD);
    const address = from();
    for (let i = 0; i < MAX_PER_ADDRESS; i++) assertRefusedLogin(await login(t, app, `stranger-${i}`, 'guess', {}, address));
    assertThrottled(await login(t, app, 'hank', PASSWORD, {}, address), LOCKOUT_MS / 1000);
    assertTokenResponse(await login(t, app, 'hank', PASSWORD, {}, from()));

    const lockouts = await auditEvents(t, 'login.lockout');
    assert.ok(lockouts.some((e) => e.ip === address['x-forwarded-for'] && e.data.scope === 'address'));

    clock.advance(LOCKOUT_MS);
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
    assert.ok(await contextOf(t.server).store.users.update('user-kate', { disabled: true }, Date.now()));
    assertOAuthError(await refresh(t, app, s.body.refresh_token!), 400, 'invalid_grant');
    assertRefusedLogin(await login(t, app, 'kate', PASSWORD, {}, from()));
  });

  it('counts failures by reason in /metrics', async () => {
    const text = await scrape(t);
    for (const reason of ['invalid_credentials', 'throttled', 'disabled']) {
      assert.match(text, new RegExp(`^tessera_login_failures_total\\{reason="${reason}"\\} [1-9]`, 'm'), reason);
    }
  });

  it('metrics-user-enumeration: /metrics needs a token, and no metric tells an unknown user from a wrong password', async () => {
    // Without a token, with a token of another audience, and with one lacking the scope: refused.
    const anonymous = await get(t, '/metrics');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm="tessera-metrics"/);
    assert.ok(!anonymous.text.includes('tessera_login_failures_total'));
    const svc = await t.client({
      id: 'nosy',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: [metricsAudience(t.url), 'api'],
    });
    const unscoped = await clientCredentials(t, svc, { resource: metricsAudience(t.url) });
    assertTokenResponse(unscoped);
    const refused = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${unscoped.body.access_token!}` } });
    assert.equal(refused.status, 403);
    assert.ok(!(await refused.text()).includes('tessera_login_failures_total'));

    // With the token: an unknown user and a wrong password move the same sample, and nothing else tells them apart.
    const before = await scrape(t);
    assertRefusedLogin(await login(t, app, 'nobody-at-all', 'a guess', {}, from()));
    const afterUnknown = await scrape(t);
    assertRefusedLogin(await login(t, app, 'probe', 'a guess', {}, from()));
    const afterWrong = await scrape(t);
    const failures = (text: string) => sample(text, 'tessera_login_failures_total', { reason: 'invalid_credentials' }) ?? 0;
    assert.equal(failures(afterUnknown) - failures(before), 1);
    assert.equal(failures(afterWrong) - failures(afterUnknown), 1);
    const loginLines = (text: string) =>
      text
        .split('\n')
        .filter((l) => /^tessera_(login|password)/.test(l))
        .map((l) => l.replace(/ \S+$/, ''));
    assert.deepEqual(loginLines(afterUnknown), loginLines(afterWrong), 'the same samples, whatever the cause');
    for (const label of ['unknown_user', 'wrong_password']) assert.ok(!afterWrong.includes(label), label);
  });
});

/**
 * X-Forwarded-For is believed only from the configured proxies. The server trusts 127.0.0.2/32 (a proxy); the
 * test connects from 127.0.0.1 (a client talking to the server directly) and from 127.0.0.2 (through the proxy).
 */
describe('xff-spoofing: X-Forwarded-For from a peer that is not a configured proxy', () => {
  let t: TestServer;
  let app: ClientCreds;
  const PROXY = '127.0.0.2';

  before(async () => {
    // Every failure is written (auditFailuresPerSecond 0): the test reads each one's recorded address.
    t = await startServer({
      overrides: { loginMaxFailures: 3, loginMaxFailuresPerAddress: 4, trustProxy: [`${PROXY}/32`], auditFailuresPerSecond: 0 },
    });
    app = await t.client({ id: 'app', grantTypes: ['password'], scopes: [], audiences: ['api'], firstParty: true });
    await t.user('nora', PASSWORD);
  });
  after(() => t.close());

  /** A password login from `localAddress` (a real TCP connection from that source address). */
  function loginFrom(localAddress: string, username: string, password: string, xff: string): Promise<Answer> {
    const body = new URLSearchParams({ grant_type: 'password', username, password }).toString();
    const { port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          localAddress,
          method: 'POST',
          path: '/oauth/token',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic(app.id, app.secret!),
            'x-forwarded-for': xff,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
            resolve({ status: res.statusCode!, headers, text, body: text ? JSON.parse(text) : {} });
          });
        },
      );
      req.on('error', reject).end(body);
    });
  }

  it('neither evades the per-address limit nor lands in audit records; from a configured proxy it is honoured', async () => {
    // A forged address on every request from a direct client: they all count against 127.0.0.1.
    for (let i = 0; i < 4; i++)
      assertOAuthError(await loginFrom('127.0.0.1', `victim-${i}`, 'guess', `203.0.113.${i + 1}`), 400, 'invalid_grant');
    assertOAuthError(await loginFrom('127.0.0.1', 'nora', PASSWORD, '203.0.113.99'), 429, 'temporarily_unavailable');
    const failures = await auditEvents(t, 'login.failure');
    const direct = failures.filter((e) => (e.data.username as string).startsWith('victim-'));
    assert.equal(direct.length, 4);
    for (const e of direct) assert.equal(e.ip, '127.0.0.1', 'the peer address, not the forged one');
    assert.ok(!failures.some((e) => (e.ip ?? '').startsWith('203.0.113.')), 'no forged address in the audit log');

    // Through the configured proxy, the client address it reports is the one throttled and recorded.
    assertOAuthError(await loginFrom(PROXY, 'nora', 'a guess', '198.51.100.7'), 400, 'invalid_grant');
    assertTokenResponse(await loginFrom(PROXY, 'nora', PASSWORD, '198.51.100.8'));
    const viaProxy = (await auditEvents(t, 'login.failure')).find((e) => e.data.username === 'nora');
    assert.equal(viaProxy?.ip, '198.51.100.7');
    const success = (await auditEvents(t, 'login.success')).find((e) => e.subject === 'user-nora');
    assert.equal(success?.ip, '198.51.100.8');
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
    const { contextOf, registerClient, ADMIN_SCOPE, adminAudience } = await import(process.env.SERVER_INTERNAL);
    const server = await createServer({ overrides: { dataDir: process.env.DATA_DIR, port: 0, logLevel: 'debug' } });
    await server.listen();
    const url = server.config.issuer;
    const ctx = contextOf(server);
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
    assert.match(out, /"msg":"request completed"/, 'the log is not empty');
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
