import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { SqlStore } from '@tessera/server/internal';

import { T0, HOUR } from './fixtures.js';

/** The store contract's part for LeaseRepository. `current` is the running test's store (fresh, migrated). */
export function leasesContract(current: () => SqlStore): void {
  describe('leases', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('gives a free lease to its first taker and refuses another holder while it is in force', async () => {
      assert.equal(await store.leases.acquire('job', 'a', 1000, T0), true);
      assert.equal(await store.leases.acquire('job', 'b', 1000, T0 + 1), false);
      assert.equal(await store.leases.acquire('job', 'b', 1000, T0 + 999), false);
      // Leases of other names are independent.
      assert.equal(await store.leases.acquire('other-job', 'b', 1000, T0 + 1), true);
      assert.equal(await store.leases.acquire('other-job', 'a', 1000, T0 + 2), false);
    });

    it('gives an expired lease to the next taker; the former holder is then refused', async () => {
      assert.equal(await store.leases.acquire('job', 'a', 1000, T0), true);
      assert.equal(await store.leases.acquire('job', 'b', 1000, T0 + 1000), true);
      assert.equal(await store.leases.acquire('job', 'a', 1000, T0 + 1001), false);
      assert.equal(await store.leases.acquire('job', 'b', 1000, T0 + 1500), true);
    });

    it('renews the lease of its holder from the time of the renewal', async () => {
      assert.equal(await store.leases.acquire('job', 'a', 1000, T0), true);
      assert.equal(await store.leases.acquire('job', 'a', 1000, T0 + 900), true);
      assert.equal(await store.leases.acquire('job', 'b', 1000, T0 + 1500), false, 'renewed until T0 + 1900');
      assert.equal(await store.leases.acquire('job', 'b', 1000, T0 + 1900), true);
    });

    it('frees a lease on release by its holder only', async () => {
      assert.equal(await store.leases.acquire('job', 'a', HOUR, T0), true);
      await store.leases.release('job', 'b');
      assert.equal(await store.leases.acquire('job', 'b', HOUR, T0 + 1), false, 'released by another holder: still held');
      await store.leases.release('job', 'a');
      assert.equal(await store.leases.acquire('job', 'b', HOUR, T0 + 2), true);
      assert.equal(await store.leases.acquire('job', 'a', HOUR, T0 + 3), false);
      // Releasing what one does not hold, or what does not exist, is no error.
      await store.leases.release('job', 'a');
      await store.leases.release('nothing', 'a');
      assert.equal(await store.leases.acquire('job', 'a', HOUR, T0 + 4), false);
    });

    it('gives a lease to exactly one of 20 concurrent takers, free or expired', async () => {
      const free = await Promise.all(Array.from({ length: 20 }, (_, i) => store.leases.acquire('job', `h${i}`, 1000, T0)));
      assert.equal(free.filter(Boolean).length, 1);
      const expired = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.leases.acquire('job', `late${i}`, 1000, T0 + 1000)),
      );
      assert.equal(expired.filter(Boolean).length, 1);
    });
  });
}
