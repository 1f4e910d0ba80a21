import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { ADMIN_SCOPE, adminAudience } from '@tessera/server/internal';

import { adminAs, ownAdminClient, tokenOf } from './helpers/admin-api.js';
import { introspect, login, refresh, revoke, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';

describe('admin API', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  /** Authenticates introspection calls: the resource server of the tests' audiences. */
  let rs: ClientCreds;
  /** A first-party app: password and refresh_token grants. */
  let app: ClientCreds;

  before(async () => {
    t = await startServer({ now: clock.now });
    rs = await t.client({
      id: 'resource-server',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: ['docs', 'inventory'],
    });
    app = await t.client({
      id: 'app',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['docs:read', 'docs:write'],
      audiences: ['docs'],
    });
    assert.equal((await t.admin('PUT', '/admin/roles/reader', { permissions: ['docs:read'] })).status, 200);
    assert.equal((await t.admin('PUT', '/admin/roles/writer', { permissions: ['docs:write'] })).status, 200);
  });
  after(() => t.close());

  /** Creates a user through the admin API; returns its id. */
  async function createUser(username: string, roles: string[] = ['reader']): Promise<string> {
    const r = await t.admin('POST', '/admin/users', { username, password: PASSWORD, roles });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  }

  /** Logs in with the password grant; fails the test unless it succeeds. */
  async function session(username: string, password = PASSWORD, params: Record<string, string> = {}) {
    const r = await login(t, app, username, password, params);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { access: r.body.access_token!, refresh: r.body.refresh_token!, scope: r.body.scope! };
  }

  const active = async (token: string) => (await introspect(t, rs, token)).body.active;

  describe('guard', () => {
    it('refuses a request without a token with 401 and a Bearer challenge', async () => {
      const r = await adminAs(t, undefined, 'GET', '/admin/users');
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="tessera-admin"/);
    });

    it('refuses a malformed token with 401', async () => {
      assert.equal((await adminAs(t, 'not.a.token', 'GET', '/admin/users')).status, 401);
    });

    it('refuses a token without the tessera:admin scope with 403 insufficient_scope', async () => {
      const c = await t.client({
        id: 'reporting',
        grantTypes: ['client_credentials'],
        scopes: ['reports:read'],
        audiences: [adminAudience(t.url)],
      });
      const r = await adminAs(t, await tokenOf(t, c), 'GET', '/admin/users');
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'insufficient_scope');
      assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    });

    it('refuses an admin-scoped token for another audience with 401', async () => {
      const c = await t.client({
        id: 'wrong-audience',
        grantTypes: ['client_credentials'],
        scopes: [ADMIN_SCOPE],
        audiences: ['inventory'],
      });
      const r = await adminAs(t, await tokenOf(t, c), 'GET', '/admin/users');
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_token');
    });

    it('refuses an admin token once it is revoked (RFC 7009)', async () => {
      const c = await ownAdminClient(t, 'ops-admin');
      const token = await tokenOf(t, c);
      assert.equal((await adminAs(t, token, 'GET', '/admin/users')).status, 200);
      assert.equal((await revoke(t, c, token)).status, 200);
      const r = await adminAs(t, token, 'GET', '/admin/users');
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_token');
    });
  });

  describe('users', () => {
    it('creates a user with a normalised username and never shows the password hash', async () => {
      const r = await t.admin('POST', '/admin/users', { username: '  ＣＡＲＯＬ ', password: PASSWORD, roles: ['reader'] });
      assert.equal(r.status, 201);
      assert.equal(r.body.username, 'carol');
      assert.deepEqual(r.body.roles, ['reader']);
      assert.equal(r.body.disabled, false);
      assert.deepEqual(Object.keys(r.body).sort(), [
        'created_at',
        'disabled',
        'email',
        'email_verified',
        'family_name',
        'given_name',
        'id',
        'name',
        'roles',
        'updated_at',
        'username',
      ]);
      assert.ok(Math.abs(r.body.created_at - Date.now() / 1000) < 60, 'instants are epoch seconds');
      // The normalised name is the login name.
      await session('Carol');
    });

    it('refuses a duplicate username, compared in normal form, with 409', async () => {
      await createUser('dave');
      const r = await t.admin('POST', '/admin/users', { username: 'DAVE', password: PASSWORD });
      assert.equal(r.status, 409);
      assert.equal(r.body.error, 'conflict');
    });

    it('refuses weak passwords and bad usernames with 400', async () => {
      for (const password of ['short', 'x'.repeat(7), 'has a\u0000control char']) {
        const r = await t.admin('POST', '/admin/users', { username: 'weak', password });
        assert.equal(r.status, 400, password);
        assert.equal(r.body.error, 'invalid_request');
      }
      for (const username of ['', '   ', 'a<b', 'quote"d', 'x'.repeat(129), 'tab\tbed']) {
        assert.equal(
          (await t.admin('POST', '/admin/users', { username, password: PASSWORD })).status,
          400,
          JSON.stringify(username),
        );
      }
      assert.equal((await t.admin('GET', '/admin/users/weak')).status, 404);
    });

    it('refuses bad JSON, unknown fields and wrong types with 400', async () => {
      const token = await t.adminToken();
      const bodies: unknown[] = [
        '{"username": "eve", "password": ',
        '[]',
        { username: 'eve' },
        { username: 'eve', password: PASSWORD, admin: true },
        { username: 42, password: PASSWORD },
        { username: 'eve', password: ['a', 'b'] },
        { username: 'eve', password: PASSWORD, roles: 'reader' },
        { username: 'eve', password: PASSWORD, roles: ['not a role name'] },
      ];
      for (const body of bodies) {
        const r = await adminAs(t, token, 'POST', '/admin/users', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error, 'invalid_request');
      }
      const users = (await t.admin('GET', '/admin/users?limit=500')).body.items as { username: string }[];
      assert.ok(!users.some((u) => u.username === 'eve'));
    });

    it('lists users in pages (limit + cursor)', async () => {
      for (const name of ['page-1', 'page-2', 'page-3', 'page-4', 'page-5']) await createUser(name);
      const all = (await t.admin('GET', '/admin/users?limit=500')).body;
      assert.equal(all.next, undefined);
      const names = (all.items as { username: string }[]).map((u) => u.username);
      assert.deepEqual(names, [...names].sort());
      const seen: string[] = [];
      let path = '/admin/users?limit=2';
      for (;;) {
        const r = await t.admin('GET', path);
        assert.equal(r.status, 200);
        assert.ok(r.body.items.length <= 2);
        seen.push(...(r.body.items as { username: string }[]).map((u) => u.username));
        if (r.body.next === undefined) break;
        path = `/admin/users?limit=2&cursor=${encodeURIComponent(r.body.next)}`;
      }
      assert.deepEqual(seen, names);
      for (const q of ['limit=0', 'limit=501', 'limit=ten', 'order=desc'])
        assert.equal((await t.admin('GET', `/admin/users?${q}`)).status, 400, q);
    });

    it('gets one user, 404 for an unknown id', async () => {
      const id = await createUser('frank');
      const r = await t.admin('GET', `/admin/users/${id}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.id, id);
      assert.equal(r.body.username, 'frank');
      assert.equal((await t.admin('GET', '/admin/users/no-such-user')).status, 404);
    });

    it('disabling a user revokes their tokens and sessions; enabling lets them log in again', async () => {
      const id = await createUser('grace');
      const s = await session('grace');
      assert.equal(await active(s.access), true);
      const r = await t.admin('POST', `/admin/users/${id}/disable`);
      assert.equal(r.status, 200);
      assert.equal(r.body.disabled, true);
      assert.equal(r.body.revoked_sessions, 1);
      assert.equal(await active(s.access), false);
      assert.equal((await refresh(t, app, s.refresh)).body.error, 'invalid_grant');
      assert.equal((await login(t, app, 'grace', PASSWORD)).body.error, 'invalid_grant');
      assert.equal((await t.admin('GET', `/admin/users/${id}/sessions`)).body.items[0].revoked_reason, 'user_disabled');

      const enabled = await t.admin('POST', `/admin/users/${id}/enable`);
      assert.equal(enabled.status, 200);
      assert.equal(enabled.body.disabled, false);
      await session('grace');
      assert.equal(await active(s.access), false, 'enabling does not bring old tokens back');
      assert.equal((await t.admin('POST', '/admin/users/no-such-user/disable')).status, 404);
      assert.equal((await t.admin('POST', '/admin/users/no-such-user/enable')).status, 404);
    });

    it('resetting a password: the old stops working, the new works, sessions end', async () => {
      const id = await createUser('heidi');
      const s = await session('heidi');
      assert.equal((await t.admin('POST', `/admin/users/${id}/password`, { password: 'short' })).status, 400);
      assert.equal((await t.admin('POST', `/admin/users/${id}/password`, { password: PASSWORD, extra: 1 })).status, 400);
      const r = await t.admin('POST', `/admin/users/${id}/password`, { password: 'a brand new passphrase' });
      assert.equal(r.status, 204);
      assert.equal((await login(t, app, 'heidi', PASSWORD)).body.error, 'invalid_grant');
      await session('heidi', 'a brand new passphrase');
      assert.equal((await refresh(t, app, s.refresh)).body.error, 'invalid_grant');
      assert.equal(await active(s.access), false);
      assert.equal(
        (await t.admin('POST', '/admin/users/no-such-user/password', { password: 'a brand new passphrase' })).status,
        404,
      );
    });

    it('setting roles changes the scopes granted at the next login and refresh', async () => {
      const id = await createUser('ivan', ['reader']);
      assert.equal((await session('ivan')).scope, 'docs:read');

      const set = await t.admin('PUT', `/admin/users/${id}/roles`, { roles: ['reader', 'writer', 'writer'] });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body.roles, ['reader', 'writer']);
      const both = await session('ivan');
      assert.equal(both.scope, 'docs:read docs:write');

      assert.equal((await t.admin('PUT', `/admin/users/${id}/roles`, { roles: ['writer'] })).status, 200);
      const refreshed = await refresh(t, app, both.refresh);
      assert.equal(refreshed.status, 200);
      assert.equal(refreshed.body.scope, 'docs:write');
      assert.equal((await session('ivan')).scope, 'docs:write');
      // A role's permissions count at the time of the login, too.
      assert.equal((await t.admin('PUT', '/admin/roles/writer', { permissions: ['docs:write', 'docs:read'] })).status, 200);
      assert.equal((await session('ivan')).scope, 'docs:read docs:write');
      assert.equal((await t.admin('PUT', '/admin/roles/writer', { permissions: ['docs:write'] })).status, 200);

      assert.equal((await t.admin('PUT', `/admin/users/${id}/roles`, { roles: 'writer' })).status, 400);
      assert.equal((await t.admin('PUT', `/admin/users/${id}/roles`, {})).status, 400);
      assert.equal((await t.admin('PUT', '/admin/users/no-such-user/roles', { roles: [] })).status, 404);
    });

    it('lists sessions (refresh-token families) and revokes one', async () => {
      const id = await createUser('judy');
      const first = await session('judy');
      const second = await session('judy');
      const listed = await t.admin('GET', `/admin/users/${id}/sessions`);
      assert.equal(listed.status, 200);
      const families = listed.body.items as { id: string; user_id: string; client_id: string; revoked_at: number | null }[];
      assert.equal(families.length, 2);
      for (const f of families) {
        assert.equal(f.user_id, id);
        assert.equal(f.client_id, 'app');
        assert.equal(f.revoked_at, null);
        assert.ok(!JSON.stringify(f).includes(first.refresh) && !JSON.stringify(f).includes(second.refresh));
      }
      const sid = (await introspect(t, rs, first.access)).body.sid as string;
      assert.ok(families.some((f) => f.id === sid));

      assert.equal((await t.admin('DELETE', `/admin/sessions/${sid}`)).status, 204);
      assert.equal((await refresh(t, app, first.refresh)).body.error, 'invalid_grant');
      assert.equal(await active(first.access), false, "the session's access tokens are revoked with it");
      assert.equal((await refresh(t, app, second.refresh)).status, 200, 'the other session lives on');
      const after = (await t.admin('GET', `/admin/users/${id}/sessions`)).body.items as {
        id: string;
        revoked_at: number | null;
      }[];
      assert.notEqual(after.find((f) => f.id === sid)!.revoked_at, null);

      assert.equal((await t.admin('DELETE', '/admin/sessions/no-such-session')).status, 404);
      assert.equal((await t.admin('GET', '/admin/users/no-such-user/sessions')).status, 404);
    });

    it('POST /admin/revoke {subject} cuts off tokens issued before it, not after', async () => {
      const id = await createUser('mallory');
      const before = await session('mallory');
      const r = await t.admin('POST', '/admin/revoke', { subject: id });
      assert.equal(r.status, 200);
      assert.equal(r.body.revoked_sessions, 1);
      assert.equal(await active(before.access), false);
      assert.equal((await refresh(t, app, before.refresh)).body.error, 'invalid_grant');
      // The cut-off compares iat, in whole seconds: a token of the next second is after it.
      clock.advance(1_100);
      const later = await session('mallory');
      assert.equal(await active(later.access), true);
      assert.equal(await active(before.access), false);

      for (const body of [{}, { subject: id, client_id: 'app' }, { subject: '' }, { user: id }, { client: 'app' }]) {
        assert.equal((await t.admin('POST', '/admin/revoke', body)).status, 400, JSON.stringify(body));
      }
    });
    it('deleting a user revokes their sessions and tokens; the username is free again', async () => {
      const id = await createUser('peggy');
      const s = await session('peggy');
      assert.equal(await active(s.access), true);
      assert.equal((await t.admin('DELETE', `/admin/users/${id}`)).status, 204);
      assert.equal((await t.admin('GET', `/admin/users/${id}`)).status, 404);
      assert.equal(await active(s.access), false);
      assert.equal((await refresh(t, app, s.refresh)).body.error, 'invalid_grant');
      assert.equal((await login(t, app, 'peggy', PASSWORD)).body.error, 'invalid_grant');
      assert.equal((await t.admin('DELETE', `/admin/users/${id}`)).status, 404);
      await createUser('peggy');
    });

    it('grants and revokes one role; an unknown role is refused, naming the known ones', async () => {
      const id = await createUser('quentin', ['reader']);
      const granted = await t.admin('PUT', `/admin/users/${id}/roles/writer`);
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      assert.deepEqual(granted.body.roles, ['reader', 'writer']);
      assert.deepEqual((await t.admin('PUT', `/admin/users/${id}/roles/writer`)).body.roles, ['reader', 'writer'], 'idempotent');
      assert.equal((await session('quentin')).scope, 'docs:read docs:write');
      const revoked = await t.admin('DELETE', `/admin/users/${id}/roles/reader`);
      assert.equal(revoked.status, 200);
      assert.deepEqual(revoked.body.roles, ['writer']);
      assert.equal((await session('quentin')).scope, 'docs:write');
      assert.equal((await t.admin('DELETE', `/admin/users/${id}/roles/reader`)).status, 400, 'not held');

      for (const [method, path, body] of [
        ['PUT', `/admin/users/${id}/roles/wizard`, undefined],
        ['PUT', `/admin/users/${id}/roles`, { roles: ['writer', 'wizard'] }],
        ['POST', '/admin/users', { username: 'rupert', password: PASSWORD, roles: ['wizard'] }],
      ] as const) {
        const r = await t.admin(method, path, body);
        assert.equal(r.status, 400, path);
        assert.equal(r.body.error, 'invalid_request');
        assert.match(r.body.error_description, /no role named wizard; known roles: .*reader.*writer/);
      }
      assert.deepEqual((await t.admin('GET', `/admin/users/${id}`)).body.roles, ['writer'], 'a refused change changes nothing');
      const users = (await t.admin('GET', '/admin/users?limit=500')).body.items as { username: string }[];
      assert.ok(!users.some((u) => u.username === 'rupert'));
      assert.equal((await t.admin('PUT', '/admin/users/no-such-user/roles/writer')).status, 404);
    });
  });

  describe('roles', () => {
    it('POST creates a role and refuses an existing one; PUT replaces', async () => {
      const r = await t.admin('POST', '/admin/roles', { name: 'editor', permissions: ['docs:write'] });
      assert.equal(r.status, 201);
      assert.deepEqual(r.body, { name: 'editor', permissions: ['docs:write'] });
      const again = await t.admin('POST', '/admin/roles', { name: 'editor', permissions: [] });
      assert.equal(again.status, 409);
      assert.equal(again.body.error, 'conflict');
      assert.deepEqual(
        ((await t.admin('GET', '/admin/roles')).body.items as { name: string; permissions: string[] }[]).find(
          (x) => x.name === 'editor',
        ),
        { name: 'editor', permissions: ['docs:write'] },
      );
      assert.equal((await t.admin('POST', '/admin/roles', { name: 'bad name', permissions: [] })).status, 400);
    });

    it('puts, lists and deletes roles', async () => {
      const put = await t.admin('PUT', '/admin/roles/auditor', { permissions: ['audit:read', 'audit:read', 'docs:read'] });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body, { name: 'auditor', permissions: ['audit:read', 'docs:read'] });
      const replaced = await t.admin('PUT', '/admin/roles/auditor', { permissions: ['audit:read'] });
      assert.deepEqual(replaced.body.permissions, ['audit:read']);

      const list = await t.admin('GET', '/admin/roles');
      assert.equal(list.status, 200);
      const roles = list.body.items as { name: string; permissions: string[] }[];
      assert.deepEqual(
        roles.find((r) => r.name === 'auditor'),
        { name: 'auditor', permissions: ['audit:read'] },
      );
      assert.ok(roles.some((r) => r.name === 'reader'));

      assert.equal((await t.admin('DELETE', '/admin/roles/auditor')).status, 204);
      assert.ok(!((await t.admin('GET', '/admin/roles')).body.items as { name: string }[]).some((r) => r.name === 'auditor'));
      assert.equal((await t.admin('DELETE', '/admin/roles/auditor')).status, 404);
    });

    it('validates role names and permissions', async () => {
      const bad: [string, unknown][] = [
        ['/admin/roles/ok', { permissions: ['has space'] }],
        ['/admin/roles/ok', { permissions: ['quote"d'] }],
        ['/admin/roles/ok', { permissions: ['back\\slash'] }],
        ['/admin/roles/ok', { permissions: [''] }],
        ['/admin/roles/ok', { permissions: 'docs:read' }],
        ['/admin/roles/ok', { permissions: [7] }],
        ['/admin/roles/ok', {}],
        ['/admin/roles/ok', { permissions: [], extra: true }],
        ['/admin/roles/bad%20name', { permissions: [] }],
        ['/admin/roles/bad%2Fname', { permissions: [] }],
      ];
      for (const [path, body] of bad)
        assert.equal((await t.admin('PUT', path, body)).status, 400, `${path} ${JSON.stringify(body)}`);
      assert.ok(
        !((await t.admin('GET', '/admin/roles')).body.items as { name: string }[]).some(
          (r) => r.name === 'ok' || r.name.startsWith('bad'),
        ),
      );
    });

    it('a deleted role no longer grants its permissions at the next login', async () => {
      assert.equal((await t.admin('PUT', '/admin/roles/temp', { permissions: ['docs:write'] })).status, 200);
      await createUser('oscar', ['reader', 'temp']);
      assert.equal((await session('oscar')).scope, 'docs:read docs:write');
      assert.equal((await t.admin('DELETE', '/admin/roles/temp')).status, 204);
      assert.equal((await session('oscar')).scope, 'docs:read');
    });
  });
});
