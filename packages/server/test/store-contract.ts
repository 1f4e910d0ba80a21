import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';

import {
  StoreConflictError,
  type Client,
  type NewAuditEvent,
  type RefreshFamily,
  type RefreshToken,
  type Revocation,
  type SigningKeyRecord,
  type SqlStore,
  type Store,
  type User,
} from '@tessera/server/internal';

import { execute, refuseWrites } from './helpers/faults.js';

/**
 * The Store contract: every implementation (SQLite, PostgreSQL) runs this suite unchanged.
 * `open` must return a migrated store on an empty database, one per test; the suite closes it after the test.
 * `cleanup` runs once after the whole suite.
 */
export function storeContract(name: string, open: () => Promise<SqlStore>, cleanup?: () => Promise<void>): void {
  describe(`Store contract: ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });
    if (cleanup) after(cleanup);

    describe('lifecycle', () => {
      it('answers ping()', async () => {
        await store.ping();
      });

      it('migrate() is idempotent and keeps the data', async () => {
        await store.createUser(aUser({ id: 'u1', username: 'alice' }));
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.getUserById('u1'), aUser({ id: 'u1', username: 'alice' }));
      });
    });

    describe('users', () => {
      it('creates a user and reads it back by id and by username, every field intact', async () => {
        const u = aUser({ id: 'u1', username: 'alice', disabled: true, roles: ['reader', 'writer'] });
        await store.createUser(u);
        assert.deepEqual(await store.getUserById('u1'), u);
        assert.deepEqual(await store.getUserByUsername('alice'), u);
      });

      it('answers undefined for an unknown id or username', async () => {
        await store.createUser(aUser({ id: 'u1', username: 'alice' }));
        assert.equal(await store.getUserById('nope'), undefined);
        assert.equal(await store.getUserByUsername('nope'), undefined);
        assert.equal(await store.getUserByUsername('ALICE'), undefined);
      });

      it('refuses a duplicate username with StoreConflictError and keeps the first user', async () => {
        const first = aUser({ id: 'u1', username: 'alice' });
        await store.createUser(first);
        await assert.rejects(store.createUser(aUser({ id: 'u2', username: 'alice', passwordHash: 'other' })), isConflict);
        assert.equal(await store.getUserById('u2'), undefined);
        assert.deepEqual(await store.getUserByUsername('alice'), first);
      });

      it('refuses a duplicate id with StoreConflictError', async () => {
        await store.createUser(aUser({ id: 'u1', username: 'alice' }));
        await assert.rejects(store.createUser(aUser({ id: 'u1', username: 'bob' })), isConflict);
        assert.equal(await store.getUserByUsername('bob'), undefined);
      });

      it('lists users by username, a page at a time, the cursor being the last username', async () => {
        for (const n of ['dave', 'alice', 'erin', 'carol', 'bob']) await store.createUser(aUser({ id: `id-${n}`, username: n }));
        const names = (users: User[]) => users.map((u) => u.username);
        assert.deepEqual(names(await store.listUsers(10)), ['alice', 'bob', 'carol', 'dave', 'erin']);
        assert.deepEqual(names(await store.listUsers(2)), ['alice', 'bob']);
        assert.deepEqual(names(await store.listUsers(2, 'bob')), ['carol', 'dave']);
        assert.deepEqual(names(await store.listUsers(2, 'dave')), ['erin']);
        assert.deepEqual(names(await store.listUsers(2, 'erin')), []);
        // The cursor need not be an existing username.
        assert.deepEqual(names(await store.listUsers(10, 'c')), ['carol', 'dave', 'erin']);
        assert.deepEqual(await store.listUsers(1), [aUser({ id: 'id-alice', username: 'alice' })]);
      });

      it('updates each field alone, stamping updatedAt and leaving the rest', async () => {
        const u = aUser({ id: 'u1', username: 'alice', roles: ['reader'] });
        await store.createUser(u);
        await store.createUser(aUser({ id: 'u2', username: 'bob' }));
        const steps: [Parameters<Store['updateUser']>[1], Partial<User>][] = [
          [{ passwordHash: '$argon2id$new' }, { passwordHash: '$argon2id$new' }],
          [{ disabled: true }, { disabled: true }],
          [{ disabled: false }, { disabled: false }],
          [{ roles: ['admin', 'reader'] }, { roles: ['admin', 'reader'] }],
          [{ roles: [] }, { roles: [] }],
        ];
        let expected = u;
        let now = T0;
        for (const [patch, change] of steps) {
          now += 1000;
          assert.equal(await store.updateUser('u1', patch, now), true, JSON.stringify(patch));
          expected = { ...expected, ...change, updatedAt: now };
          assert.deepEqual(await store.getUserById('u1'), expected, JSON.stringify(patch));
        }
        assert.deepEqual(await store.getUserById('u2'), aUser({ id: 'u2', username: 'bob' }));
      });

      it('deletes a user once, freeing the username and leaving the others', async () => {
        await store.createUser(aUser({ id: 'u1', username: 'alice' }));
        await store.createUser(aUser({ id: 'u2', username: 'bob' }));
        assert.equal(await store.deleteUser('u1'), true);
        assert.equal(await store.deleteUser('u1'), false);
        assert.equal(await store.deleteUser('nope'), false);
        assert.equal(await store.getUserById('u1'), undefined);
        assert.equal(await store.getUserByUsername('alice'), undefined);
        assert.deepEqual(await store.getUserById('u2'), aUser({ id: 'u2', username: 'bob' }));
        await store.createUser(aUser({ id: 'u3', username: 'alice' }));
        assert.equal((await store.getUserByUsername('alice'))?.id, 'u3');
      });

      it('answers false when updating an unknown id', async () => {
        assert.equal(await store.updateUser('nope', { disabled: true }, T0), false);
        assert.equal(await store.getUserById('nope'), undefined);
      });
    });

    describe('roles', () => {
      it('puts roles and lists them by name', async () => {
        await store.putRole({ name: 'writer', permissions: ['docs:write'] });
        await store.putRole({ name: 'reader', permissions: ['docs:read', 'files:read'] });
        await store.putRole({ name: 'nobody', permissions: [] });
        assert.deepEqual(await store.listRoles(), [
          { name: 'nobody', permissions: [] },
          { name: 'reader', permissions: ['docs:read', 'files:read'] },
          { name: 'writer', permissions: ['docs:write'] },
        ]);
      });

      it('overwrites a role, replacing its permissions', async () => {
        await store.putRole({ name: 'reader', permissions: ['docs:read', 'files:read'] });
        await store.putRole({ name: 'reader', permissions: ['docs:read'] });
        assert.deepEqual(await store.listRoles(), [{ name: 'reader', permissions: ['docs:read'] }]);
        assert.deepEqual(await store.permissionsOf(['reader']), ['docs:read']);
      });

      it('deletes a role once', async () => {
        await store.putRole({ name: 'reader', permissions: ['docs:read'] });
        await store.putRole({ name: 'writer', permissions: ['docs:write'] });
        assert.equal(await store.deleteRole('reader'), true);
        assert.equal(await store.deleteRole('reader'), false);
        assert.equal(await store.deleteRole('nope'), false);
        assert.deepEqual(await store.listRoles(), [{ name: 'writer', permissions: ['docs:write'] }]);
        assert.deepEqual(await store.permissionsOf(['reader']), []);
      });

      it('permissionsOf merges roles, once each permission, ignoring unknown names', async () => {
        await store.putRole({ name: 'reader', permissions: ['docs:read', 'files:read'] });
        await store.putRole({ name: 'writer', permissions: ['docs:read', 'docs:write'] });
        await store.putRole({ name: 'auditor', permissions: ['audit:read'] });
        assert.deepEqual(sorted(await store.permissionsOf(['reader', 'writer'])), ['docs:read', 'docs:write', 'files:read']);
        assert.deepEqual(sorted(await store.permissionsOf(['writer', 'ghost', 'writer'])), ['docs:read', 'docs:write']);
        assert.deepEqual(await store.permissionsOf(['ghost']), []);
        assert.deepEqual(await store.permissionsOf([]), []);
      });
    });

    describe('clients', () => {
      it('creates a client and reads it back, every field intact', async () => {
        const c = aClient({
          id: 'orders',
          authMethod: 'private_key_jwt',
          secrets: [],
          jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1', use: 'sig' }] },
          firstParty: true,
          accessTokenTtl: 300,
          refreshTokenTtl: 86400,
          disabled: true,
        });
        await store.createClient(c);
        await store.createClient(aClient({ id: 'billing' }));
        assert.deepEqual(await store.getClient('orders'), c);
        assert.deepEqual(await store.getClient('billing'), aClient({ id: 'billing' }));
        assert.equal(await store.getClient('nope'), undefined);
      });

      it('refuses a duplicate id with StoreConflictError and keeps the first client', async () => {
        await store.createClient(aClient({ id: 'orders', name: 'Orders' }));
        await assert.rejects(store.createClient(aClient({ id: 'orders', name: 'Impostor' })), isConflict);
        assert.equal((await store.getClient('orders'))?.name, 'Orders');
      });

      it('lists every client', async () => {
        for (const id of ['orders', 'billing', 'search']) await store.createClient(aClient({ id }));
        assert.deepEqual(
          (await store.listClients()).map((c) => c.id),
          ['billing', 'orders', 'search'],
        );
        assert.deepEqual(
          (await store.listClients()).find((c) => c.id === 'search'),
          aClient({ id: 'search' }),
        );
      });

      it('updates each field alone, stamping updatedAt and leaving the rest', async () => {
        const c = aClient({ id: 'orders' });
        await store.createClient(c);
        await store.createClient(aClient({ id: 'billing' }));
        const patches: Parameters<Store['updateClient']>[1][] = [
          { name: 'Orders v2' },
          { authMethod: 'client_secret_post' },
          {
            secrets: [
              { digest: 'new-digest', createdAt: T0 + 5, expiresAt: null },
              { digest: 'old-digest', createdAt: T0, expiresAt: T0 + 3_600_000 },
            ],
          },
          { secrets: [] },
          { jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'e1' }] } },
          { jwks: null },
          { grantTypes: ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
          { scopes: ['a:read', 'b:write'] },
          { scopes: [] },
          { audiences: ['inventory', 'https://api.example.com'] },
          { firstParty: true },
          { firstParty: false },
          { accessTokenTtl: 120 },
          { accessTokenTtl: null },
          { refreshTokenTtl: 7200 },
          { refreshTokenTtl: null },
          { disabled: true },
          { disabled: false },
          { name: 'Orders v3', scopes: ['c:read'], disabled: true },
        ];
        let expected = c;
        let now = T0;
        for (const patch of patches) {
          now += 1000;
          assert.equal(await store.updateClient('orders', patch, now), true, JSON.stringify(patch));
          expected = { ...expected, ...patch, updatedAt: now };
          assert.deepEqual(await store.getClient('orders'), expected, JSON.stringify(patch));
        }
        assert.deepEqual(await store.getClient('billing'), aClient({ id: 'billing' }));
      });

      it('answers false when updating an unknown id', async () => {
        assert.equal(await store.updateClient('nope', { name: 'x' }, T0), false);
        assert.equal(await store.getClient('nope'), undefined);
      });

      it('deletes a client once', async () => {
        await store.createClient(aClient({ id: 'orders' }));
        await store.createClient(aClient({ id: 'billing' }));
        assert.equal(await store.deleteClient('orders'), true);
        assert.equal(await store.getClient('orders'), undefined);
        assert.equal(await store.deleteClient('orders'), false);
        assert.deepEqual(
          (await store.listClients()).map((c) => c.id),
          ['billing'],
        );
        // The id is free again.
        await store.createClient(aClient({ id: 'orders', name: 'Reborn' }));
        assert.equal((await store.getClient('orders'))?.name, 'Reborn');
      });
    });

    describe('refresh token families', () => {
      it('creates a family with its first token; finds both', async () => {
        const f = aFamily({ id: 'f1' });
        const t = aToken('d1', 'f1');
        await store.createRefreshFamily(f, t);
        assert.deepEqual(await store.findRefreshToken('d1'), { token: t, family: f });
        assert.deepEqual(await store.getRefreshFamily('f1'), f);
        assert.equal(await store.findRefreshToken('nope'), undefined);
        assert.equal(await store.getRefreshFamily('nope'), undefined);
      });

      it('rotates: the old digest is spent, the new one is live, the family is touched', async () => {
        const f = aFamily({ id: 'f1' });
        await store.createRefreshFamily(f, aToken('d1', 'f1'));
        const now = T0 + 60_000;
        const r = await store.rotateRefreshToken(
          'd1',
          { digest: 'd2', createdAt: now, expiresAt: now + HOUR, usedAt: null },
          now,
          REUSE,
        );
        assert.deepEqual(r, { kind: 'rotated', family: { ...f, lastUsedAt: now } });
        assert.deepEqual(await store.findRefreshToken('d1'), {
          token: { ...aToken('d1', 'f1'), usedAt: now },
          family: { ...f, lastUsedAt: now },
        });
        assert.deepEqual(await store.findRefreshToken('d2'), {
          token: { digest: 'd2', familyId: 'f1', createdAt: now, expiresAt: now + HOUR, usedAt: null },
          family: { ...f, lastUsedAt: now },
        });
        // The new token rotates in turn.
        const later = now + 60_000;
        const r2 = await store.rotateRefreshToken(
          'd2',
          { digest: 'd3', createdAt: later, expiresAt: later + HOUR, usedAt: null },
          later,
          REUSE,
        );
        assert.equal(r2.kind, 'rotated');
        assert.equal((await store.findRefreshToken('d3'))?.token.usedAt, null);
        assert.equal((await store.getRefreshFamily('f1'))?.lastUsedAt, later);
      });

      it('a second use of a spent digest is `reused` and revokes the family (reason reuse)', async () => {
        const f = aFamily({ id: 'f1' });
        await store.createRefreshFamily(f, aToken('d1', 'f1'));
        const t1 = T0 + 1000;
        assert.equal((await store.rotateRefreshToken('d1', next('d2', t1), t1, REUSE)).kind, 'rotated');
        const t2 = T0 + 2000;
        const r = await store.rotateRefreshToken('d1', next('d3', t2), t2, REUSE);
        assert.equal(r.kind, 'reused');
        assert.ok(r.kind === 'reused');
        assert.equal(r.family.id, 'f1');
        assert.equal(r.family.revokedAt, t2);
        assert.equal(r.family.revokedReason, 'reuse');
        assert.deepEqual(await store.getRefreshFamily('f1'), { ...f, lastUsedAt: t1, revokedAt: t2, revokedReason: 'reuse' });
        assert.equal(await store.findRefreshToken('d3'), undefined);
        // The token that was live is dead with its family.
        const t3 = T0 + 3000;
        assert.deepEqual(await store.rotateRefreshToken('d2', next('d4', t3), t3, REUSE), { kind: 'invalid', reason: 'revoked' });
        assert.equal(await store.findRefreshToken('d4'), undefined);
        // A third use of the spent digest is still a reuse; the first revocation stands.
        const again = await store.rotateRefreshToken('d1', next('d5', t3), t3, REUSE);
        assert.equal(again.kind, 'reused');
        assert.equal((await store.getRefreshFamily('f1'))?.revokedAt, t2);
      });

      it('refuses an unknown digest (invalid/unknown) and stores nothing', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        assert.deepEqual(await store.rotateRefreshToken('nope', next('d2', T0), T0, REUSE), {
          kind: 'invalid',
          reason: 'unknown',
        });
        assert.equal(await store.findRefreshToken('d2'), undefined);
        assert.equal((await store.findRefreshToken('d1'))?.token.usedAt, null);
      });

      it('refuses an expired token (invalid/expired) and stores no successor', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1', { expiresAt: T0 + HOUR }));
        const now = T0 + HOUR;
        assert.deepEqual(await store.rotateRefreshToken('d1', next('d2', now), now, REUSE), {
          kind: 'invalid',
          reason: 'expired',
        });
        assert.equal(await store.findRefreshToken('d2'), undefined);
        assert.equal((await store.getRefreshFamily('f1'))?.revokedAt, null);
        // Presented again (a client retrying): still expired, not mistaken for a reuse.
        assert.deepEqual(await store.rotateRefreshToken('d1', next('d3', now), now, REUSE), {
          kind: 'invalid',
          reason: 'expired',
        });
        assert.equal((await store.getRefreshFamily('f1'))?.revokedAt, null);
      });

      it('refuses a token whose family is past its absolute expiry (invalid/expired)', async () => {
        await store.createRefreshFamily(
          aFamily({ id: 'f1', absoluteExpiresAt: T0 + HOUR }),
          aToken('d1', 'f1', { expiresAt: T0 + DAY }),
        );
        const now = T0 + HOUR + 1;
        assert.deepEqual(await store.rotateRefreshToken('d1', next('d2', now), now, REUSE), {
          kind: 'invalid',
          reason: 'expired',
        });
        assert.equal(await store.findRefreshToken('d2'), undefined);
      });

      it('refuses a token of a revoked family (invalid/revoked) and stores no successor', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        assert.ok(await store.revokeRefreshFamily('f1', 'logout', T0 + 1, RECORD));
        assert.deepEqual(await store.rotateRefreshToken('d1', next('d2', T0 + 2), T0 + 2, REUSE), {
          kind: 'invalid',
          reason: 'revoked',
        });
        assert.equal(await store.findRefreshToken('d2'), undefined);
        assert.equal((await store.getRefreshFamily('f1'))?.revokedReason, 'logout');
      });

      it("clamps the new token's expiry to the family's absolute expiry", async () => {
        const abs = T0 + 2 * HOUR;
        await store.createRefreshFamily(aFamily({ id: 'f1', absoluteExpiresAt: abs }), aToken('d1', 'f1'));
        const now = T0 + HOUR;
        const r = await store.rotateRefreshToken(
          'd1',
          { digest: 'd2', createdAt: now, expiresAt: now + DAY, usedAt: null },
          now,
          REUSE,
        );
        assert.equal(r.kind, 'rotated');
        assert.equal((await store.findRefreshToken('d2'))?.token.expiresAt, abs);
        // An expiry already within the bound is kept as given.
        const later = now + 1000;
        await store.rotateRefreshToken(
          'd2',
          { digest: 'd3', createdAt: later, expiresAt: later + 1000, usedAt: null },
          later,
          REUSE,
        );
        assert.equal((await store.findRefreshToken('d3'))?.token.expiresAt, later + 1000);
      });

      it('rotates exactly once: of 50 concurrent calls with one digest, one rotates, 49 see reused', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        const now = T0 + 1000;
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.rotateRefreshToken('d1', next(`next-${i}`, now), now, REUSE)),
        );
        const kinds = results.map((r) => r.kind);
        assert.equal(kinds.filter((k) => k === 'rotated').length, 1, JSON.stringify(kinds));
        assert.equal(kinds.filter((k) => k === 'reused').length, 49, JSON.stringify(kinds));
        const family = await store.getRefreshFamily('f1');
        assert.equal(family?.revokedReason, 'reuse');
        assert.equal(family?.revokedAt, now);
        const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => store.findRefreshToken(`next-${i}`)));
        assert.equal(stored.filter((s) => s !== undefined).length, 1);
      });

      it('revokeRefreshFamily is idempotent: the second call writes no record and keeps the first reason', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        assert.ok(await store.revokeRefreshFamily('f1', 'logout', T0 + 5, RECORD));
        assert.equal(await store.revokeRefreshFamily('f1', 'admin', T0 + 9, RECORD), undefined);
        assert.equal(await store.revokeRefreshFamily('nope', 'admin', T0 + 9, RECORD), undefined);
        const f = await store.getRefreshFamily('f1');
        assert.equal(f?.revokedAt, T0 + 5);
        assert.equal(f?.revokedReason, 'logout');
      });

      it('lists families filtered by user, client and liveness', async () => {
        await seedFamilies(store);
        await store.revokeRefreshFamily('f-alice-web-old', 'logout', T0 + 10, RECORD);
        const ids = async (filter: Parameters<Store['listRefreshFamilies']>[0]) =>
          sorted((await store.listRefreshFamilies(filter)).map((f) => f.id));
        assert.deepEqual(await ids({}), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short']);
        assert.deepEqual(await ids({ userId: 'alice' }), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old']);
        assert.deepEqual(await ids({ clientId: 'web' }), ['f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short']);
        assert.deepEqual(await ids({ userId: 'alice', clientId: 'web' }), ['f-alice-web', 'f-alice-web-old']);
        assert.deepEqual(await ids({ userId: 'carol' }), []);
        // Live at a time: not revoked and before the absolute expiry.
        assert.deepEqual(await ids({ activeAt: T0 + 100 }), ['f-alice-cli', 'f-alice-web', 'f-bob-web', 'f-bob-web-short']);
        assert.deepEqual(await ids({ activeAt: T0 + HOUR }), ['f-alice-cli', 'f-alice-web', 'f-bob-web']);
        assert.deepEqual(await ids({ userId: 'bob', activeAt: T0 + HOUR }), ['f-bob-web']);
        assert.deepEqual(await store.listRefreshFamilies({ userId: 'alice', clientId: 'cli' }), [
          aFamily({ id: 'f-alice-cli', userId: 'alice', clientId: 'cli' }),
        ]);
      });

      it('revokeRefreshFamiliesOf a user revokes his live families only and returns their ids', async () => {
        await seedFamilies(store);
        await store.revokeRefreshFamily('f-alice-web-old', 'logout', T0 + 10, RECORD);
        const now = T0 + 20;
        assert.deepEqual(
          sorted((await store.revokeRefreshFamiliesOf({ userId: 'alice' }, 'user_disabled', now, RECORD)).families),
          ['f-alice-cli', 'f-alice-web'],
        );
        for (const id of ['f-alice-cli', 'f-alice-web']) {
          const f = await store.getRefreshFamily(id);
          assert.equal(f?.revokedAt, now);
          assert.equal(f?.revokedReason, 'user_disabled');
        }
        assert.equal((await store.getRefreshFamily('f-alice-web-old'))?.revokedReason, 'logout');
        assert.equal((await store.getRefreshFamily('f-bob-web'))?.revokedAt, null);
        assert.deepEqual((await store.revokeRefreshFamiliesOf({ userId: 'alice' }, 'again', now + 1, RECORD)).families, []);
        assert.deepEqual((await store.revokeRefreshFamiliesOf({ userId: 'carol' }, 'again', now + 1, RECORD)).families, []);
      });

      it('revokeRefreshFamiliesOf a client revokes its live families only and returns their ids', async () => {
        await seedFamilies(store);
        const now = T0 + 20;
        assert.deepEqual(
          sorted((await store.revokeRefreshFamiliesOf({ clientId: 'web' }, 'client_deleted', now, RECORD)).families),
          ['f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short'],
        );
        assert.equal((await store.getRefreshFamily('f-bob-web'))?.revokedReason, 'client_deleted');
        assert.equal((await store.getRefreshFamily('f-alice-cli'))?.revokedAt, null);
        assert.deepEqual(await store.rotateRefreshToken('d-bob-web', next('n', now), now, REUSE), {
          kind: 'invalid',
          reason: 'revoked',
        });
        assert.deepEqual((await store.revokeRefreshFamiliesOf({ clientId: 'web' }, 'again', now + 1, RECORD)).families, []);
      });

      it('revokeRefreshFamiliesOf throws without a user or a client and revokes nothing', async () => {
        await seedFamilies(store);
        await assert.rejects(store.revokeRefreshFamiliesOf({}, 'everything', T0 + 20, RECORD));
        assert.equal((await store.listRefreshFamilies({ activeAt: T0 + 100 })).length, 5);
      });
    });

    describe('every revocation is one transaction (a fault between the writes)', () => {
      const revoked = async () => (await store.listRevocations(T0)).map((r) => `${r.kind}:${r.value}`);

      it('crash-between-family-revoke-and-its-record: the family stays live, and the retry revokes and announces it', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        const heal = await refuseWrites(store, 'revocations', 'insert');
        await assert.rejects(store.revokeRefreshFamily('f1', 'revoked', T0 + 5, RECORD));
        assert.equal((await store.getRefreshFamily('f1'))?.revokedAt, null, 'no family revoked without its record');
        assert.deepEqual(await revoked(), []);
        await heal();
        const r = await store.revokeRefreshFamily('f1', 'revoked', T0 + 6, RECORD);
        assert.equal(r?.kind, 'family');
        assert.equal(r?.value, 'f1');
        assert.equal(r?.expiresAt, RECORD.expiresAt);
        assert.equal(r?.reason, RECORD.reason);
        assert.equal((await store.getRefreshFamily('f1'))?.revokedAt, T0 + 6);
        assert.deepEqual(await revoked(), ['family:f1']);
      });

      it('half-done-revoke-by-an-older-version: a family revoked without its record is announced by the retry, once', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        // What a crash between the two writes of an older version left: the family revoked, no record.
        await execute(store, `update refresh_families set revoked_at = ${T0 + 1}, revoked_reason = 'revoked' where id = 'f1'`);
        const r = await store.revokeRefreshFamily('f1', 'revoked', T0 + 9, RECORD);
        assert.equal(r?.value, 'f1');
        const f = await store.getRefreshFamily('f1');
        assert.equal(f?.revokedAt, T0 + 1, 'the first revocation time stands');
        assert.equal(f?.revokedReason, 'revoked');
        assert.equal(await store.revokeRefreshFamily('f1', 'revoked', T0 + 10, RECORD), undefined);
        assert.deepEqual(await revoked(), ['family:f1']);
      });

      it('refresh-token-replay-flood: replays of a spent token revoke and announce the family once', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        assert.equal((await store.rotateRefreshToken('d1', next('d2', T0 + 1), T0 + 1, REUSE)).kind, 'rotated');
        const first = await store.rotateRefreshToken('d1', next('d3', T0 + 2), T0 + 2, REUSE);
        assert.ok(first.kind === 'reused');
        assert.equal(first.revocation?.kind, 'family');
        assert.equal(first.revocation?.value, 'f1');
        assert.equal(first.revocation?.reason, 'refresh_token_reuse');
        for (let i = 0; i < 5; i++) {
          const again = await store.rotateRefreshToken('d1', next(`r${i}`, T0 + 3 + i), T0 + 3 + i, REUSE);
          assert.ok(again.kind === 'reused');
          assert.equal(again.revocation, undefined, 'a later replay writes no record');
        }
        assert.deepEqual(await revoked(), ['family:f1']);
      });

      it('of 50 concurrent replays of a spent token, exactly one writes the reuse record', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        await store.rotateRefreshToken('d1', next('d2', T0 + 1), T0 + 1, REUSE);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.rotateRefreshToken('d1', next(`c${i}`, T0 + 2), T0 + 2, REUSE)),
        );
        assert.ok(results.every((r) => r.kind === 'reused'));
        assert.equal(results.filter((r) => r.kind === 'reused' && r.revocation).length, 1);
        assert.deepEqual(await revoked(), ['family:f1']);
      });

      it('crash-between-reuse-revoke-and-its-record: the family stays live and the next replay revokes and announces it', async () => {
        await store.createRefreshFamily(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
        await store.rotateRefreshToken('d1', next('d2', T0 + 1), T0 + 1, REUSE);
        const heal = await refuseWrites(store, 'revocations', 'insert');
        await assert.rejects(store.rotateRefreshToken('d1', next('d3', T0 + 2), T0 + 2, REUSE));
        assert.equal((await store.getRefreshFamily('f1'))?.revokedAt, null);
        await heal();
        const r = await store.rotateRefreshToken('d1', next('d4', T0 + 3), T0 + 3, REUSE);
        assert.ok(r.kind === 'reused' && r.revocation);
        assert.deepEqual(await revoked(), ['family:f1']);
      });

      it('crash-between-cutoff-and-its-families: revoking everything of a user is both or neither', async () => {
        await seedFamilies(store);
        const heal = await refuseWrites(store, 'revocations', 'insert');
        await assert.rejects(store.revokeRefreshFamiliesOf({ userId: 'alice' }, 'user_disabled', T0 + 20, RECORD));
        assert.equal((await store.listRefreshFamilies({ userId: 'alice', activeAt: T0 + 30 })).length, 3);
        await heal();
        // The other way round: the families' update refused after the record was written.
        const heal2 = await refuseWrites(store, 'refresh_families', 'update');
        await assert.rejects(store.revokeRefreshFamiliesOf({ userId: 'alice' }, 'user_disabled', T0 + 20, RECORD));
        assert.deepEqual(await revoked(), []);
        await heal2();
        const { families, revocation } = await store.revokeRefreshFamiliesOf(
          { userId: 'alice' },
          'user_disabled',
          T0 + 21,
          RECORD,
        );
        assert.deepEqual(sorted(families), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old']);
        assert.equal(revocation.kind, 'subject');
        assert.equal(revocation.value, 'alice');
        assert.equal(revocation.cutoff, T0 + 21);
        assert.deepEqual(await revoked(), ['subject:alice']);
        // Families revoked with the cut-off are announced by it: revoking one of them again writes nothing.
        assert.equal(await store.revokeRefreshFamily('f-alice-web', 'revoked', T0 + 22, RECORD), undefined);
      });

      it('crash-between-key-retire-and-activate: promoteKey is both or neither', async () => {
        await store.insertKey(aKey({ kid: 'k1', state: 'active' }));
        await store.insertKey(aKey({ kid: 'k2', state: 'next', activatesAt: T0 + DAY }));
        const heal = await refuseWrites(store, 'signing_keys', 'update', `NEW.state = 'active'`);
        await assert.rejects(
          store.promoteKey({ kid: 'k1', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY }, { kid: 'k2', activatesAt: T0 + DAY }),
        );
        const states = async () => (await store.listKeys()).map((k) => `${k.kid}:${k.state}`).sort();
        assert.deepEqual(await states(), ['k1:active', 'k2:next'], 'never a moment with no active key');
        await heal();
        await store.promoteKey(
          { kid: 'k1', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY },
          { kid: 'k2', activatesAt: T0 + DAY + 1 },
        );
        const keys = await store.listKeys();
        assert.deepEqual(
          keys.find((k) => k.kid === 'k1'),
          aKey({ kid: 'k1', state: 'retired', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY }),
        );
        assert.deepEqual(
          keys.find((k) => k.kid === 'k2'),
          aKey({ kid: 'k2', state: 'active', activatesAt: T0 + DAY + 1 }),
        );
      });
    });

    describe('revocations', () => {
      it('addRevocation stores every field and assigns strictly increasing seq', async () => {
        const given: Omit<Revocation, 'seq'>[] = [
          { kind: 'jti', value: 'j1', cutoff: null, expiresAt: T0 + HOUR, createdAt: T0, reason: 'logout' },
          { kind: 'subject', value: 'alice', cutoff: T0 + 5, expiresAt: T0 + DAY, createdAt: T0 + 5, reason: 'password_reset' },
          { kind: 'client', value: 'orders', cutoff: T0 + 6, expiresAt: T0 + DAY, createdAt: T0 + 6, reason: 'admin' },
          { kind: 'family', value: 'f1', cutoff: null, expiresAt: T0 + HOUR, createdAt: T0 + 7, reason: 'refresh_token_reuse' },
        ];
        const added: Revocation[] = [];
        for (const r of given) added.push(await store.addRevocation(r));
        added.forEach((r, i) => {
          assert.deepEqual({ ...r, seq: undefined }, { ...given[i], seq: undefined });
          assert.equal(typeof r.seq, 'number');
          if (i > 0) assert.ok(r.seq > added[i - 1]!.seq, `seq ${r.seq} after ${added[i - 1]!.seq}`);
        });
        assert.deepEqual(await store.listRevocations(T0), added);
      });

      it('listRevocations(now, afterSeq) answers the records still in force after afterSeq, in seq order', async () => {
        const a = await store.addRevocation(aRevocation('a', T0 + HOUR));
        const b = await store.addRevocation(aRevocation('b', T0 + 10));
        const c = await store.addRevocation(aRevocation('c', T0 + DAY));
        const d = await store.addRevocation(aRevocation('d', T0 + HOUR));
        assert.deepEqual(await store.listRevocations(T0), [a, b, c, d]);
        assert.deepEqual(await store.listRevocations(T0 + 10), [a, c, d]);
        assert.deepEqual(await store.listRevocations(T0 + 10, a.seq), [c, d]);
        assert.deepEqual(await store.listRevocations(T0, c.seq), [d]);
        assert.deepEqual(await store.listRevocations(T0, d.seq), []);
        assert.deepEqual(await store.listRevocations(T0 + HOUR), [c]);
        assert.deepEqual(await store.listRevocations(T0 + DAY), []);
      });

      it('pruneRevocations forgets the expired records and returns how many', async () => {
        const a = await store.addRevocation(aRevocation('a', T0 + HOUR));
        await store.addRevocation(aRevocation('b', T0 + 10));
        await store.addRevocation(aRevocation('c', T0 + 20));
        assert.equal(await store.pruneRevocations(T0), 0);
        assert.equal(await store.pruneRevocations(T0 + 20), 2);
        assert.equal(await store.pruneRevocations(T0 + 20), 0);
        // Expired records are gone even for a reader looking from the past.
        assert.deepEqual(await store.listRevocations(T0), [a]);
      });

      it('never reuses a seq, even that of a pruned record', async () => {
        await store.addRevocation(aRevocation('a', T0 + HOUR));
        const b = await store.addRevocation(aRevocation('b', T0 + 10));
        assert.equal(await store.pruneRevocations(T0 + 10), 1);
        const c = await store.addRevocation(aRevocation('c', T0 + HOUR));
        assert.ok(c.seq > b.seq, `seq ${c.seq} after pruned ${b.seq}`);
        assert.deepEqual(await store.listRevocations(T0, b.seq), [c]);
      });
    });

    describe('signing keys', () => {
      it('inserts keys and lists them by activatesAt, every field intact', async () => {
        const k2 = aKey({ kid: 'k2', state: 'next', activatesAt: T0 + DAY });
        const k1 = aKey({ kid: 'k1', state: 'active', activatesAt: T0 });
        const k0 = aKey({ kid: 'k0', state: 'retired', activatesAt: T0 - DAY, retiredAt: T0, removeAfter: T0 + HOUR });
        const hs = aKey({
          kid: 'hs',
          alg: 'HS256',
          state: 'removed',
          publicJwk: null,
          activatesAt: T0 - 2 * DAY,
          retiredAt: T0 - DAY,
          removeAfter: T0,
        });
        for (const k of [k2, k1, hs, k0]) await store.insertKey(k);
        assert.deepEqual(await store.listKeys(), [hs, k0, k1, k2]);
      });

      it('updates each field alone and leaves the rest', async () => {
        const k = aKey({ kid: 'k1', state: 'next', activatesAt: T0 + DAY });
        const other = aKey({ kid: 'k0', state: 'active', activatesAt: T0 });
        await store.insertKey(k);
        await store.insertKey(other);
        const patches: Parameters<Store['updateKey']>[1][] = [
          { state: 'active' },
          { activatesAt: T0 + HOUR },
          { retiredAt: T0 + 2 * DAY },
          { removeAfter: T0 + 3 * DAY },
          { state: 'retired', retiredAt: T0 + 4 * DAY, removeAfter: T0 + 5 * DAY },
          { retiredAt: null, removeAfter: null },
          { state: 'removed' },
        ];
        let expected = k;
        for (const patch of patches) {
          await store.updateKey('k1', patch);
          expected = { ...expected, ...patch };
          assert.deepEqual(
            (await store.listKeys()).find((x) => x.kid === 'k1'),
            expected,
            JSON.stringify(patch),
          );
        }
        assert.deepEqual(
          (await store.listKeys()).find((x) => x.kid === 'k0'),
          other,
        );
      });

      it('reorders the list when activatesAt changes', async () => {
        await store.insertKey(aKey({ kid: 'k1', activatesAt: T0 }));
        await store.insertKey(aKey({ kid: 'k2', activatesAt: T0 + DAY }));
        await store.updateKey('k2', { activatesAt: T0 - DAY });
        assert.deepEqual(
          (await store.listKeys()).map((k) => k.kid),
          ['k2', 'k1'],
        );
      });
    });

    describe('audit', () => {
      it('pruneAudit deletes the events older than a time, oldest first, at most a batch at a time', async () => {
        const ids = await seedAudit(store);
        // Events at T0 .. T0 + 6 s: four are older than T0 + 3.5 s.
        assert.equal(await store.pruneAudit(T0 + 3500, 3), 3);
        const left = async () => (await store.queryAudit({ limit: 500 })).map((e) => e.id).reverse();
        assert.deepEqual(await left(), ids.slice(3));
        assert.equal(await store.pruneAudit(T0 + 3500, 3), 1);
        assert.equal(await store.pruneAudit(T0 + 3500, 3), 0);
        assert.deepEqual(await left(), ids.slice(4));
      });

      it('appendAudit returns increasing ids; the event round-trips, data as JSON', async () => {
        const e = anEvent({
          type: 'admin.user.created',
          outcome: 'success',
          actor: 'admin-cli',
          subject: 'u1',
          clientId: 'orders',
          ip: '2001:db8::1',
          data: { username: 'alice', roles: ['a', 'b'], nested: { n: 1.5, ok: true, none: null }, text: 'naïve ☃ "quoted"' },
        });
        const id1 = await store.appendAudit(e);
        const id2 = await store.appendAudit(anEvent({ type: 'login.failure', outcome: 'failure', data: {} }));
        const id3 = await store.appendAudit(anEvent({ type: 'anomaly.login_burst', outcome: 'info' }));
        assert.equal(typeof id1, 'number');
        assert.ok(id1 < id2 && id2 < id3, `${id1} < ${id2} < ${id3}`);
        const all = await store.queryAudit({ limit: 10 });
        assert.deepEqual(
          all.map((x) => x.id),
          [id3, id2, id1],
        );
        assert.deepEqual(all[2], { ...e, id: id1 });
        assert.deepEqual(all[1]?.data, {});
        assert.equal(all[1]?.actor, null);
      });

      it('queryAudit filters by type, by `prefix.*`, by subject, by time; newest first', async () => {
        const ids = await seedAudit(store);
        const q = async (f: Omit<Parameters<Store['queryAudit']>[0], 'limit'>) =>
          (await store.queryAudit({ limit: 100, ...f })).map((e) => e.id);
        assert.deepEqual(await q({}), [...ids].reverse());
        assert.deepEqual(await q({ type: 'login.success' }), [ids[4], ids[0]]);
        assert.deepEqual(await q({ type: 'login' }), []);
        assert.deepEqual(await q({ type: 'login.*' }), [ids[4], ids[1], ids[0]]);
        assert.deepEqual(await q({ type: 'admin.*' }), [ids[5], ids[3], ids[2]]);
        assert.deepEqual(await q({ type: 'admin.user.*' }), [ids[5], ids[2]]);
        // A prefix is literal text: no case folding, no wildcard characters, no partial segment.
        assert.deepEqual(await q({ type: 'ADMIN.*' }), []);
        assert.deepEqual(await q({ type: 'admin_user.*' }), []);
        assert.deepEqual(await q({ type: 'adm.*' }), []);
        assert.deepEqual(await q({ subject: 'alice' }), [ids[4], ids[2], ids[0]]);
        assert.deepEqual(await q({ subject: 'nobody' }), []);
        // from is inclusive, to exclusive.
        assert.deepEqual(await q({ from: T0 + 2000 }), [ids[6], ids[5], ids[4], ids[3], ids[2]]);
        assert.deepEqual(await q({ to: T0 + 2000 }), [ids[1], ids[0]]);
        assert.deepEqual(await q({ from: T0 + 2000, to: T0 + 4000 }), [ids[3], ids[2]]);
        assert.deepEqual(await q({ type: 'login.*', subject: 'alice', from: T0 + 1000 }), [ids[4]]);
      });

      it('queryAudit pages newest first with limit and the `before` cursor', async () => {
        const ids = await seedAudit(store);
        const newestFirst = [...ids].reverse();
        const seen: number[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await store.queryAudit({ limit: 3, ...(before !== undefined ? { before } : {}) });
          assert.ok(page.length <= 3);
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.id));
          before = page[page.length - 1]!.id;
        }
        assert.deepEqual(seen, newestFirst);
        assert.deepEqual(
          (await store.queryAudit({ limit: 2, before: ids[3]! })).map((e) => e.id),
          [ids[2], ids[1]],
        );
        assert.deepEqual(
          (await store.queryAudit({ limit: 10, type: 'login.*', before: ids[4]! })).map((e) => e.id),
          [ids[1], ids[0]],
        );
        assert.deepEqual(await store.queryAudit({ limit: 10, before: ids[0]! }), []);
      });
    });

    describe('leases', () => {
      it('gives a free lease to its first taker and refuses another holder while it is in force', async () => {
        assert.equal(await store.acquireLease('job', 'a', 1000, T0), true);
        assert.equal(await store.acquireLease('job', 'b', 1000, T0 + 1), false);
        assert.equal(await store.acquireLease('job', 'b', 1000, T0 + 999), false);
        // Leases of other names are independent.
        assert.equal(await store.acquireLease('other-job', 'b', 1000, T0 + 1), true);
        assert.equal(await store.acquireLease('other-job', 'a', 1000, T0 + 2), false);
      });

      it('gives an expired lease to the next taker; the former holder is then refused', async () => {
        assert.equal(await store.acquireLease('job', 'a', 1000, T0), true);
        assert.equal(await store.acquireLease('job', 'b', 1000, T0 + 1000), true);
        assert.equal(await store.acquireLease('job', 'a', 1000, T0 + 1001), false);
        assert.equal(await store.acquireLease('job', 'b', 1000, T0 + 1500), true);
      });

      it('renews the lease of its holder from the time of the renewal', async () => {
        assert.equal(await store.acquireLease('job', 'a', 1000, T0), true);
        assert.equal(await store.acquireLease('job', 'a', 1000, T0 + 900), true);
        assert.equal(await store.acquireLease('job', 'b', 1000, T0 + 1500), false, 'renewed until T0 + 1900');
        assert.equal(await store.acquireLease('job', 'b', 1000, T0 + 1900), true);
      });

      it('frees a lease on release by its holder only', async () => {
        assert.equal(await store.acquireLease('job', 'a', HOUR, T0), true);
        await store.releaseLease('job', 'b');
        assert.equal(await store.acquireLease('job', 'b', HOUR, T0 + 1), false, 'released by another holder: still held');
        await store.releaseLease('job', 'a');
        assert.equal(await store.acquireLease('job', 'b', HOUR, T0 + 2), true);
        assert.equal(await store.acquireLease('job', 'a', HOUR, T0 + 3), false);
        // Releasing what one does not hold, or what does not exist, is no error.
        await store.releaseLease('job', 'a');
        await store.releaseLease('nothing', 'a');
        assert.equal(await store.acquireLease('job', 'a', HOUR, T0 + 4), false);
      });

      it('gives a lease to exactly one of 20 concurrent takers, free or expired', async () => {
        const free = await Promise.all(Array.from({ length: 20 }, (_, i) => store.acquireLease('job', `h${i}`, 1000, T0)));
        assert.equal(free.filter(Boolean).length, 1);
        const expired = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.acquireLease('job', `late${i}`, 1000, T0 + 1000)),
        );
        assert.equal(expired.filter(Boolean).length, 1);
      });
    });

    describe('client assertion jtis', () => {
      it('accepts a jti once per client, refuses the replay, forgets it after expiry', async () => {
        const exp = T0 + 60_000;
        assert.equal(await store.useAssertionJti('orders', 'j1', exp, T0), true);
        assert.equal(await store.useAssertionJti('orders', 'j1', exp, T0 + 1), false);
        assert.equal(await store.useAssertionJti('billing', 'j1', exp, T0 + 2), true);
        assert.equal(await store.useAssertionJti('billing', 'j1', exp, T0 + 3), false);
        assert.equal(await store.useAssertionJti('orders', 'j2', exp, T0 + 4), true);
        assert.equal(await store.useAssertionJti('orders', 'j1', exp, exp - 1), false);
        // Once expired the record is pruned, so the jti is usable again (the assertion's own exp guards it).
        assert.equal(await store.useAssertionJti('orders', 'j1', exp + 60_000, exp), true);
        assert.equal(await store.useAssertionJti('orders', 'j1', exp + 60_000, exp + 1), false);
      });

      it('accepts one of many concurrent uses of a jti', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.useAssertionJti('orders', 'j1', T0 + 60_000, T0)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });
    });
  });
}

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const sorted = (xs: string[]) => [...xs].sort();

function isConflict(err: unknown): boolean {
  assert.ok(err instanceof StoreConflictError, `expected StoreConflictError, got ${String(err)}`);
  return true;
}

function aUser(u: Partial<User> & Pick<User, 'id' | 'username'>): User {
  return { passwordHash: `$argon2id$v=19$${u.id}`, disabled: false, roles: [], createdAt: T0, updatedAt: T0, ...u };
}

function aClient(c: Partial<Client> & Pick<Client, 'id'>): Client {
  return {
    name: `Client ${c.id}`,
    authMethod: 'client_secret_basic',
    secrets: [{ digest: `digest-${c.id}`, createdAt: T0, expiresAt: null }],
    jwks: null,
    grantTypes: ['client_credentials'],
    scopes: ['inventory:read'],
    audiences: ['inventory'],
    firstParty: false,
    accessTokenTtl: null,
    refreshTokenTtl: null,
    disabled: false,
    createdAt: T0,
    updatedAt: T0,
    ...c,
  };
}

function aFamily(f: Partial<RefreshFamily> & Pick<RefreshFamily, 'id'>): RefreshFamily {
  return {
    userId: 'alice',
    clientId: 'web',
    scope: 'docs:read docs:write',
    audience: ['docs', 'files'],
    createdAt: T0,
    absoluteExpiresAt: T0 + 30 * DAY,
    lastUsedAt: T0,
    revokedAt: null,
    revokedReason: null,
    ...f,
  };
}

function aToken(digest: string, familyId: string, t: Partial<RefreshToken> = {}): RefreshToken {
  return { digest, familyId, createdAt: T0, expiresAt: T0 + DAY, usedAt: null, ...t };
}

/** The record of a family's revocation, as the callers pass it. */
const RECORD = { expiresAt: T0 + DAY, reason: 'test' };
/** The record of a reuse, as the refresh grant passes it. */
const REUSE = { expiresAt: T0 + DAY, reason: 'refresh_token_reuse' };

/** The successor passed to rotateRefreshToken. */
function next(digest: string, now: number): Omit<RefreshToken, 'familyId'> {
  return { digest, createdAt: now, expiresAt: now + DAY, usedAt: null };
}

/** Five families: alice on web (live, and an old one), alice on cli, bob on web (long, and one ending at T0 + HOUR). */
async function seedFamilies(store: Store): Promise<void> {
  const seed: [string, Partial<RefreshFamily>][] = [
    ['f-alice-web', { userId: 'alice', clientId: 'web', createdAt: T0 + 3 }],
    ['f-alice-web-old', { userId: 'alice', clientId: 'web', createdAt: T0 + 1 }],
    ['f-alice-cli', { userId: 'alice', clientId: 'cli', createdAt: T0 }],
    ['f-bob-web', { userId: 'bob', clientId: 'web', createdAt: T0 + 2 }],
    ['f-bob-web-short', { userId: 'bob', clientId: 'web', createdAt: T0 + 4, absoluteExpiresAt: T0 + HOUR }],
  ];
  for (const [id, f] of seed) await store.createRefreshFamily(aFamily({ id, ...f }), aToken(`d-${id.slice(2)}`, id));
}

function aRevocation(value: string, expiresAt: number): Omit<Revocation, 'seq'> {
  return { kind: 'jti', value, cutoff: null, expiresAt, createdAt: T0, reason: 'test' };
}

function aKey(k: Partial<SigningKeyRecord> & Pick<SigningKeyRecord, 'kid'>): SigningKeyRecord {
  return {
    alg: 'ES256',
    state: 'active',
    encryptedPrivateKey: `v1.iv.${k.kid}.tag`,
    publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${k.kid}`, y: `y-${k.kid}`, kid: k.kid, alg: 'ES256', use: 'sig' },
    createdAt: T0 - 3 * DAY,
    activatesAt: T0,
    retiredAt: null,
    removeAfter: null,
    ...k,
  };
}

function anEvent(e: Partial<NewAuditEvent> & Pick<NewAuditEvent, 'type'>): NewAuditEvent {
  return { time: T0, outcome: 'success', actor: null, subject: null, clientId: null, ip: null, data: { n: 1 }, ...e };
}

/** Seven events, one second apart from T0; returns their ids in order. */
async function seedAudit(store: Store): Promise<number[]> {
  const seed: Partial<NewAuditEvent>[] = [
    { type: 'login.success', subject: 'alice' },
    { type: 'login.failure', subject: 'bob', outcome: 'failure' },
    { type: 'admin.user.created', subject: 'alice', actor: 'root' },
    { type: 'admin.keys.rotated', actor: 'root' },
    { type: 'login.success', subject: 'alice' },
    { type: 'admin.user.roles_set', subject: 'bob', actor: 'root' },
    { type: 'administrator.note' },
  ];
  const ids: number[] = [];
  for (const [i, e] of seed.entries()) ids.push(await store.appendAudit(anEvent({ type: 'x', ...e, time: T0 + i * 1000 })));
  return ids;
}
