import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { REVOCATIONS_SCOPE } from '@tessera/verifier';
import { MasterKey, openPostgresStore, registerClient, type SqlStore, contextOf } from '@tessera/server/internal';

import { startProcess, stopProcess } from './helpers/cluster.js';
import { execute, refuseWrites } from './helpers/faults.js';
import {
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_REQUIRED,
  postgresAvailable,
  urlWithSchema,
} from './helpers/postgres.js';
import { basic, startServer, type TestServer } from './helpers/server.js';
import { introspect, login, revoke, type ClientCreds } from './helpers/oauth.js';
import { feedClient, feedToken } from './helpers/revocations.js';

const PASSWORD = 'a long enough password';

/** The values of the family records in the revocation feed (what every verifier receives). */
async function feedFamilies(url: string, token: string): Promise<Set<string>> {
  const res = await fetch(`${url}/revocations`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { revocations: { kind: string; value: string }[] };
  return new Set(body.revocations.filter((r) => r.kind === 'family').map((r) => r.value));
}

/**
 * A crash between the two steps of a revoke (the family revoked in the database, its revocation record not
 * written), made deterministic by a trigger that makes the real database refuse the second write. The revoke must
 * be one transaction: refused whole, and completed by its retry.
 */
describe('crash between the two steps of a revoke', () => {
  let t: TestServer;
  let app: ClientCreds;
  let feed: ClientCreds;
  let store: SqlStore;
  /** Users of their own for the tests that cut off everything a user holds. */
  let dora: string;
  let erin: string;

  before(async () => {
    t = await startServer();
    store = contextOf(t.server).store as SqlStore;
    app = await t.client({
      id: 'app',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read'],
      audiences: ['orders'],
      firstParty: true,
    });
    feed = await feedClient(t, 'feed');
    await contextOf(t.server).store.roles.put({ name: 'clerk', permissions: ['orders:read'] });
    await t.user('carol', PASSWORD, ['clerk']);
    dora = await t.user('dora', PASSWORD, ['clerk']);
    erin = await t.user('erin', PASSWORD, ['clerk']);
  });
  after(() => t.close());

  async function session(username = 'carol'): Promise<{ access: string; refresh: string; sid: string }> {
    const r = await login(t, app, username, PASSWORD);
    assert.equal(r.status, 200);
    const sid = JSON.parse(Buffer.from(r.body.access_token!.split('.')[1]!, 'base64url').toString()).sid as string;
    return { access: r.body.access_token!, refresh: r.body.refresh_token!, sid };
  }

  async function assertRevoked(s: { access: string; sid: string }): Promise<void> {
    assert.ok((await feedFamilies(t.url, await feedToken(t, feed))).has(s.sid), 'the session reached the revocation feed');
    assert.equal((await introspect(t, app, s.access)).body.active, false, 'its access token is revoked');
  }

  it('rfc7009-revoke-crashed-between-its-steps: the retry revokes the access tokens and reaches the feed', async () => {
    const s = await session();
    const heal = await refuseWrites(store, 'revocations', 'insert');
    try {
      assert.equal((await revoke(t, app, s.refresh)).status, 500);
    } finally {
      await heal();
    }
    assert.equal((await store.refreshFamilies.get(s.sid))?.revokedAt, null, 'no family revoked without its record');
    assert.equal((await revoke(t, app, s.refresh)).status, 200);
    await assertRevoked(s);
  });

  it('admin-session-revoke-crashed-between-its-steps: the retry revokes the access tokens and reaches the feed', async () => {
    const s = await session();
    const heal = await refuseWrites(store, 'revocations', 'insert');
    try {
      assert.equal((await t.admin('DELETE', `/admin/sessions/${s.sid}`)).status, 500);
    } finally {
      await heal();
    }
    assert.equal((await t.admin('DELETE', `/admin/sessions/${s.sid}`)).status, 204);
    await assertRevoked(s);
  });

  it('user-disable-crashed-before-its-cutoff: the user stays enabled with their sessions, and the retry does both', async () => {
    const s = await session('dora');
    const heal = await refuseWrites(store, 'revocations', 'insert');
    try {
      assert.equal((await t.admin('POST', `/admin/users/${dora}/disable`)).status, 500);
    } finally {
      await heal();
    }
    assert.equal((await contextOf(t.server).store.users.getById(dora))?.disabled, false, 'not disabled without its cut-off');
    assert.equal((await introspect(t, app, s.access)).body.active, true);
    assert.equal((await t.admin('POST', `/admin/users/${dora}/disable`)).status, 200);
    assert.equal((await introspect(t, app, s.access)).body.active, false, 'the retry revokes the access token');
    assert.equal((await login(t, app, 'dora', PASSWORD)).status, 400);
    assert.equal((await t.admin('POST', `/admin/users/${dora}/enable`)).status, 200);
  });

  it('password-reset-crashed-before-its-cutoff: the old password and sessions stay, and the retry ends both', async () => {
    const s = await session('erin');
    const heal = await refuseWrites(store, 'revocations', 'insert');
    try {
      assert.equal((await t.admin('POST', `/admin/users/${erin}/password`, { password: 'another long password' })).status, 500);
    } finally {
      await heal();
    }
    assert.equal((await login(t, app, 'erin', PASSWORD)).status, 200, 'the password is unchanged');
    assert.equal((await introspect(t, app, s.access)).body.active, true);
    assert.equal((await t.admin('POST', `/admin/users/${erin}/password`, { password: 'another long password' })).status, 204);
    assert.equal((await introspect(t, app, s.access)).body.active, false, 'the retry revokes the access token');
    assert.equal((await login(t, app, 'erin', PASSWORD)).status, 400);
    assert.equal((await t.admin('POST', `/admin/users/${erin}/password`, { password: PASSWORD })).status, 204);
  });

  it('half-done-revoke-left-by-an-older-version: a retried RFC 7009 revoke completes it', async () => {
    const s = await session();
    // What an older version left when it crashed between the two steps: the family revoked, no record.
    await execute(
      store,
      `update refresh_families set revoked_at = ${Date.now()}, revoked_reason = 'revoked' where id = '${s.sid}'`,
    );
    assert.equal((await revoke(t, app, s.refresh)).status, 200);
    await assertRevoked(s);
  });

  it('half-done-revoke-left-by-an-older-version: a retried admin session revoke completes it', async () => {
    const s = await session();
    await execute(
      store,
      `update refresh_families set revoked_at = ${Date.now()}, revoked_reason = 'admin' where id = '${s.sid}'`,
    );
    assert.equal((await t.admin('DELETE', `/admin/sessions/${s.sid}`)).status, 204);
    await assertRevoked(s);
  });
});

const available = await postgresAvailable();

/**
 * The attack run's scenario on a real server process on PostgreSQL (where each write is a round trip, so a kill
 * lands between two of them): a burst of RFC 7009 revokes of refresh tokens, the server killed with SIGKILL
 * mid-burst, then restarted on the same database. Every revoke answered 200 is in the revocation feed, no family
 * is revoked without its record, and retrying the unanswered ones completes them.
 */
describe('kill -9 mid-burst of RFC 7009 revokes', { skip: available || POSTGRES_REQUIRED ? false : POSTGRES_MISSING }, () => {
  const SESSIONS = 150;
  const KILL_AFTER = 60;
  const IN_FLIGHT = 20;
  const ISSUER = 'http://tessera.test';
  let dir: string;
  let schema: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-revoke-kill-'));
    schema = await createSchema();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('revoke-burst-killed-mid-way: every answered revoke is in the feed and every retried one completes', async () => {
    const masterKey = randomBytes(32).toString('base64url');
    const master = new MasterKey(Buffer.from(masterKey, 'base64url'));
    const database = urlWithSchema(schema);
    // The sessions, written in the store before the server starts (as logins would have).
    const setup = openPostgresStore(database);
    await setup.migrate();
    const now = Date.now();
    const appSecret = (
      await registerClient(
        setup,
        master,
        { id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['a'], audiences: ['api'], firstParty: true },
        now,
      )
    ).secret!;
    const feedSecret = (
      await registerClient(
        setup,
        master,
        { id: 'feed', grantTypes: ['client_credentials'], scopes: [REVOCATIONS_SCOPE], audiences: [`${ISSUER}/revocations`] },
        now,
      )
    ).secret!;
    const sessions = Array.from({ length: SESSIONS }, (_, i) => ({
      id: `family-${i}`,
      token: `tsr_burst_${i}_${randomBytes(8).toString('hex')}`,
    }));
    await Promise.all(
      sessions.map((s) =>
        setup.refreshFamilies.create(
          {
            id: s.id,
            userId: 'u1',
            clientId: 'app',
            scope: 'a',
            audience: ['api'],
            createdAt: now,
            absoluteExpiresAt: now + 86_400_000,
            lastUsedAt: now,
            revokedAt: null,
            revokedReason: null,
            browserSessionId: null,
          },
          { digest: master.refreshDigest(s.token), familyId: s.id, createdAt: now, expiresAt: now + 86_400_000, usedAt: null },
        ),
      ),
    );
    await setup.close();

    const env = {
      TESSERA_DATABASE: database,
      TESSERA_DATA_DIR: dir,
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_ISSUER: ISSUER,
      TESSERA_LOG_LEVEL: 'silent',
    };
    const appAuth = basic('app', appSecret);
    const revokeAt = (url: string, token: string) =>
      fetch(`${url}/oauth/revoke`, {
        method: 'POST',
        headers: { authorization: appAuth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }).toString(),
      });

    const first = await startProcess('instance.js', env);
    const answered = new Set<string>();
    let killed: Promise<void> | undefined;
    try {
      // IN_FLIGHT revokes at a time, as a client's connection pool sends them: once KILL_AFTER are answered the
      // server is killed with up to IN_FLIGHT still in flight and the rest never sent. (All 150 at once were
      // sometimes all answered before the signal landed.)
      let next = 0;
      await Promise.allSettled(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (killed === undefined && next < sessions.length) {
            const s = sessions[next++]!;
            const res = await revokeAt(first.url, s.token);
            await res.body?.cancel();
            if (res.status === 200) answered.add(s.id);
            if (answered.size >= KILL_AFTER) killed ??= stopProcess(first, 'SIGKILL');
          }
        }),
      );
    } finally {
      await (killed ?? stopProcess(first, 'SIGKILL'));
    }
    assert.ok(answered.size >= KILL_AFTER && answered.size < SESSIONS, `answered before the kill: ${answered.size}`);

    const second = await startProcess('instance.js', env);
    try {
      const feedToken = async () => {
        const r = await fetch(`${second.url}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic('feed', feedSecret), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${ISSUER}/revocations` }).toString(),
        });
        assert.equal(r.status, 200);
        return ((await r.json()) as { access_token: string }).access_token;
      };
      const inFeed = await feedFamilies(second.url, await feedToken());
      const lost = [...answered].filter((id) => !inFeed.has(id));
      assert.deepEqual(lost, [], 'every revoke answered 200 is in the feed');
      // No family is revoked without its record, answered or not.
      const reader = openPostgresStore(database);
      try {
        const revokedFamilies = (await reader.refreshFamilies.list({ userId: 'u1' })).filter((f) => f.revokedAt !== null);
        assert.deepEqual(
          revokedFamilies.filter((f) => !inFeed.has(f.id)).map((f) => f.id),
          [],
          'no family revoked without its revocation record',
        );
      } finally {
        await reader.close();
      }
      // The client retries what was not answered: each completes.
      const retried = await Promise.all(
        sessions
          .filter((x) => !answered.has(x.id))
          .map(async (s) => {
            const res = await revokeAt(second.url, s.token);
            await res.body?.cancel();
            return res.status;
          }),
      );
      assert.ok(retried.every((status) => status === 200));
      const after = await feedFamilies(second.url, await feedToken());
      assert.deepEqual(
        sessions.filter((s) => !after.has(s.id)).map((s) => s.id),
        [],
        'every retried revoke reached the feed',
      );
    } finally {
      await stopProcess(second);
    }
  });
});
