import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { type SqlStore, type Store, type User } from '@tessera/server/internal';

import { T0, sorted, isConflict, aUser } from './fixtures.js';

/** The store contract's part for UserRepository and RoleRepository. `current` is the running test's store (fresh, migrated). */
export function usersContract(current: () => SqlStore): void {
  describe('users', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('creates a user and reads it back by id and by username, every field intact', async () => {
      const u = aUser({ id: 'u1', username: 'alice', disabled: true, roles: ['reader', 'writer'] });
      await store.users.create(u);
      assert.deepEqual(await store.users.getById('u1'), u);
      assert.deepEqual(await store.users.getByUsername('alice'), u);
    });

    it('answers undefined for an unknown id or username', async () => {
      await store.users.create(aUser({ id: 'u1', username: 'alice' }));
      assert.equal(await store.users.getById('nope'), undefined);
      assert.equal(await store.users.getByUsername('nope'), undefined);
      assert.equal(await store.users.getByUsername('ALICE'), undefined);
    });

    it('refuses a duplicate username with StoreConflictError and keeps the first user', async () => {
      const first = aUser({ id: 'u1', username: 'alice' });
      await store.users.create(first);
      await assert.rejects(store.users.create(aUser({ id: 'u2', username: 'alice', passwordHash: 'other' })), isConflict);
      assert.equal(await store.users.getById('u2'), undefined);
      assert.deepEqual(await store.users.getByUsername('alice'), first);
    });

    it('refuses a duplicate id with StoreConflictError', async () => {
      await store.users.create(aUser({ id: 'u1', username: 'alice' }));
      await assert.rejects(store.users.create(aUser({ id: 'u1', username: 'bob' })), isConflict);
      assert.equal(await store.users.getByUsername('bob'), undefined);
    });

    it('lists users by username, a page at a time, the cursor being the last username', async () => {
      for (const n of ['dave', 'alice', 'erin', 'carol', 'bob']) await store.users.create(aUser({ id: `id-${n}`, username: n }));
      const names = (users: User[]) => users.map((u) => u.username);
      assert.deepEqual(names(await store.users.list(10)), ['alice', 'bob', 'carol', 'dave', 'erin']);
      assert.deepEqual(names(await store.users.list(2)), ['alice', 'bob']);
      assert.deepEqual(names(await store.users.list(2, 'bob')), ['carol', 'dave']);
      assert.deepEqual(names(await store.users.list(2, 'dave')), ['erin']);
      assert.deepEqual(names(await store.users.list(2, 'erin')), []);
      // The cursor need not be an existing username.
      assert.deepEqual(names(await store.users.list(10, 'c')), ['carol', 'dave', 'erin']);
      assert.deepEqual(await store.users.list(1), [aUser({ id: 'id-alice', username: 'alice' })]);
    });

    it('updates each field alone, stamping updatedAt and leaving the rest', async () => {
      const u = aUser({ id: 'u1', username: 'alice', roles: ['reader'] });
      await store.users.create(u);
      await store.users.create(aUser({ id: 'u2', username: 'bob' }));
      const steps: [Parameters<Store['users']['update']>[1], Partial<User>][] = [
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
        assert.equal(await store.users.update('u1', patch, now), true, JSON.stringify(patch));
        expected = { ...expected, ...change, updatedAt: now };
        assert.deepEqual(await store.users.getById('u1'), expected, JSON.stringify(patch));
      }
      assert.deepEqual(await store.users.getById('u2'), aUser({ id: 'u2', username: 'bob' }));
    });

    it('keeps the OpenID Connect profile claims: written, read back, set and cleared one at a time', async () => {
      const u = aUser({
        id: 'u1',
        username: 'alice',
        name: 'Alice Example',
        givenName: 'Alice',
        familyName: 'Example',
        email: 'alice@example.com',
        emailVerified: true,
      });
      await store.users.create(u);
      await store.users.create(aUser({ id: 'u2', username: 'bob' }));
      assert.deepEqual(await store.users.getById('u1'), u);
      assert.deepEqual(await store.users.getByUsername('alice'), u);
      // A user without a profile reads back without one: the claims are absent, not empty.
      assert.deepEqual(await store.users.getById('u2'), aUser({ id: 'u2', username: 'bob' }));
      const steps: [Parameters<Store['users']['update']>[1], (x: User) => User][] = [
        [{ name: 'Alice B. Example' }, (x) => ({ ...x, name: 'Alice B. Example' })],
        [{ emailVerified: false }, ({ emailVerified: _, ...x }) => x],
        [{ email: 'a@example.org', emailVerified: true }, (x) => ({ ...x, email: 'a@example.org', emailVerified: true })],
        [{ givenName: null }, ({ givenName: _, ...x }) => x],
        [{ familyName: null, email: null }, ({ familyName: _, email: __, ...x }) => x],
        [{ name: null, emailVerified: false }, ({ name: _, emailVerified: __, ...x }) => x],
      ];
      let expected: User = u;
      let now = T0;
      for (const [patch, change] of steps) {
        now += 1000;
        assert.equal(await store.users.update('u1', patch, now), true, JSON.stringify(patch));
        expected = { ...change(expected), updatedAt: now };
        assert.deepEqual(await store.users.getById('u1'), expected, JSON.stringify(patch));
      }
      assert.deepEqual(await store.users.getById('u1'), aUser({ id: 'u1', username: 'alice', updatedAt: now }));
      assert.deepEqual(await store.users.getById('u2'), aUser({ id: 'u2', username: 'bob' }));
    });

    it('deletes a user once, freeing the username and leaving the others', async () => {
      await store.users.create(aUser({ id: 'u1', username: 'alice' }));
      await store.users.create(aUser({ id: 'u2', username: 'bob' }));
      assert.equal(await store.users.delete('u1'), true);
      assert.equal(await store.users.delete('u1'), false);
      assert.equal(await store.users.delete('nope'), false);
      assert.equal(await store.users.getById('u1'), undefined);
      assert.equal(await store.users.getByUsername('alice'), undefined);
      assert.deepEqual(await store.users.getById('u2'), aUser({ id: 'u2', username: 'bob' }));
      await store.users.create(aUser({ id: 'u3', username: 'alice' }));
      assert.equal((await store.users.getByUsername('alice'))?.id, 'u3');
    });

    it('replaceRoles is a compare and set: of concurrent replacements made from one read, exactly one lands', async () => {
      await store.users.create(aUser({ id: 'u1', username: 'alice', roles: ['a'] }));
      const landed = await Promise.all(
        ['b', 'c', 'd', 'e'].map((r, i) => store.users.replaceRoles('u1', ['a'], ['a', r], T0 + 1 + i)),
      );
      assert.equal(landed.filter(Boolean).length, 1);
      const winner = ['b', 'c', 'd', 'e'][landed.indexOf(true)]!;
      assert.deepEqual((await store.users.getById('u1'))?.roles, ['a', winner]);
      assert.equal(await store.users.replaceRoles('u1', ['a'], [], T0 + 9), false, 'a stale read writes nothing');
      assert.equal(await store.users.replaceRoles('u1', ['a', winner], [], T0 + 9), true);
      assert.deepEqual((await store.users.getById('u1'))?.roles, []);
      assert.equal(await store.users.replaceRoles('ghost', [], ['a'], T0 + 9), false);
    });

    it('answers false when updating an unknown id', async () => {
      assert.equal(await store.users.update('nope', { disabled: true }, T0), false);
      assert.equal(await store.users.getById('nope'), undefined);
    });
  });

  describe('roles', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('puts roles and lists them by name', async () => {
      await store.roles.put({ name: 'writer', permissions: ['docs:write'] });
      await store.roles.put({ name: 'reader', permissions: ['docs:read', 'files:read'] });
      await store.roles.put({ name: 'nobody', permissions: [] });
      assert.deepEqual(await store.roles.list(), [
        { name: 'nobody', permissions: [] },
        { name: 'reader', permissions: ['docs:read', 'files:read'] },
        { name: 'writer', permissions: ['docs:write'] },
      ]);
    });

    it('overwrites a role, replacing its permissions', async () => {
      await store.roles.put({ name: 'reader', permissions: ['docs:read', 'files:read'] });
      await store.roles.put({ name: 'reader', permissions: ['docs:read'] });
      assert.deepEqual(await store.roles.list(), [{ name: 'reader', permissions: ['docs:read'] }]);
      assert.deepEqual(await store.roles.permissionsOf(['reader']), ['docs:read']);
    });

    it('deletes a role once', async () => {
      await store.roles.put({ name: 'reader', permissions: ['docs:read'] });
      await store.roles.put({ name: 'writer', permissions: ['docs:write'] });
      assert.equal(await store.roles.delete('reader'), true);
      assert.equal(await store.roles.delete('reader'), false);
      assert.equal(await store.roles.delete('nope'), false);
      assert.deepEqual(await store.roles.list(), [{ name: 'writer', permissions: ['docs:write'] }]);
      assert.deepEqual(await store.roles.permissionsOf(['reader']), []);
    });

    it('permissionsOf merges roles, once each permission, ignoring unknown names', async () => {
      await store.roles.put({ name: 'reader', permissions: ['docs:read', 'files:read'] });
      await store.roles.put({ name: 'writer', permissions: ['docs:read', 'docs:write'] });
      await store.roles.put({ name: 'auditor', permissions: ['audit:read'] });
      assert.deepEqual(sorted(await store.roles.permissionsOf(['reader', 'writer'])), ['docs:read', 'docs:write', 'files:read']);
      assert.deepEqual(sorted(await store.roles.permissionsOf(['writer', 'ghost', 'writer'])), ['docs:read', 'docs:write']);
      assert.deepEqual(await store.roles.permissionsOf(['ghost']), []);
      assert.deepEqual(await store.roles.permissionsOf([]), []);
    });
  });
}
