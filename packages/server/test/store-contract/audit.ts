import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { StoreRowError, type SqlStore, type Store } from '@tessera/server/internal';

import { dropWrites } from '../helpers/faults.js';

import { T0, anEvent, seedAudit } from './fixtures.js';

/** The store contract's part for AuditRepository. `current` is the running test's store (fresh, migrated). */
export function auditContract(current: () => SqlStore): void {
  describe('audit', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('prune deletes the events older than a time, oldest first, at most a batch at a time', async () => {
      const ids = await seedAudit(store);
      // Events at T0 .. T0 + 6 s: four are older than T0 + 3.5 s.
      assert.equal(await store.audit.prune(T0 + 3500, 3), 3);
      const left = async () => (await store.audit.query({ limit: 500 })).map((e) => e.id).reverse();
      assert.deepEqual(await left(), ids.slice(3));
      assert.equal(await store.audit.prune(T0 + 3500, 3), 1);
      assert.equal(await store.audit.prune(T0 + 3500, 3), 0);
      assert.deepEqual(await left(), ids.slice(4));
    });

    it('audit-insert-dropped-by-the-database: an append whose row was not written fails with StoreRowError', async () => {
      const heal = await dropWrites(store, 'audit_events', 'insert', `NEW.type = 'login.dropped'`);
      try {
        const [kept, dropped] = await Promise.allSettled([
          store.audit.append(anEvent({ type: 'login.kept' })),
          store.audit.append(anEvent({ type: 'login.dropped' })),
        ]);
        assert.equal(kept.status, 'fulfilled', 'the other events of the batch are written');
        assert.equal(dropped.status, 'rejected');
        assert.ok(dropped.reason instanceof StoreRowError, String(dropped.reason));
        assert.equal(dropped.reason.code, 'ERR_STORE_ROW');
        assert.equal(dropped.reason.table, 'audit_events');
      } finally {
        await heal();
      }
      assert.deepEqual(
        (await store.audit.query({ limit: 10 })).map((e) => e.type),
        ['login.kept'],
      );
    });

    it('append returns increasing ids; the event round-trips, data as JSON', async () => {
      const e = anEvent({
        type: 'admin.user.created',
        outcome: 'success',
        actor: 'admin-cli',
        subject: 'u1',
        clientId: 'orders',
        ip: '2001:db8::1',
        data: { username: 'alice', roles: ['a', 'b'], nested: { n: 1.5, ok: true, none: null }, text: 'naïve ☃ "quoted"' },
      });
      const id1 = await store.audit.append(e);
      const id2 = await store.audit.append(anEvent({ type: 'login.failure', outcome: 'failure', data: {} }));
      const id3 = await store.audit.append(anEvent({ type: 'anomaly.login_burst', outcome: 'info' }));
      assert.equal(typeof id1, 'number');
      assert.ok(id1 < id2 && id2 < id3, `${id1} < ${id2} < ${id3}`);
      const all = await store.audit.query({ limit: 10 });
      assert.deepEqual(
        all.map((x) => x.id),
        [id3, id2, id1],
      );
      assert.deepEqual(all[2], { ...e, id: id1 });
      assert.deepEqual(all[1]?.data, {});
      assert.equal(all[1]?.actor, null);
    });

    it('query filters by type, by `prefix.*`, by subject, by time; newest first', async () => {
      const ids = await seedAudit(store);
      const q = async (f: Omit<Parameters<Store['audit']['query']>[0], 'limit'>) =>
        (await store.audit.query({ limit: 100, ...f })).map((e) => e.id);
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

    it('query pages newest first with limit and the `before` cursor', async () => {
      const ids = await seedAudit(store);
      const newestFirst = [...ids].reverse();
      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await store.audit.query({ limit: 3, ...(before !== undefined ? { before } : {}) });
        assert.ok(page.length <= 3);
        if (page.length === 0) break;
        seen.push(...page.map((e) => e.id));
        before = page[page.length - 1]!.id;
      }
      assert.deepEqual(seen, newestFirst);
      assert.deepEqual(
        (await store.audit.query({ limit: 2, before: ids[3]! })).map((e) => e.id),
        [ids[2], ids[1]],
      );
      assert.deepEqual(
        (await store.audit.query({ limit: 10, type: 'login.*', before: ids[4]! })).map((e) => e.id),
        [ids[1], ids[0]],
      );
      assert.deepEqual(await store.audit.query({ limit: 10, before: ids[0]! }), []);
    });
  });
}
