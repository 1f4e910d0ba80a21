import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { StoreStateError, type SqlStore } from '@tessera/server/internal';

import { execute, refuseWrites } from '../helpers/faults.js';
import { T0, DAY, sorted, aClient, aFamily, aToken, aUser, RECORD, REUSE, next, seedFamilies, aKey } from './fixtures.js';

/**
 * The store contract's part for the state changes that write two things (a family and its revocation record, two
 * keys): one transaction each, so a fault between the writes leaves neither. `current` is the running test's store.
 */
export function atomicRevocationsContract(current: () => SqlStore): void {
  describe('every revocation is one transaction (a fault between the writes)', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    const revoked = async () => (await store.revocations.list(T0)).map((r) => `${r.kind}:${r.value}`);

    it('crash-between-family-revoke-and-its-record: the family stays live, and the retry revokes and announces it', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      const heal = await refuseWrites(store, 'revocations', 'insert');
      await assert.rejects(store.refreshFamilies.revoke('f1', 'revoked', T0 + 5, RECORD));
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedAt, null, 'no family revoked without its record');
      assert.deepEqual(await revoked(), []);
      await heal();
      const r = await store.refreshFamilies.revoke('f1', 'revoked', T0 + 6, RECORD);
      assert.equal(r?.kind, 'family');
      assert.equal(r?.value, 'f1');
      assert.equal(r?.expiresAt, RECORD.expiresAt);
      assert.equal(r?.reason, RECORD.reason);
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedAt, T0 + 6);
      assert.deepEqual(await revoked(), ['family:f1']);
    });

    it('half-done-revoke-by-an-older-version: a family revoked without its record is announced by the retry, once', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      // What a crash between the two writes of an older version left: the family revoked, no record.
      await execute(store, `update refresh_families set revoked_at = ${T0 + 1}, revoked_reason = 'revoked' where id = 'f1'`);
      const r = await store.refreshFamilies.revoke('f1', 'revoked', T0 + 9, RECORD);
      assert.equal(r?.value, 'f1');
      const f = await store.refreshFamilies.get('f1');
      assert.equal(f?.revokedAt, T0 + 1, 'the first revocation time stands');
      assert.equal(f?.revokedReason, 'revoked');
      assert.equal(await store.refreshFamilies.revoke('f1', 'revoked', T0 + 10, RECORD), undefined);
      assert.deepEqual(await revoked(), ['family:f1']);
    });

    it('refresh-token-replay-flood: replays of a spent token revoke and announce the family once', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      assert.equal((await store.refreshFamilies.rotate('d1', next('d2', T0 + 1), T0 + 1, REUSE)).kind, 'rotated');
      const first = await store.refreshFamilies.rotate('d1', next('d3', T0 + 2), T0 + 2, REUSE);
      assert.ok(first.kind === 'reused');
      assert.equal(first.revocation?.kind, 'family');
      assert.equal(first.revocation?.value, 'f1');
      assert.equal(first.revocation?.reason, 'refresh_token_reuse');
      for (let i = 0; i < 5; i++) {
        const again = await store.refreshFamilies.rotate('d1', next(`r${i}`, T0 + 3 + i), T0 + 3 + i, REUSE);
        assert.ok(again.kind === 'reused');
        assert.equal(again.revocation, undefined, 'a later replay writes no record');
      }
      assert.deepEqual(await revoked(), ['family:f1']);
    });

    it('of 50 concurrent replays of a spent token, exactly one writes the reuse record', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      await store.refreshFamilies.rotate('d1', next('d2', T0 + 1), T0 + 1, REUSE);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.refreshFamilies.rotate('d1', next(`c${i}`, T0 + 2), T0 + 2, REUSE)),
      );
      assert.ok(results.every((r) => r.kind === 'reused'));
      assert.equal(results.filter((r) => r.kind === 'reused' && r.revocation).length, 1);
      assert.deepEqual(await revoked(), ['family:f1']);
    });

    it('crash-between-reuse-revoke-and-its-record: the family stays live and the next replay revokes and announces it', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      await store.refreshFamilies.rotate('d1', next('d2', T0 + 1), T0 + 1, REUSE);
      const heal = await refuseWrites(store, 'revocations', 'insert');
      await assert.rejects(store.refreshFamilies.rotate('d1', next('d3', T0 + 2), T0 + 2, REUSE));
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedAt, null);
      await heal();
      const r = await store.refreshFamilies.rotate('d1', next('d4', T0 + 3), T0 + 3, REUSE);
      assert.ok(r.kind === 'reused' && r.revocation);
      assert.deepEqual(await revoked(), ['family:f1']);
    });

    it('crash-between-cutoff-and-its-families: revoking everything of a user is both or neither', async () => {
      await seedFamilies(store);
      const heal = await refuseWrites(store, 'revocations', 'insert');
      await assert.rejects(store.refreshFamilies.revokeAllOf({ userId: 'alice' }, 'user_disabled', T0 + 20, RECORD));
      assert.equal((await store.refreshFamilies.list({ userId: 'alice', activeAt: T0 + 30 })).length, 3);
      await heal();
      // The other way round: the families' update refused after the record was written.
      const heal2 = await refuseWrites(store, 'refresh_families', 'update');
      await assert.rejects(store.refreshFamilies.revokeAllOf({ userId: 'alice' }, 'user_disabled', T0 + 20, RECORD));
      assert.deepEqual(await revoked(), []);
      await heal2();
      const { families, revocation } = await store.refreshFamilies.revokeAllOf(
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
      assert.equal(await store.refreshFamilies.revoke('f-alice-web', 'revoked', T0 + 22, RECORD), undefined);
    });

    it('crash-between-key-retire-and-activate: keys.promote is both or neither', async () => {
      await store.keys.insert(aKey({ kid: 'k1', state: 'active' }));
      await store.keys.insert(aKey({ kid: 'k2', state: 'next', activatesAt: T0 + DAY }));
      const heal = await refuseWrites(store, 'signing_keys', 'update', `NEW.state = 'active'`);
      await assert.rejects(
        store.keys.promote({ kid: 'k1', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY }, { kid: 'k2', activatesAt: T0 + DAY }),
      );
      const states = async () => (await store.keys.list()).map((k) => `${k.kid}:${k.state}`).sort();
      assert.deepEqual(await states(), ['k1:active', 'k2:next'], 'never a moment with no active key');
      await heal();
      await store.keys.promote(
        { kid: 'k1', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY },
        { kid: 'k2', activatesAt: T0 + DAY + 1 },
      );
      const keys = await store.keys.list();
      assert.deepEqual(
        keys.find((k) => k.kid === 'k1'),
        aKey({ kid: 'k1', state: 'retired', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY }),
      );
      assert.deepEqual(
        keys.find((k) => k.kid === 'k2'),
        aKey({ kid: 'k2', state: 'active', activatesAt: T0 + DAY + 1 }),
      );
    });

    const keyStates = async () => (await store.keys.list()).map((k) => `${k.kid}:${k.state}`).sort();
    const isStateError = (err: unknown) => {
      assert.ok(err instanceof StoreStateError, String(err));
      assert.equal(err.code, 'ERR_STORE_STATE');
      return true;
    };

    it('crash-between-key-retire-and-create: retiring the active key with no next key is both or neither', async () => {
      await store.keys.insert(aKey({ kid: 'k1', state: 'active' }));
      const retire = { kid: 'k1', retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY };
      const heal = await refuseWrites(store, 'signing_keys', 'insert');
      await assert.rejects(store.keys.replaceActive(retire, aKey({ kid: 'k2', state: 'active', activatesAt: T0 + DAY })));
      assert.deepEqual(await keyStates(), ['k1:active'], 'never a moment with no active key');
      await heal();
      await store.keys.replaceActive(retire, aKey({ kid: 'k2', state: 'active', activatesAt: T0 + DAY }));
      assert.deepEqual(await keyStates(), ['k1:retired', 'k2:active']);
      // Retiring a key that is no longer active changes nothing.
      await assert.rejects(store.keys.replaceActive(retire, aKey({ kid: 'k3', state: 'active' })), isStateError);
      assert.deepEqual(await keyStates(), ['k1:retired', 'k2:active']);
    });

    it('crash-between-next-removal-and-import: replacing the next key is both or neither', async () => {
      await store.keys.insert(aKey({ kid: 'k1', state: 'active' }));
      await store.keys.insert(aKey({ kid: 'k2', state: 'next', activatesAt: T0 + DAY }));
      const heal = await refuseWrites(store, 'signing_keys', 'insert');
      await assert.rejects(store.keys.replaceNext('k2', aKey({ kid: 'k3', state: 'next', activatesAt: T0 + DAY })));
      assert.deepEqual(await keyStates(), ['k1:active', 'k2:next'], 'the next key stays until its successor is in');
      await heal();
      await store.keys.replaceNext('k2', aKey({ kid: 'k3', state: 'next', activatesAt: T0 + DAY }));
      assert.deepEqual(await keyStates(), ['k1:active', 'k2:removed', 'k3:next']);
      // A next key that is no longer next (removed meanwhile) is not replaced: nothing inserted.
      await assert.rejects(store.keys.replaceNext('k2', aKey({ kid: 'k4', state: 'next' })), isStateError);
      await store.keys.replaceNext(undefined, aKey({ kid: 'k5', state: 'next', activatesAt: T0 + 2 * DAY }));
      assert.deepEqual(await keyStates(), ['k1:active', 'k2:removed', 'k3:next', 'k5:next']);
    });

    it('promote-from-unexpected-states: promote retires only an active key and activates only a next one', async () => {
      await store.keys.insert(aKey({ kid: 'k1', state: 'retired', retiredAt: T0, removeAfter: T0 + DAY }));
      await store.keys.insert(aKey({ kid: 'k2', state: 'active' }));
      await store.keys.insert(aKey({ kid: 'k3', state: 'next', activatesAt: T0 + DAY }));
      const retire = (kid: string) => ({ kid, retiredAt: T0 + DAY, removeAfter: T0 + 2 * DAY });
      await assert.rejects(store.keys.promote(retire('k1'), { kid: 'k3', activatesAt: T0 + DAY }), isStateError);
      await assert.rejects(store.keys.promote(retire('k2'), { kid: 'k1', activatesAt: T0 + DAY }), isStateError);
      await assert.rejects(store.keys.promote(retire('k2'), { kid: 'ghost', activatesAt: T0 + DAY }), isStateError);
      assert.deepEqual(await keyStates(), ['k1:retired', 'k2:active', 'k3:next'], 'nothing changed');
      await store.keys.promote(retire('k2'), { kid: 'k3', activatesAt: T0 + DAY });
      assert.deepEqual(await keyStates(), ['k1:retired', 'k2:retired', 'k3:active']);
    });

    // A change to a user or a client and the revocation of everything they hold: one transaction. Each crash is
    // injected at both writes of the revocation (the cut-off record, the families' update).
    const faults = [
      ['the cut-off record', 'revocations', 'insert'],
      ['the families', 'refresh_families', 'update'],
    ] as const;
    const live = async (owner: { userId: string } | { clientId: string }) =>
      sorted((await store.refreshFamilies.list({ ...owner, activeAt: T0 + 30 })).map((f) => f.id));

    for (const [label, change] of [
      ['user-disable', (id: string, now: number) => store.users.updateAndCutOff(id, { disabled: true }, now, RECORD)],
      ['password-reset', (id: string, now: number) => store.users.updateAndCutOff(id, { passwordHash: 'new-hash' }, now, RECORD)],
      ['user-delete', (id: string, now: number) => store.users.deleteAndCutOff(id, now, RECORD)],
    ] as const)
      it(`crash-between-${label}-and-its-revocations: the user is unchanged and keeps nothing revoked, or both happen`, async () => {
        const alice = aUser({ id: 'alice', username: 'alice' });
        await store.users.create(alice);
        await seedFamilies(store);
        for (const [what, table, op] of faults) {
          const heal = await refuseWrites(store, table, op);
          await assert.rejects(change('alice', T0 + 20), `a fault at ${what}`);
          await heal();
          assert.deepEqual(await store.users.getById('alice'), alice, `${what}: the user is unchanged`);
          assert.deepEqual(await live({ userId: 'alice' }), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old']);
          assert.deepEqual(await revoked(), [], `${what}: no record`);
        }
        const cut = await change('alice', T0 + 21);
        assert.deepEqual(sorted(cut?.families ?? []), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old']);
        assert.equal(cut?.revocation.kind, 'subject');
        assert.equal(cut?.revocation.cutoff, T0 + 21);
        assert.deepEqual(await revoked(), ['subject:alice']);
        assert.deepEqual(await live({ userId: 'alice' }), []);
        assert.deepEqual(await live({ userId: 'bob' }), ['f-bob-web', 'f-bob-web-short'], "another user's sessions stay");
        const after = await store.users.getById('alice');
        if (label === 'user-delete') assert.equal(after, undefined);
        else
          assert.deepEqual(after, {
            ...alice,
            ...(label === 'user-disable' ? { disabled: true } : { passwordHash: 'new-hash' }),
            updatedAt: T0 + 21,
          });
        // An unknown user: nothing written.
        assert.equal(await change('nobody', T0 + 22), undefined);
        assert.deepEqual(await revoked(), ['subject:alice']);
      });

    for (const [label, change] of [
      ['client-disable', (id: string, now: number) => store.clients.updateAndCutOff(id, { disabled: true }, now, RECORD)],
      ['client-delete', (id: string, now: number) => store.clients.deleteAndCutOff(id, now, RECORD)],
    ] as const)
      it(`crash-between-${label}-and-its-revocations: the client is unchanged and keeps nothing revoked, or both happen`, async () => {
        const web = aClient({ id: 'web' });
        await store.clients.create(web);
        await seedFamilies(store);
        for (const [what, table, op] of faults) {
          const heal = await refuseWrites(store, table, op);
          await assert.rejects(change('web', T0 + 20), `a fault at ${what}`);
          await heal();
          assert.deepEqual(await store.clients.get('web'), web, `${what}: the client is unchanged`);
          assert.deepEqual(await live({ clientId: 'web' }), ['f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short']);
          assert.deepEqual(await revoked(), [], `${what}: no record`);
        }
        const cut = await change('web', T0 + 21);
        assert.deepEqual(sorted(cut?.families ?? []), ['f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short']);
        assert.equal(cut?.revocation.kind, 'client');
        assert.deepEqual(await revoked(), ['client:web']);
        assert.deepEqual(await live({ clientId: 'cli' }), ['f-alice-cli'], "another client's sessions stay");
        const after = await store.clients.get('web');
        if (label === 'client-delete') assert.equal(after, undefined);
        else assert.deepEqual(after, { ...web, disabled: true, updatedAt: T0 + 21 });
        assert.equal(await change('nobody', T0 + 22), undefined);
        assert.deepEqual(await revoked(), ['client:web']);
      });
  });
}
