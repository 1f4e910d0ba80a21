import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { SqlStore } from '@tessera/server/internal';

import { T0 } from './fixtures.js';

/** The store contract's part for AssertionJtiRepository. `current` is the running test's store (fresh, migrated). */
export function assertionJtisContract(current: () => SqlStore): void {
  describe('client assertion jtis', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('accepts a jti once per client, refuses the replay, forgets it after expiry', async () => {
      const exp = T0 + 60_000;
      assert.equal(await store.assertionJtis.use('orders', 'j1', exp, T0), true);
      assert.equal(await store.assertionJtis.use('orders', 'j1', exp, T0 + 1), false);
      assert.equal(await store.assertionJtis.use('billing', 'j1', exp, T0 + 2), true);
      assert.equal(await store.assertionJtis.use('billing', 'j1', exp, T0 + 3), false);
      assert.equal(await store.assertionJtis.use('orders', 'j2', exp, T0 + 4), true);
      assert.equal(await store.assertionJtis.use('orders', 'j1', exp, exp - 1), false);
      // Once expired the record is pruned, so the jti is usable again (the assertion's own exp guards it).
      assert.equal(await store.assertionJtis.use('orders', 'j1', exp + 60_000, exp), true);
      assert.equal(await store.assertionJtis.use('orders', 'j1', exp + 60_000, exp + 1), false);
    });

    it('accepts one of many concurrent uses of a jti', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.assertionJtis.use('orders', 'j1', T0 + 60_000, T0)),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });
  });
}
