/**
 * Two instances on one PostgreSQL schema and one Redis (a redis-server of the test's own): login lockouts and
 * token-endpoint rate limits are counted across instances; with Redis gone each instance goes on counting on
 * its own (throttling weakens to per instance, never switches off), and picks Redis up again when it returns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import {
  createUserAccount,
  METRICS_SCOPE,
  metricsAudience,
  openPostgresStore,
  type ClientInput,
  type SqlStore,
} from '@tessera/server/internal';
import { SteppedClock, until } from '@tessera/testing';

import { Cluster, RedisProcess, redisServerAvailable } from './helpers/cluster.js';
import { sample } from './helpers/metrics.js';
import {
  assertOAuthError,
  assertTokenResponse,
  clientCredentials,
  login,
  type Answer,
  type ClientCreds,
} from './helpers/oauth.js';
import {
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_REQUIRED,
  postgresAvailable,
  urlWithSchema,
} from './helpers/postgres.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const ready = (await postgresAvailable()) && (await redisServerAvailable());
const MISSING = `${POSTGRES_MISSING}, or redis-server is not installed`;
const skip = ready || POSTGRES_REQUIRED ? false : MISSING;
if (skip) console.log(`# shared-limits tests skipped: ${MISSING}`);

const PASSWORD = 'the right password';

/** A log stream that keeps the messages about the Redis client of counters and throttles ('commands'). */
function redisLog(messages: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { role?: string; msg?: string };
        if (entry.role === 'commands' && entry.msg) messages.push(entry.msg);
      }
      done();
    },
  });
}

describe('limits shared by instances through Redis', { skip, timeout: 60_000 }, () => {
  let redis: RedisProcess;
  let schema: string;
  let a: TestServer;
  let b: TestServer;
  let app: ClientCreds;
  let service: ClientCreds;
  let address = 0;
  const from = () => ({ 'x-forwarded-for': `203.0.113.${++address}` });
  /** Both instances' clock: lock periods pass by moving it, without sleeping. */
  const clock = new SteppedClock();
  /** What each instance logged of its Redis client for counters and throttles ('commands'), in order. */
  const logA: string[] = [];
  const logB: string[] = [];
  const retryAfter = (r: Answer) => {
    assertOAuthError(r, 429, 'temporarily_unavailable');
    return Number(r.headers.get('retry-after'));
  };

  before(async () => {
    assert.ok(ready, `${MISSING} (required when CI=true)`);
    redis = await RedisProcess.start();
    schema = await createSchema();
    const overrides = {
      database: urlWithSchema(schema),
      redisUrl: redis.url,
      masterKey: randomBytes(32).toString('base64url'),
      loginMaxFailures: 4,
      loginLockoutSeconds: 60,
      loginMaxFailuresPerAddress: 1_000,
      loginAccountLockAddresses: 3,
      tokenRateLimit: 10,
      trustProxy: ['127.0.0.1'],
      logLevel: 'info',
    };
    a = await startServer({ overrides, now: clock.now, logStream: redisLog(logA) });
    b = await startServer({ overrides, now: clock.now, logStream: redisLog(logB) });
    app = await a.client({ id: 'app', grantTypes: ['password'], scopes: [], audiences: ['api'], firstParty: true });
    service = await a.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    for (const name of ['dora', 'erin', 'fay']) await a.user(name, PASSWORD);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill();
    if (schema) await dropSchema(schema);
  });

  it('failed logins on two instances add up to one lock period', async () => {
    // Four failures from one address, alternating instances: neither instance alone saw more than two.
    const attacker = from();
    for (let i = 0; i < 4; i++)
      assertOAuthError(await login(i % 2 ? a : b, app, 'dora', 'wrong', {}, attacker), 400, 'invalid_grant');
    for (const t of [a, b]) assertOAuthError(await login(t, app, 'dora', PASSWORD, {}, attacker), 429, 'temporarily_unavailable');
    // The real user from another address, and another user, are not affected.
    assertTokenResponse(await login(a, app, 'dora', PASSWORD, {}, from()));
    assertTokenResponse(await login(b, app, 'erin', PASSWORD, {}, from()));
  });

  it('lock periods escalate across instances, per lock period; a success clears the pair; many addresses lock the username', async () => {
    // A client per step, each making fewer than tokenRateLimit (10) requests a second.
    let clients = 0;
    let c = app;
    const next = async () =>
      (c = await a.client({
        id: `app-${++clients}`,
        grantTypes: ['password'],
        scopes: [],
        audiences: ['api'],
        firstParty: true,
      }));
    const fail = async (t: TestServer, username: string, headers: Record<string, string>) =>
      assertOAuthError(await login(t, c, username, 'wrong', {}, headers), 400, 'invalid_grant');
    await a.user('hana', PASSWORD);
    const attacker = from();
    await next();
    for (let i = 0; i < 4; i++) await fail(i % 2 ? a : b, 'hana', attacker);
    assert.equal(retryAfter(await login(a, c, 'hana', PASSWORD, {}, attacker)), 60);
    assert.equal(retryAfter(await login(b, c, 'hana', PASSWORD, {}, attacker)), 60);
    clock.advance(60_000);
    await next();
    for (let i = 0; i < 4; i++) await fail(i % 2 ? a : b, 'hana', attacker);
    assert.equal(retryAfter(await login(b, c, 'hana', PASSWORD, {}, attacker)), 120, 'the second lock period is twice as long');

    // A success clears the pair's failures: three more failures do not lock it.
    await a.user('jo', PASSWORD);
    const user = from();
    await next();
    for (let i = 0; i < 3; i++) await fail(i % 2 ? a : b, 'jo', user);
    assertTokenResponse(await login(a, c, 'jo', PASSWORD, {}, user));
    for (let i = 0; i < 3; i++) await fail(i % 2 ? a : b, 'jo', user);
    assertTokenResponse(await login(b, c, 'jo', PASSWORD, {}, user));

    // Failures from three addresses (loginAccountLockAddresses), on either instance: the username is locked for everyone.
    await a.user('ines', PASSWORD);
    await next();
    for (let i = 0; i < 3; i++) await fail(i % 2 ? a : b, 'ines', from());
    for (const t of [a, b]) assert.equal(retryAfter(await login(t, c, 'ines', PASSWORD, {}, from())), 60);
    clock.advance(60_000);
    assertTokenResponse(await login(a, c, 'ines', PASSWORD, {}, from()));
  });

  it('the token rate limit is counted across instances', async () => {
    // 30 requests for one client within about a second, spread over both instances: at most 10 per second pass
    // overall (the window may roll over once while they run: at most 20).
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => clientCredentials(i % 2 ? a : b, service)));
    const passed = answers.filter((r) => r.status === 200).length;
    const windows = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    assert.ok(passed <= 10 * windows, `${passed} passed in ${windows} window(s)`);
    for (const r of answers.filter((x) => x.status !== 200)) assertOAuthError(r, 429, 'temporarily_unavailable');
  });

  it('with Redis down each instance throttles on its own, and shares again once it is back', async () => {
    await redis.kill();
    // Per instance now: four failures on instance a lock fay out there, for that address.
    const first = from();
    for (let i = 0; i < 4; i++) assertOAuthError(await login(a, app, 'fay', 'wrong', {}, first), 400, 'invalid_grant');
    assertOAuthError(await login(a, app, 'fay', PASSWORD, {}, first), 429, 'temporarily_unavailable');
    // Both instances notice (a reconnection fails), then reconnect within their backoff; then failures add up again.
    const down = (log: string[]) => log.lastIndexOf('redis unavailable') > log.lastIndexOf('redis available again');
    await until('both instances to find Redis down', () => down(logA) && down(logB), 10_000);
    await redis.start();
    await until('both instances to reconnect to Redis', () => !down(logA) && !down(logB), 10_000);
    await a.user('gus', PASSWORD);
    const second = from();
    for (let i = 0; i < 4; i++)
      assertOAuthError(await login(i % 2 ? a : b, app, 'gus', 'wrong', {}, second), 400, 'invalid_grant');
    for (const t of [a, b]) assertOAuthError(await login(t, app, 'gus', PASSWORD, {}, second), 429, 'temporarily_unavailable');
    assertTokenResponse(await login(b, app, 'erin', PASSWORD, {}, from()));
  });
});

/**
 * The attack run's burst on a real deployment: 3 instances (processes) on one PostgreSQL schema and one Redis,
 * behind a load balancer (so every request comes from one address). The reservation is one Lua call in Redis,
 * so the instances together verify at most loginMaxFailures passwords, and none while the pair is locked.
 */
describe('login-brute-force-concurrent over 3 instances', { skip, timeout: 120_000 }, () => {
  const MAX_FAILURES = 5;
  let cluster: Cluster;
  let store: SqlStore;
  let app: { id: string; secret: string };
  let userId: string;
  let metricsToken: string;

  before(async () => {
    assert.ok(ready, `${MISSING} (required when CI=true)`);
    cluster = await Cluster.start({
      instances: 3,
      env: { TESSERA_LOGIN_MAX_FAILURES: String(MAX_FAILURES), TESSERA_LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' },
    });
    store = openPostgresStore(cluster.directDatabase);
    const reg = (input: ClientInput) => cluster.registerClient(store, input);
    app = await reg({ id: 'web', grantTypes: ['password'], firstParty: true, scopes: [], audiences: ['api'] });
    const scraper = await reg({
      id: 'scraper',
      grantTypes: ['client_credentials'],
      scopes: [METRICS_SCOPE],
      audiences: [metricsAudience(cluster.url)],
    });
    userId = (await createUserAccount(store, { username: 'mallory-target', password: PASSWORD, roles: [] }, Date.now())).id;
    const r = await fetch(`${cluster.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(scraper.id, scraper.secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    assert.equal(r.status, 200);
    metricsToken = ((await r.json()) as { access_token: string }).access_token;
  });

  after(
    async () => {
      await store?.close();
      await cluster?.close();
    },
    { timeout: 60_000 },
  );

  /** Passwords verified by the three instances together, each asked directly. */
  const verifications = async () => {
    let total = 0;
    for (const instance of cluster.instances) {
      const res = await fetch(`${instance.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      assert.equal(res.status, 200);
      total += sample(await res.text(), 'tessera_password_verifications_total') ?? 0;
    }
    return total;
  };
  const guess = async (password: string) => {
    const res = await fetch(`${cluster.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app.id, app.secret) },
      body: new URLSearchParams({ grant_type: 'password', username: 'mallory-target', password }),
      signal: AbortSignal.timeout(30_000),
    });
    await res.body?.cancel();
    return res.status;
  };

  it('100 concurrent guesses (the right one last) verify at most loginMaxFailures passwords, and none while locked', async () => {
    const before = await verifications();
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => guess(i === 99 ? PASSWORD : `wrong guess ${i}`)));
    const checked = (await store.audit.query({ type: 'login.failure', subject: userId, limit: 500 })).length;
    assert.ok(checked <= MAX_FAILURES, `${checked} wrong passwords checked`);
    const verified = (await verifications()) - before;
    assert.ok(verified <= MAX_FAILURES, `${verified} passwords verified by the 3 instances`);
    assert.equal(statuses.filter((s) => s !== 429).length, verified, 'every other guess refused unchecked');

    const locked = await verifications();
    const more = await Promise.all(Array.from({ length: 100 }, (_, i) => guess(i === 99 ? PASSWORD : 'x')));
    assert.deepEqual([...new Set(more)], [429]);
    assert.equal((await verifications()) - locked, 0, 'no password verified while locked');
  });
});
