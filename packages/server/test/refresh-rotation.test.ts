import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import { contextOf, type SqlStore } from '@tessera/server/internal';

import {
  assertOAuthError,
  assertTokenResponse,
  auditEvents,
  introspect,
  login,
  refresh,
  type Answer,
  type ClientCreds,
} from './helpers/oauth.js';
import { execute } from './helpers/faults.js';
import { startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'a long enough password';

/** Refresh-token rotation (RFC 9700 section 4.14.2): single use, reuse revokes the family. */
describe('refresh token rotation', () => {
  let t: TestServer;
  let app: ClientCreds;
  let other: ClientCreds;
  let userId: string;

  before(async () => {
    t = await startServer();
    const spec = {
      grantTypes: ['password' as const, 'refresh_token' as const],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['orders'],
      firstParty: true,
    };
    app = await t.client({ id: 'app', ...spec });
    other = await t.client({ id: 'other-app', ...spec });
    await contextOf(t.server).store.roles.put({ name: 'clerk', permissions: ['orders:read', 'orders:write'] });
    userId = await t.user('carol', PASSWORD, ['clerk']);
  });
  after(() => t.close());

  async function session(client = app): Promise<Answer> {
    const r = await login(t, client, 'carol', PASSWORD);
    assertTokenResponse(r);
    return r;
  }

  it('rotates: each refresh gives a new refresh token and a new access token of the same session', async () => {
    const first = await session();
    const second = await refresh(t, app, first.body.refresh_token!);
    assertTokenResponse(second);
    assert.match(second.body.refresh_token!, /^tsr_/);
    assert.notEqual(second.body.refresh_token, first.body.refresh_token);
    assert.notEqual(second.body.access_token, first.body.access_token);
    assert.equal(second.body.scope, 'orders:read orders:write');
    const a = decodeUnverified(first.body.access_token!).payload;
    const b = decodeUnverified(second.body.access_token!).payload;
    assert.equal(b.sub, userId);
    assert.equal(b.aud, 'orders');
    assert.equal(b.sid, a.sid, 'one session (refresh family) across rotations');
    assert.notEqual(b.jti, a.jti);
    const third = await refresh(t, app, second.body.refresh_token!);
    assertTokenResponse(third);
  });

  it('makes each refresh token single-use', async () => {
    const first = await session();
    assertTokenResponse(await refresh(t, app, first.body.refresh_token!));
    assertOAuthError(await refresh(t, app, first.body.refresh_token!), 400, 'invalid_grant');
  });

  it('revokes the whole family when a used refresh token comes back, and records an anomaly', async () => {
    const first = await session();
    const second = await refresh(t, app, first.body.refresh_token!);
    assertTokenResponse(second);
    const sid = decodeUnverified(second.body.access_token!).payload.sid;
    assert.equal((await introspect(t, app, second.body.access_token!)).body.active, true);
    assert.equal((await introspect(t, app, second.body.refresh_token!)).body.active, true);

    const replay = await refresh(t, app, first.body.refresh_token!);
    assertOAuthError(replay, 400, 'invalid_grant');

    // The rotated-to token is dead too, and so is every access token of the family.
    assertOAuthError(await refresh(t, app, second.body.refresh_token!), 400, 'invalid_grant');
    assert.deepEqual((await introspect(t, app, second.body.refresh_token!)).body, { active: false });
    assert.deepEqual((await introspect(t, app, first.body.access_token!)).body, { active: false });
    assert.deepEqual((await introspect(t, app, second.body.access_token!)).body, { active: false });

    const events = await auditEvents(t, 'anomaly.refresh_reuse');
    const event = events.find((e) => e.data.family === sid);
    assert.ok(event, 'an anomaly.refresh_reuse event names the family');
    assert.equal(event.subject, userId);
    assert.equal(event.client_id, 'app');
    assert.equal(event.outcome, 'failure');
    assert.ok(!JSON.stringify(events).includes(first.body.refresh_token!), 'the audit trail holds no token');

    // Other sessions of the same user are not affected.
    const unrelated = await session();
    assertTokenResponse(await refresh(t, app, unrelated.body.refresh_token!));
  });

  it('refresh-token-replay-flood: 20 replays of a spent token revoke and record the family once', async () => {
    const first = await session();
    assertTokenResponse(await refresh(t, app, first.body.refresh_token!));
    const sid = decodeUnverified(first.body.access_token!).payload.sid;
    for (let i = 0; i < 20; i++) assertOAuthError(await refresh(t, app, first.body.refresh_token!), 400, 'invalid_grant');
    const records = (await contextOf(t.server).store.revocations.list(Date.now())).filter((r) => r.value === sid);
    assert.equal(records.length, 1, 'one revocation record for the family');
    assert.equal(records[0]!.kind, 'family');
    const anomalies = (await auditEvents(t, 'anomaly.refresh_reuse')).filter((e) => e.data.family === sid);
    assert.equal(anomalies.length, 1, 'one anomaly event for the family');
    assert.deepEqual((await introspect(t, app, first.body.access_token!)).body, { active: false });
  });

  it('lets exactly one of 20 concurrent requests with one refresh token through', async () => {
    const first = await session();
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(t, app, first.body.refresh_token!)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const r of results) if (r.status !== 200) assertOAuthError(r, 400, 'invalid_grant');
    // The race is a reuse: the family is revoked, the winner's new token included.
    assertOAuthError(await refresh(t, app, ok[0]!.body.refresh_token!), 400, 'invalid_grant');
  });

  it('refuses another client’s refresh token without spending it', async () => {
    const first = await session();
    assertOAuthError(await refresh(t, other, first.body.refresh_token!), 400, 'invalid_grant');
    assertTokenResponse(await refresh(t, app, first.body.refresh_token!));
  });

  it('may narrow scopes, never widen them', async () => {
    const narrow = await t.client({
      id: 'narrow',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['orders'],
      firstParty: true,
    });
    const first = await login(t, narrow, 'carol', PASSWORD, { scope: 'orders:read' });
    assertTokenResponse(first);
    const narrowed = await refresh(t, narrow, first.body.refresh_token!, { scope: 'orders:read' });
    assertTokenResponse(narrowed);
    assert.equal(narrowed.body.scope, 'orders:read');
    assertOAuthError(await refresh(t, narrow, narrowed.body.refresh_token!, { scope: 'orders:write' }), 400, 'invalid_scope');
  });

  it('keeps the refresh token usable after a refused scope request (regression: invalid_scope spent the token)', async () => {
    const first = await session();
    assertOAuthError(await refresh(t, app, first.body.refresh_token!, { scope: 'admin' }), 400, 'invalid_scope');
    const retry = await refresh(t, app, first.body.refresh_token!);
    assertTokenResponse(retry);
    assert.equal((await introspect(t, app, retry.body.access_token!)).body.active, true, 'the retry was not taken for a reuse');
  });

  it('re-checks scopes against the user’s current roles', async () => {
    await contextOf(t.server).store.roles.put({ name: 'temp', permissions: ['orders:read', 'orders:write'] });
    await t.user('dave', PASSWORD, ['temp']);
    const first = await login(t, app, 'dave', PASSWORD);
    assertTokenResponse(first);
    assert.equal(first.body.scope, 'orders:read orders:write');
    await contextOf(t.server).store.roles.put({ name: 'temp', permissions: ['orders:read'] });
    const next = await refresh(t, app, first.body.refresh_token!);
    assertTokenResponse(next);
    assert.equal(next.body.scope, 'orders:read');
  });
});

describe('refresh token expiry', () => {
  let t: TestServer;
  let clock = Date.now();

  before(async () => {
    t = await startServer({ now: () => clock, overrides: { refreshTokenTtl: 60, refreshTokenAbsoluteTtl: 120 } });
  });
  after(() => t.close());

  it('ends a refresh token after its idle lifetime, and a family after its absolute lifetime', async () => {
    const app = await t.client({ grantTypes: ['password', 'refresh_token'], scopes: [], audiences: ['a'], firstParty: true });
    await t.user('erin', PASSWORD);
    const first = await login(t, app, 'erin', PASSWORD);
    assertTokenResponse(first);

    clock += 61_000;
    assertOAuthError(await refresh(t, app, first.body.refresh_token!), 400, 'invalid_grant');

    const second = await login(t, app, 'erin', PASSWORD);
    clock += 50_000;
    const third = await refresh(t, app, second.body.refresh_token!);
    assertTokenResponse(third);
    clock += 50_000;
    const fourth = await refresh(t, app, third.body.refresh_token!);
    assertTokenResponse(fourth);
    clock += 21_000; // 121 s after the login: past the absolute lifetime although the token is 21 s old.
    assertOAuthError(await refresh(t, app, fourth.body.refresh_token!), 400, 'invalid_grant');
  });
});

/** The refresh grant checks the requested scopes against the user's roles before it spends the token. */
describe('refresh scope check before the token is spent', () => {
  let t: TestServer;
  let app: ClientCreds;

  before(async () => {
    t = await startServer();
    app = await t.client({
      id: 'app',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['orders'],
      firstParty: true,
    });
    await contextOf(t.server).store.roles.put({ name: 'clerk', permissions: ['orders:read', 'orders:write'] });
    await t.user('dave', PASSWORD, ['clerk']);
  });
  after(() => t.close());

  it('a refresh asking for a scope the user lost fails with invalid_scope, and the token still works for a narrower one', async () => {
    await contextOf(t.server).store.roles.put({ name: 'clerk', permissions: ['orders:read', 'orders:write'] });
    const first = await login(t, app, 'dave', PASSWORD);
    assert.equal(first.body.scope, 'orders:read orders:write');
    await contextOf(t.server).store.roles.put({ name: 'clerk', permissions: ['orders:read'] });
    assertOAuthError(
      await refresh(t, app, first.body.refresh_token!, { scope: 'orders:read orders:write' }),
      400,
      'invalid_scope',
    );
    const narrower = await refresh(t, app, first.body.refresh_token!, { scope: 'orders:read' });
    assertTokenResponse(narrower);
    assert.equal(narrower.body.scope, 'orders:read');
  });

  it('role-change-between-scope-check-and-spend: the client keeps its session', async () => {
    await contextOf(t.server).store.roles.put({ name: 'clerk', permissions: ['orders:read', 'orders:write'] });
    const first = await login(t, app, 'dave', PASSWORD);
    // An administrator takes orders:write from the role at the moment the token is spent (a trigger of the real
    // database, in the transaction that spends it): after the scope check, before the token is issued.
    const store = contextOf(t.server).store as SqlStore;
    await execute(
      store,
      `create trigger role_change_on_spend after update of used_at on refresh_tokens begin
         update roles set permissions = '["orders:read"]' where name = 'clerk'; end`,
    );
    try {
      const r = await refresh(t, app, first.body.refresh_token!, { scope: 'orders:read orders:write' });
      assertTokenResponse(r);
      assert.equal(r.body.scope, 'orders:read orders:write', 'granted as checked, before the role changed');
      // The session lives on under the new role.
      await execute(store, 'drop trigger role_change_on_spend');
      assertOAuthError(await refresh(t, app, r.body.refresh_token!, { scope: 'orders:write' }), 400, 'invalid_scope');
      const narrower = await refresh(t, app, r.body.refresh_token!);
      assertTokenResponse(narrower);
      assert.equal(narrower.body.scope, 'orders:read');
    } finally {
      await execute(store, 'drop trigger if exists role_change_on_spend');
    }
  });
});
