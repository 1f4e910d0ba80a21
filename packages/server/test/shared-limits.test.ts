/**
 * Two instances on one PostgreSQL schema and one Redis (a redis-server of the test's own): login lockouts and
 * token-endpoint rate limits are counted across instances; with Redis gone each instance goes on counting on
 * its own (throttling weakens to per instance, never switches off), and picks Redis up again when it returns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { RedisProcess, redisServerAvailable } from './helpers/cluster.js';
import { assertOAuthError, assertTokenResponse, clientCredentials, login, type ClientCreds } from './helpers/oauth.js';
import {
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_REQUIRED,
  postgresAvailable,
  urlWithSchema,
} from './helpers/postgres.js';
import { startServer, type TestServer } from './helpers/server.js';

const ready = (await postgresAvailable()) && (await redisServerAvailable());
const MISSING = `${POSTGRES_MISSING}, or redis-server is not installed`;
const skip = ready || POSTGRES_REQUIRED ? false : MISSING;
if (skip) console.log(`# shared-limits tests skipped: ${MISSING}`);

const PASSWORD = 'the right password';

describe('limits shared by instances through Redis', { skip, timeout: 60_000 }, () => {
  let redis: RedisProcess;
  let schema: string;
  let a: TestServer;
  let b: TestServer;
  let app: ClientCreds;
  let service: ClientCreds;
  let address = 0;
  const from = () => ({ 'x-forwarded-for': `203.0.113.${++address}` });

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
      tokenRateLimit: 10,
      trustProxy: true,
    };
    a = await startServer({ overrides });
    b = await startServer({ overrides });
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

  it('failed logins on two instances add up to one lockout', async () => {
    // Four failures, alternating instances: neither instance alone saw more than two.
    for (let i = 0; i < 4; i++)
      assertOAuthError(await login(i % 2 ? a : b, app, 'dora', 'wrong', {}, from()), 400, 'invalid_grant');
    for (const t of [a, b]) assertOAuthError(await login(t, app, 'dora', PASSWORD, {}, from()), 400, 'invalid_grant');
    // Another user is not affected.
    assertTokenResponse(await login(b, app, 'erin', PASSWORD, {}, from()));
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
    // Per instance now: four failures on instance a lock fay out there.
    for (let i = 0; i < 4; i++) assertOAuthError(await login(a, app, 'fay', 'wrong', {}, from()), 400, 'invalid_grant');
    assertOAuthError(await login(a, app, 'fay', PASSWORD, {}, from()), 400, 'invalid_grant');
    await redis.start();
    // Both instances reconnect within their backoff (at most a few seconds); then failures add up again.
    await new Promise((res) => setTimeout(res, 3_000));
    await a.user('gus', PASSWORD);
    for (let i = 0; i < 4; i++)
      assertOAuthError(await login(i % 2 ? a : b, app, 'gus', 'wrong', {}, from()), 400, 'invalid_grant');
    for (const t of [a, b]) assertOAuthError(await login(t, app, 'gus', PASSWORD, {}, from()), 400, 'invalid_grant');
    assertTokenResponse(await login(b, app, 'erin', PASSWORD, {}, from()));
  });
});
