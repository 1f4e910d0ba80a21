import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { createVerifier } from '@tessera/verifier';

import { contextOf } from '@tessera/server/internal';

import { adminAs, kidOf, tokenOf } from './helpers/admin-api.js';
import { introspect, login, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

interface KeyItem {
  kid: string;
  alg: string;
  state: string;
  created_at: number;
  activates_at: number;
  retired_at: number | null;
  remove_at: number | null;
}

interface AuditItem {
  id: number;
  occurred_at: number;
  type: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  data: Record<string, unknown>;
}

/** The keys of one track (default: ES256, the main one; the RS256 keys of ID tokens are a track of their own). */
async function keys(t: TestServer, alg = 'ES256'): Promise<KeyItem[]> {
  const r = await t.admin('GET', '/admin/keys');
  assert.equal(r.status, 200);
  return (r.body.items as KeyItem[]).filter((k) => k.alg === alg);
}

async function jwksKids(t: TestServer, alg = 'ES256'): Promise<string[]> {
  const body = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] };
  return body.keys
    .filter((k) => k.alg === alg)
    .map((k) => k.kid)
    .sort();
}

const byState = (items: KeyItem[], state: string) => items.filter((k) => k.state === state);

describe('admin API: keys', () => {
  let t: TestServer;
  let svc: ClientCreds;
  before(async () => {
    t = await startServer();
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
  });
  after(() => t.close());

  it('a fresh server has one active and one next key, both published', async () => {
    const items = await keys(t);
    assert.equal(items.length, 2);
    const [active] = byState(items, 'active');
    const [next] = byState(items, 'next');
    assert.ok(active && next);
    assert.ok(next.activates_at > Date.now() / 1000);
    assert.deepEqual(await jwksKids(t), [active.kid, next.kid].sort());
    assert.equal(kidOf(await tokenOf(t, svc)), active.kid);
    for (const k of items)
      assert.deepEqual(Object.keys(k).sort(), ['activates_at', 'alg', 'created_at', 'kid', 'remove_at', 'retired_at', 'state']);
    // The RS256 track beside it: one active and one next key, both published too.
    const rsa = await keys(t, 'RS256');
    assert.deepEqual(rsa.map((k) => k.state).sort(), ['active', 'next']);
    assert.deepEqual(await jwksKids(t, 'RS256'), rsa.map((k) => k.kid).sort());
  });

  it('rotate does not switch before the next key has been published for jwksMaxAge', async () => {
    const [active] = byState(await keys(t), 'active');
    const [next] = byState(await keys(t), 'next');
    const r = await t.admin('POST', '/admin/keys/rotate');
    assert.equal(r.status, 200);
    assert.equal(r.body.kid, next!.kid);
    assert.equal(r.body.activates_at, next!.created_at + 300);
    assert.ok(r.body.activates_at > Date.now() / 1000);
    const after = await keys(t);
    assert.equal(byState(after, 'active')[0]!.kid, active!.kid);
    assert.equal(byState(after, 'next')[0]!.activates_at, r.body.activates_at);
    assert.equal(kidOf(await tokenOf(t, svc)), active!.kid);
  });
});

describe('admin API: keys with jwksMaxAge 0', () => {
  let t: TestServer;
  let svc: ClientCreds;
  before(async () => {
    t = await startServer({ overrides: { jwksMaxAge: 0 } });
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
  });
  after(() => t.close());

  it('rotate switches at once; the old key is retired and stays published until removeAfter', async () => {
    const [old] = byState(await keys(t), 'active');
    const [next] = byState(await keys(t), 'next');
    const oldToken = await tokenOf(t, svc);
    assert.equal(kidOf(oldToken), old!.kid);

    const r = await t.admin('POST', '/admin/keys/rotate');
    assert.equal(r.status, 200);
    assert.equal(r.body.kid, next!.kid);
    assert.ok(r.body.activates_at <= Date.now() / 1000);

    const items = await keys(t);
    assert.equal(byState(items, 'active')[0]!.kid, next!.kid);
    const retired = byState(items, 'retired')[0]!;
    assert.equal(retired.kid, old!.kid);
    assert.equal(typeof retired.retired_at, 'number');
    // Until the last token it signed has expired (accessTokenTtl 600 s) plus 60 s of clock skew.
    assert.equal(retired.remove_at, retired.retired_at! + 660);
    const newNext = byState(items, 'next');
    assert.equal(newNext.length, 1);
    assert.ok(![old!.kid, next!.kid].includes(newNext[0]!.kid));
    assert.deepEqual(await jwksKids(t), [old!.kid, next!.kid, newNext[0]!.kid].sort());

    const newToken = await tokenOf(t, svc);
    assert.equal(kidOf(newToken), next!.kid);
    const v = createVerifier({
      issuer: t.url,
      audience: 'api',
      algorithms: ['ES256'],
      jwksUri: `${t.url}/.well-known/jwks.json`,
    });
    try {
      assert.equal((await v.verify(oldToken)).sub, 'svc');
      assert.equal((await v.verify(newToken)).sub, 'svc');
    } finally {
      v.close();
    }
    assert.equal((await introspect(t, svc, oldToken)).body.active, true);
  });

  it('retire takes the active key out of service at once; it stays published; a next key is replaced', async () => {
    const [old] = byState(await keys(t), 'active');
    const [next] = byState(await keys(t), 'next');
    const oldToken = await tokenOf(t, svc);
    const r = await t.admin('POST', `/admin/keys/${old!.kid}/retire`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.kid, old!.kid);
    assert.equal(r.body.state, 'retired');
    assert.equal(r.body.remove_at, r.body.retired_at + 660);
    const items = await keys(t);
    assert.equal(byState(items, 'active')[0]!.kid, next!.kid);
    assert.equal(kidOf(await tokenOf(t, svc)), next!.kid, 'the next key signs at once');
    assert.ok((await jwksKids(t)).includes(old!.kid), 'the retired key stays published');
    assert.equal((await introspect(t, svc, oldToken)).body.active, true, 'its tokens stay valid until they expire');

    const [fresh] = byState(items, 'next');
    const dropped = await t.admin('POST', `/admin/keys/${fresh!.kid}/retire`);
    assert.equal(dropped.status, 200);
    assert.equal(dropped.body.state, 'removed');
    const after = await keys(t);
    assert.equal(byState(after, 'next').length, 1);
    assert.notEqual(byState(after, 'next')[0]!.kid, fresh!.kid);
    assert.ok(!(await jwksKids(t)).includes(fresh!.kid));

    const again = await t.admin('POST', `/admin/keys/${old!.kid}/retire`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'conflict');
    assert.equal((await t.admin('POST', '/admin/keys/no-such-kid/retire')).status, 404);
    const audit = await t.admin('GET', '/admin/audit?type=admin.keys.retired');
    assert.deepEqual(
      (audit.body.items as AuditItem[]).map((e) => e.data.kid),
      [fresh!.kid, old!.kid],
    );
  });
});

describe('admin API: audit', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  /** One admin token for the queries, so that reading the trail adds nothing to it. */
  let reader: string;
  const secrets: string[] = [];
  let userId = '';

  const query = async (q: string) => {
    const r = await adminAs(t, reader, 'GET', `/admin/audit${q}`);
    assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
    return r.body as { items: AuditItem[]; next?: string };
  };

  before(async () => {
    t = await startServer({ now: clock.now });
    const ok = (r: { status: number; body: unknown }, status = 200) => assert.equal(r.status, status, JSON.stringify(r.body));
    const app = await t.client({
      id: 'app',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['docs:read'],
      audiences: ['docs'],
    });
    secrets.push(app.secret!);

    // Every kind of admin change, and some logins.
    ok(await t.admin('PUT', '/admin/roles/reader', { permissions: ['docs:read'] }));
    ok(await t.admin('PUT', '/admin/roles/spare', { permissions: ['x'] }));
    ok(await t.admin('DELETE', '/admin/roles/spare'), 204);
    // Instants are whole seconds: the events that follow fall in a later second than those before.
    clock.advance(1_100);
    const user = await t.admin('POST', '/admin/users', { username: 'audrey', password: 'first secret password', roles: [] });
    ok(user, 201);
    userId = user.body.id;
    secrets.push('first secret password');
    ok(await t.admin('PUT', `/admin/users/${userId}/roles`, { roles: ['reader'] }));
    const s = await login(t, app, 'audrey', 'first secret password');
    ok(s);
    secrets.push(s.body.access_token!, s.body.refresh_token!);
    assert.equal((await login(t, app, 'audrey', 'a wrong password guess')).status, 400);
    secrets.push('a wrong password guess');
    ok(await t.admin('DELETE', `/admin/sessions/${(await introspect(t, app, s.body.access_token!)).body.sid}`), 204);
    ok(await t.admin('POST', `/admin/users/${userId}/disable`));
    ok(await t.admin('POST', `/admin/users/${userId}/enable`));
    ok(await t.admin('POST', `/admin/users/${userId}/password`, { password: 'second secret password' }), 204);
    secrets.push('second secret password');
    const c = await t.admin('POST', '/admin/clients', {
      client_id: 'svc',
      grant_types: ['client_credentials'],
      scope: 'a',
      audiences: ['api'],
    });
    ok(c, 201);
    secrets.push(c.body.client_secret);
    ok(await t.admin('PATCH', '/admin/clients/svc', { client_name: 'Service' }));
    const rotated = await t.admin('POST', '/admin/clients/svc/rotate-secret', { overlap: 60 });
    ok(rotated);
    secrets.push(rotated.body.client_secret);
    ok(await t.admin('POST', '/admin/revoke', { client_id: 'svc' }));
    ok(await t.admin('DELETE', '/admin/clients/svc'), 204);
    ok(await t.admin('POST', '/admin/keys/rotate'));
    reader = await t.adminToken();
    secrets.push(reader);
  });
  after(() => t.close());

  it('every admin change wrote an event naming the admin', async () => {
    const { items } = await query('?limit=500');
    const expected: [string, Partial<AuditItem>][] = [
      ['admin.role.set', { data: { name: 'reader', permissions: ['docs:read'] } }],
      ['admin.role.deleted', { data: { name: 'spare' } }],
      ['admin.user.created', { subject: userId }],
      ['admin.user.roles_set', { subject: userId }],
      ['admin.session.revoked', { subject: userId, client_id: 'app' }],
      ['admin.user.disabled', { subject: userId }],
      ['admin.user.enabled', { subject: userId }],
      ['admin.user.password_reset', { subject: userId }],
      ['admin.client.created', { client_id: 'svc' }],
      ['admin.client.updated', { client_id: 'svc' }],
      ['admin.client.secret_rotated', { client_id: 'svc' }],
      ['admin.client.deleted', { client_id: 'svc' }],
      ['revocation.cutoff', { client_id: 'svc' }],
      ['revocation.cutoff', { subject: userId }],
      ['admin.keys.rotated', {}],
    ];
    for (const [type, fields] of expected) {
      const found = items.filter(
        (e) =>
          e.type === type &&
          Object.entries(fields).every(([k, v]) => JSON.stringify(e[k as keyof AuditItem]) === JSON.stringify(v)),
      );
      assert.ok(found.length > 0, `no ${type} event with ${JSON.stringify(fields)}`);
      for (const e of found) assert.equal(e.actor, 'test-admin', type);
    }
  });

  it('no event holds a secret, a password, a token or a password hash', async () => {
    const text = JSON.stringify((await query('?limit=500')).items);
    for (const s of secrets) assert.ok(!text.includes(s), `the trail holds ${s.slice(0, 12)}...`);
    const digest = contextOf(t.server).master.secretDigest(secrets[0]!);
    assert.ok(!text.includes(digest));
    assert.ok(!text.includes('$argon2'));
    assert.ok(!/password"\s*:/i.test(text), 'no password field');
  });

  it('filters by exact type and by prefix', async () => {
    const exact = await query('?type=admin.user.created');
    assert.deepEqual(
      exact.items.map((e) => e.type),
      ['admin.user.created'],
    );
    const logins = await query('?type=login.*');
    const types = new Set(logins.items.map((e) => e.type));
    assert.ok(types.has('login.success') && types.has('login.failure'), [...types].join());
    for (const e of logins.items) assert.ok(e.type.startsWith('login.'));
    const admin = await query('?type=admin.client.*');
    assert.deepEqual(
      admin.items.map((e) => e.type),
      ['admin.client.deleted', 'admin.client.secret_rotated', 'admin.client.updated', 'admin.client.created'],
    );
    assert.deepEqual((await query('?type=admin.nothing')).items, []);
  });

  it('filters by subject', async () => {
    const { items } = await query(`?subject=${encodeURIComponent(userId)}`);
    assert.ok(items.length >= 7);
    for (const e of items) assert.equal(e.subject, userId);
    assert.ok(items.some((e) => e.type === 'login.success'));
  });

  it('filters by time: from inclusive, to exclusive', async () => {
    const all = (await query('?limit=500')).items;
    const times = [...new Set(all.map((e) => e.occurred_at))].sort((a, b) => a - b);
    const middle = times[Math.floor(times.length / 2)]!;
    const from = (await query(`?from=${middle}&limit=500`)).items;
    const to = (await query(`?to=${middle}&limit=500`)).items;
    assert.ok(from.length > 0 && to.length > 0);
    for (const e of from) assert.ok(e.occurred_at >= middle);
    for (const e of to) assert.ok(e.occurred_at < middle);
    assert.equal(from.length + to.length, all.length);
    assert.ok(times.length >= 2);
    const window = (await query(`?from=${times[0]}&to=${times[1]}`)).items;
    assert.ok(window.length > 0);
    for (const e of window) assert.equal(e.occurred_at, times[0]);
  });

  it('pages newest first with limit and cursor', async () => {
    const all = (await query('?limit=500')).items;
    assert.equal((await query('?limit=500')).next, undefined);
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i - 1]!.id > all[i]!.id, 'ids descend');
      assert.ok(all[i - 1]!.occurred_at >= all[i]!.occurred_at, 'times do not ascend');
    }
    const paged: AuditItem[] = [];
    let q = '?limit=4';
    for (;;) {
      const page = await query(q);
      assert.ok(page.items.length <= 4);
      paged.push(...page.items);
      if (page.next === undefined) break;
      q = `?limit=4&cursor=${page.next}`;
    }
    assert.deepEqual(
      paged.map((e) => e.id),
      all.map((e) => e.id),
    );
    const typed = await query('?type=admin.*&limit=2');
    assert.equal(typed.items.length, 2);
    const rest = await query(`?type=admin.*&limit=500&cursor=${typed.next}`);
    for (const e of rest.items) assert.ok(e.type.startsWith('admin.') && e.id < typed.items[1]!.id);
  });

  it('refuses bad filters with 400', async () => {
    for (const q of [
      'type=Login',
      'type=login.*.*',
      'type=login%25',
      'limit=0',
      'limit=501',
      'limit=2.5',
      'cursor=0',
      'cursor=abc',
      'from=-1',
      'to=yesterday',
      'sort=asc',
    ]) {
      assert.equal((await adminAs(t, reader, 'GET', `/admin/audit?${q}`)).status, 400, q);
    }
  });
});
