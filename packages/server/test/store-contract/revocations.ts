import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { type SqlStore, type Revocation } from '@tessera/server/internal';

import { T0, HOUR, DAY, aRevocation } from './fixtures.js';

/** The store contract's part for RevocationRepository. `current` is the running test's store (fresh, migrated). */
export function revocationsContract(current: () => SqlStore): void {
  describe('revocations', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('add stores every field and assigns strictly increasing seq', async () => {
      const given: Omit<Revocation, 'seq'>[] = [
        { kind: 'jti', value: 'j1', cutoff: null, expiresAt: T0 + HOUR, createdAt: T0, reason: 'logout' },
        { kind: 'subject', value: 'alice', cutoff: T0 + 5, expiresAt: T0 + DAY, createdAt: T0 + 5, reason: 'password_reset' },
        { kind: 'client', value: 'orders', cutoff: T0 + 6, expiresAt: T0 + DAY, createdAt: T0 + 6, reason: 'admin' },
        { kind: 'family', value: 'f1', cutoff: null, expiresAt: T0 + HOUR, createdAt: T0 + 7, reason: 'refresh_token_reuse' },
      ];
      const added: Revocation[] = [];
      for (const r of given) added.push(await store.revocations.add(r));
      added.forEach((r, i) => {
        assert.deepEqual({ ...r, seq: undefined }, { ...given[i], seq: undefined });
        assert.equal(typeof r.seq, 'number');
        if (i > 0) assert.ok(r.seq > added[i - 1]!.seq, `seq ${r.seq} after ${added[i - 1]!.seq}`);
      });
      assert.deepEqual(await store.revocations.list(T0), added);
    });

    it('list(now, afterSeq) answers the records still in force after afterSeq, in seq order', async () => {
      const a = await store.revocations.add(aRevocation('a', T0 + HOUR));
      const b = await store.revocations.add(aRevocation('b', T0 + 10));
      const c = await store.revocations.add(aRevocation('c', T0 + DAY));
      const d = await store.revocations.add(aRevocation('d', T0 + HOUR));
      assert.deepEqual(await store.revocations.list(T0), [a, b, c, d]);
      assert.deepEqual(await store.revocations.list(T0 + 10), [a, c, d]);
      assert.deepEqual(await store.revocations.list(T0 + 10, a.seq), [c, d]);
      assert.deepEqual(await store.revocations.list(T0, c.seq), [d]);
      assert.deepEqual(await store.revocations.list(T0, d.seq), []);
      assert.deepEqual(await store.revocations.list(T0 + HOUR), [c]);
      assert.deepEqual(await store.revocations.list(T0 + DAY), []);
    });

    it('prune forgets the expired records and returns how many', async () => {
      const a = await store.revocations.add(aRevocation('a', T0 + HOUR));
      await store.revocations.add(aRevocation('b', T0 + 10));
      await store.revocations.add(aRevocation('c', T0 + 20));
      assert.equal(await store.revocations.prune(T0), 0);
      assert.equal(await store.revocations.prune(T0 + 20), 2);
      assert.equal(await store.revocations.prune(T0 + 20), 0);
      // Expired records are gone even for a reader looking from the past.
      assert.deepEqual(await store.revocations.list(T0), [a]);
    });

    it('never reuses a seq, even that of a pruned record', async () => {
      await store.revocations.add(aRevocation('a', T0 + HOUR));
      const b = await store.revocations.add(aRevocation('b', T0 + 10));
      assert.equal(await store.revocations.prune(T0 + 10), 1);
      const c = await store.revocations.add(aRevocation('c', T0 + HOUR));
      assert.ok(c.seq > b.seq, `seq ${c.seq} after pruned ${b.seq}`);
      assert.deepEqual(await store.revocations.list(T0, b.seq), [c]);
    });
  });
}
