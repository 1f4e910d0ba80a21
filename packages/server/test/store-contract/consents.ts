import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { Consent, SqlStore } from '@tessera/server/internal';

import { aClient, aUser, RECORD, T0 } from './fixtures.js';

function aConsent(c: Partial<Consent> & Pick<Consent, 'userId' | 'clientId'>): Consent {
  return { scopes: ['orders:read'], grantedAt: T0, ...c };
}

/** The store contract's part for ConsentRepository. `current` is the running test's store (fresh, migrated). */
export function consentsContract(current: () => SqlStore): void {
  describe('consents', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('reads a consent back, replaces it, lists a user’s by client, and withdraws it', async () => {
      await store.consents.put(aConsent({ userId: 'u1', clientId: 'shop' }));
      await store.consents.put(aConsent({ userId: 'u1', clientId: 'blog', scopes: [] }));
      await store.consents.put(aConsent({ userId: 'u2', clientId: 'shop' }));
      assert.deepEqual(await store.consents.get('u1', 'shop'), aConsent({ userId: 'u1', clientId: 'shop' }));
      const wider = aConsent({ userId: 'u1', clientId: 'shop', scopes: ['orders:read', 'orders:write'], grantedAt: T0 + 5 });
      await store.consents.put(wider);
      assert.deepEqual(await store.consents.get('u1', 'shop'), wider);
      assert.deepEqual(
        (await store.consents.listByUser('u1')).map((c) => c.clientId),
        ['blog', 'shop'],
      );
      assert.equal(await store.consents.delete('u1', 'shop'), true);
      assert.equal(await store.consents.delete('u1', 'shop'), false);
      assert.equal(await store.consents.get('u1', 'shop'), undefined);
      assert.deepEqual(await store.consents.get('u2', 'shop'), aConsent({ userId: 'u2', clientId: 'shop' }));
    });

    it('a deleted user or client takes its consents along, so that a later one of the same id has none', async () => {
      for (const id of ['u1', 'u2']) await store.users.create(aUser({ id, username: id }));
      for (const id of ['shop', 'blog']) await store.clients.create(aClient({ id }));
      for (const userId of ['u1', 'u2'])
        for (const clientId of ['shop', 'blog']) await store.consents.put(aConsent({ userId, clientId }));
      assert.equal(await store.users.delete('u1'), true);
      assert.deepEqual(await store.consents.listByUser('u1'), []);
      await store.users.deleteAndCutOff('u2', T0 + 1, RECORD);
      assert.deepEqual(await store.consents.listByUser('u2'), []);

      for (const userId of ['u3', 'u4'])
        for (const clientId of ['shop', 'blog']) await store.consents.put(aConsent({ userId, clientId }));
      assert.equal(await store.clients.delete('shop'), true);
      await store.clients.deleteAndCutOff('blog', T0 + 2, RECORD);
      assert.deepEqual(await store.consents.listByUser('u3'), []);
      assert.deepEqual(await store.consents.listByUser('u4'), []);
    });
  });
}
