import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { type SqlStore, type Store } from '@tessera/server/internal';

import { T0, HOUR, DAY, aKey } from './fixtures.js';

/** The store contract's part for KeyRepository. `current` is the running test's store (fresh, migrated). */
export function keysContract(current: () => SqlStore): void {
  describe('signing keys', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

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
      for (const k of [k2, k1, hs, k0]) await store.keys.insert(k);
      assert.deepEqual(await store.keys.list(), [hs, k0, k1, k2]);
    });

    it('updates each field alone and leaves the rest', async () => {
      const k = aKey({ kid: 'k1', state: 'next', activatesAt: T0 + DAY });
      const other = aKey({ kid: 'k0', state: 'active', activatesAt: T0 });
      await store.keys.insert(k);
      await store.keys.insert(other);
      const patches: Parameters<Store['keys']['update']>[1][] = [
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
        await store.keys.update('k1', patch);
        expected = { ...expected, ...patch };
        assert.deepEqual(
          (await store.keys.list()).find((x) => x.kid === 'k1'),
          expected,
          JSON.stringify(patch),
        );
      }
      assert.deepEqual(
        (await store.keys.list()).find((x) => x.kid === 'k0'),
        other,
      );
    });

    it('reorders the list when activatesAt changes', async () => {
      await store.keys.insert(aKey({ kid: 'k1', activatesAt: T0 }));
      await store.keys.insert(aKey({ kid: 'k2', activatesAt: T0 + DAY }));
      await store.keys.update('k2', { activatesAt: T0 - DAY });
      assert.deepEqual(
        (await store.keys.list()).map((k) => k.kid),
        ['k2', 'k1'],
      );
    });
  });
}
