import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { type SqlStore, type Store } from '@tessera/server/internal';

import { T0, HOUR, DAY, sorted, aFamily, aToken, RECORD, REUSE, next, seedFamilies } from './fixtures.js';

/** The store contract's part for RefreshFamilyRepository: families, rotation exactly once, revocation with its record. `current` is the running test's store (fresh, migrated). */
export function refreshFamiliesContract(current: () => SqlStore): void {
  describe('refresh token families', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('creates a family with its first token; finds both', async () => {
      const f = aFamily({ id: 'f1' });
      const t = aToken('d1', 'f1');
      await store.refreshFamilies.create(f, t);
      assert.deepEqual(await store.refreshFamilies.findToken('d1'), { token: t, family: f });
      assert.deepEqual(await store.refreshFamilies.get('f1'), f);
      assert.equal(await store.refreshFamilies.findToken('nope'), undefined);
      assert.equal(await store.refreshFamilies.get('nope'), undefined);
    });

    it('keeps the DPoP key or client certificate a family is bound to through its rotations; an unbound family has none', async () => {
      const bindings = [
        { dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' },
        { certificateThumbprint: 'q3Z2bDtHJm0cWWzQ2lXbGmZ9sKwI4U1KcLrQ5sT9e3c' },
      ];
      for (const [i, binding] of bindings.entries()) {
        const f = aFamily({ id: `bound-${i}`, ...binding });
        await store.refreshFamilies.create(f, aToken(`b${i}-1`, f.id));
        assert.deepEqual(await store.refreshFamilies.get(f.id), f);
        const now = T0 + 60_000;
        const r = await store.refreshFamilies.rotate(
          `b${i}-1`,
          { digest: `b${i}-2`, createdAt: now, expiresAt: now + HOUR, usedAt: null },
          now,
          REUSE,
        );
        assert.deepEqual(r, { kind: 'rotated', family: { ...f, lastUsedAt: now } });
        assert.deepEqual((await store.refreshFamilies.findToken(`b${i}-2`))?.family, { ...f, lastUsedAt: now });
      }
      const f = aFamily({ id: 'f1', dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
      await store.refreshFamilies.create(f, aToken('d1', 'f1'));
      await store.refreshFamilies.create(aFamily({ id: 'f2' }), aToken('e1', 'f2'));
      assert.equal('dpopJkt' in (await store.refreshFamilies.get('f2'))!, false);
      assert.equal('certificateThumbprint' in (await store.refreshFamilies.get('f2'))!, false);
      // Bound once: a family bound already keeps its key.
      assert.equal(await store.refreshFamilies.bindDpopKey('f2', 'jkt-one'), true);
      assert.equal(await store.refreshFamilies.bindDpopKey('f2', 'jkt-two'), false);
      assert.equal(await store.refreshFamilies.bindDpopKey('f1', 'jkt-two'), false);
      assert.equal(await store.refreshFamilies.bindDpopKey('nope', 'jkt-two'), false);
      // A family bound to a client certificate is not bound to a key besides.
      assert.equal(await store.refreshFamilies.bindDpopKey('bound-1', 'jkt-two'), false);
      assert.equal((await store.refreshFamilies.get('bound-1'))?.dpopJkt, undefined);
      assert.equal((await store.refreshFamilies.get('f2'))?.dpopJkt, 'jkt-one');
      assert.equal((await store.refreshFamilies.get('f1'))?.dpopJkt, f.dpopJkt);
    });

    it('rotates: the old digest is spent, the new one is live, the family is touched', async () => {
      const f = aFamily({ id: 'f1' });
      await store.refreshFamilies.create(f, aToken('d1', 'f1'));
      const now = T0 + 60_000;
      const r = await store.refreshFamilies.rotate(
        'd1',
        { digest: 'd2', createdAt: now, expiresAt: now + HOUR, usedAt: null },
        now,
        REUSE,
      );
      assert.deepEqual(r, { kind: 'rotated', family: { ...f, lastUsedAt: now } });
      assert.deepEqual(await store.refreshFamilies.findToken('d1'), {
        token: { ...aToken('d1', 'f1'), usedAt: now },
        family: { ...f, lastUsedAt: now },
      });
      assert.deepEqual(await store.refreshFamilies.findToken('d2'), {
        token: { digest: 'd2', familyId: 'f1', createdAt: now, expiresAt: now + HOUR, usedAt: null },
        family: { ...f, lastUsedAt: now },
      });
      // The new token rotates in turn.
      const later = now + 60_000;
      const r2 = await store.refreshFamilies.rotate(
        'd2',
        { digest: 'd3', createdAt: later, expiresAt: later + HOUR, usedAt: null },
        later,
        REUSE,
      );
      assert.equal(r2.kind, 'rotated');
      assert.equal((await store.refreshFamilies.findToken('d3'))?.token.usedAt, null);
      assert.equal((await store.refreshFamilies.get('f1'))?.lastUsedAt, later);
    });

    it('a second use of a spent digest is `reused` and revokes the family (reason reuse)', async () => {
      const f = aFamily({ id: 'f1' });
      await store.refreshFamilies.create(f, aToken('d1', 'f1'));
      const t1 = T0 + 1000;
      assert.equal((await store.refreshFamilies.rotate('d1', next('d2', t1), t1, REUSE)).kind, 'rotated');
      const t2 = T0 + 2000;
      const r = await store.refreshFamilies.rotate('d1', next('d3', t2), t2, REUSE);
      assert.equal(r.kind, 'reused');
      assert.ok(r.kind === 'reused');
      assert.equal(r.family.id, 'f1');
      assert.equal(r.family.revokedAt, t2);
      assert.equal(r.family.revokedReason, 'reuse');
      assert.deepEqual(await store.refreshFamilies.get('f1'), { ...f, lastUsedAt: t1, revokedAt: t2, revokedReason: 'reuse' });
      assert.equal(await store.refreshFamilies.findToken('d3'), undefined);
      // The token that was live is dead with its family.
      const t3 = T0 + 3000;
      assert.deepEqual(await store.refreshFamilies.rotate('d2', next('d4', t3), t3, REUSE), {
        kind: 'invalid',
        reason: 'revoked',
      });
      assert.equal(await store.refreshFamilies.findToken('d4'), undefined);
      // A third use of the spent digest is still a reuse; the first revocation stands.
      const again = await store.refreshFamilies.rotate('d1', next('d5', t3), t3, REUSE);
      assert.equal(again.kind, 'reused');
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedAt, t2);
    });

    it('refuses an unknown digest (invalid/unknown) and stores nothing', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      assert.deepEqual(await store.refreshFamilies.rotate('nope', next('d2', T0), T0, REUSE), {
        kind: 'invalid',
        reason: 'unknown',
      });
      assert.equal(await store.refreshFamilies.findToken('d2'), undefined);
      assert.equal((await store.refreshFamilies.findToken('d1'))?.token.usedAt, null);
    });

    it('refuses an expired token (invalid/expired) and stores no successor', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1', { expiresAt: T0 + HOUR }));
      const now = T0 + HOUR;
      assert.deepEqual(await store.refreshFamilies.rotate('d1', next('d2', now), now, REUSE), {
        kind: 'invalid',
        reason: 'expired',
      });
      assert.equal(await store.refreshFamilies.findToken('d2'), undefined);
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedAt, null);
      // Presented again (a client retrying): still expired, not mistaken for a reuse.
      assert.deepEqual(await store.refreshFamilies.rotate('d1', next('d3', now), now, REUSE), {
        kind: 'invalid',
        reason: 'expired',
      });
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedAt, null);
    });

    it('refuses a token whose family is past its absolute expiry (invalid/expired)', async () => {
      await store.refreshFamilies.create(
        aFamily({ id: 'f1', absoluteExpiresAt: T0 + HOUR }),
        aToken('d1', 'f1', { expiresAt: T0 + DAY }),
      );
      const now = T0 + HOUR + 1;
      assert.deepEqual(await store.refreshFamilies.rotate('d1', next('d2', now), now, REUSE), {
        kind: 'invalid',
        reason: 'expired',
      });
      assert.equal(await store.refreshFamilies.findToken('d2'), undefined);
    });

    it('refuses a token of a revoked family (invalid/revoked) and stores no successor', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      assert.ok(await store.refreshFamilies.revoke('f1', 'logout', T0 + 1, RECORD));
      assert.deepEqual(await store.refreshFamilies.rotate('d1', next('d2', T0 + 2), T0 + 2, REUSE), {
        kind: 'invalid',
        reason: 'revoked',
      });
      assert.equal(await store.refreshFamilies.findToken('d2'), undefined);
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedReason, 'logout');
    });

    it("clamps the new token's expiry to the family's absolute expiry", async () => {
      const abs = T0 + 2 * HOUR;
      await store.refreshFamilies.create(aFamily({ id: 'f1', absoluteExpiresAt: abs }), aToken('d1', 'f1'));
      const now = T0 + HOUR;
      const r = await store.refreshFamilies.rotate(
        'd1',
        { digest: 'd2', createdAt: now, expiresAt: now + DAY, usedAt: null },
        now,
        REUSE,
      );
      assert.equal(r.kind, 'rotated');
      assert.equal((await store.refreshFamilies.findToken('d2'))?.token.expiresAt, abs);
      // An expiry already within the bound is kept as given.
      const later = now + 1000;
      await store.refreshFamilies.rotate(
        'd2',
        { digest: 'd3', createdAt: later, expiresAt: later + 1000, usedAt: null },
        later,
        REUSE,
      );
      assert.equal((await store.refreshFamilies.findToken('d3'))?.token.expiresAt, later + 1000);
    });

    it('rotates exactly once: of 50 concurrent calls with one digest, one rotates, 49 see reused', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      const now = T0 + 1000;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.refreshFamilies.rotate('d1', next(`next-${i}`, now), now, REUSE)),
      );
      const kinds = results.map((r) => r.kind);
      assert.equal(kinds.filter((k) => k === 'rotated').length, 1, JSON.stringify(kinds));
      assert.equal(kinds.filter((k) => k === 'reused').length, 49, JSON.stringify(kinds));
      const family = await store.refreshFamilies.get('f1');
      assert.equal(family?.revokedReason, 'reuse');
      assert.equal(family?.revokedAt, now);
      const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => store.refreshFamilies.findToken(`next-${i}`)));
      assert.equal(stored.filter((s) => s !== undefined).length, 1);
    });

    it('revoke is idempotent: the second call writes no record and keeps the first reason', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      assert.ok(await store.refreshFamilies.revoke('f1', 'logout', T0 + 5, RECORD));
      assert.equal(await store.refreshFamilies.revoke('f1', 'admin', T0 + 9, RECORD), undefined);
      assert.equal(await store.refreshFamilies.revoke('nope', 'admin', T0 + 9, RECORD), undefined);
      const f = await store.refreshFamilies.get('f1');
      assert.equal(f?.revokedAt, T0 + 5);
      assert.equal(f?.revokedReason, 'logout');
    });

    it('lists families filtered by user, client and liveness', async () => {
      await seedFamilies(store);
      await store.refreshFamilies.revoke('f-alice-web-old', 'logout', T0 + 10, RECORD);
      const ids = async (filter: Parameters<Store['refreshFamilies']['list']>[0]) =>
        sorted((await store.refreshFamilies.list(filter)).map((f) => f.id));
      assert.deepEqual(await ids({}), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short']);
      assert.deepEqual(await ids({ userId: 'alice' }), ['f-alice-cli', 'f-alice-web', 'f-alice-web-old']);
      assert.deepEqual(await ids({ clientId: 'web' }), ['f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short']);
      assert.deepEqual(await ids({ userId: 'alice', clientId: 'web' }), ['f-alice-web', 'f-alice-web-old']);
      assert.deepEqual(await ids({ userId: 'carol' }), []);
      // Live at a time: not revoked and before the absolute expiry.
      assert.deepEqual(await ids({ activeAt: T0 + 100 }), ['f-alice-cli', 'f-alice-web', 'f-bob-web', 'f-bob-web-short']);
      assert.deepEqual(await ids({ activeAt: T0 + HOUR }), ['f-alice-cli', 'f-alice-web', 'f-bob-web']);
      assert.deepEqual(await ids({ userId: 'bob', activeAt: T0 + HOUR }), ['f-bob-web']);
      assert.deepEqual(await store.refreshFamilies.list({ userId: 'alice', clientId: 'cli' }), [
        aFamily({ id: 'f-alice-cli', userId: 'alice', clientId: 'cli' }),
      ]);
    });

    it('revokeAllOf a user revokes his live families only and returns their ids', async () => {
      await seedFamilies(store);
      await store.refreshFamilies.revoke('f-alice-web-old', 'logout', T0 + 10, RECORD);
      const now = T0 + 20;
      assert.deepEqual(
        sorted((await store.refreshFamilies.revokeAllOf({ userId: 'alice' }, 'user_disabled', now, RECORD)).families),
        ['f-alice-cli', 'f-alice-web'],
      );
      for (const id of ['f-alice-cli', 'f-alice-web']) {
        const f = await store.refreshFamilies.get(id);
        assert.equal(f?.revokedAt, now);
        assert.equal(f?.revokedReason, 'user_disabled');
      }
      assert.equal((await store.refreshFamilies.get('f-alice-web-old'))?.revokedReason, 'logout');
      assert.equal((await store.refreshFamilies.get('f-bob-web'))?.revokedAt, null);
      assert.deepEqual((await store.refreshFamilies.revokeAllOf({ userId: 'alice' }, 'again', now + 1, RECORD)).families, []);
      assert.deepEqual((await store.refreshFamilies.revokeAllOf({ userId: 'carol' }, 'again', now + 1, RECORD)).families, []);
    });

    it('revokeAllOf a client revokes its live families only and returns their ids', async () => {
      await seedFamilies(store);
      const now = T0 + 20;
      assert.deepEqual(
        sorted((await store.refreshFamilies.revokeAllOf({ clientId: 'web' }, 'client_deleted', now, RECORD)).families),
        ['f-alice-web', 'f-alice-web-old', 'f-bob-web', 'f-bob-web-short'],
      );
      assert.equal((await store.refreshFamilies.get('f-bob-web'))?.revokedReason, 'client_deleted');
      assert.equal((await store.refreshFamilies.get('f-alice-cli'))?.revokedAt, null);
      assert.deepEqual(await store.refreshFamilies.rotate('d-bob-web', next('n', now), now, REUSE), {
        kind: 'invalid',
        reason: 'revoked',
      });
      assert.deepEqual((await store.refreshFamilies.revokeAllOf({ clientId: 'web' }, 'again', now + 1, RECORD)).families, []);
    });

    it('revokeAllOf takes a user or a client (its type), and an owner naming neither revokes nothing', async () => {
      await seedFamilies(store);
      // @ts-expect-error an owner names a user or a client
      await assert.rejects(store.refreshFamilies.revokeAllOf({}, 'everything', T0 + 20, RECORD));
      assert.equal((await store.refreshFamilies.list({ activeAt: T0 + 100 })).length, 5);
    });
  });
}
