import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { PendingAuthorization, SqlStore } from '@tessera/server/internal';

import { T0 } from './fixtures.js';

function aRequest(p: Partial<PendingAuthorization> & Pick<PendingAuthorization, 'digest'>): PendingAuthorization {
  return {
    clientId: 'spa',
    params: {
      redirect_uri: 'https://app.example.com/cb',
      state: 'xyz',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scope: '',
    },
    createdAt: T0,
    expiresAt: T0 + 600_000,
    ...p,
  };
}

/** The store contract's part for AuthorizationRequestRepository. `current` is the running test's store (fresh, migrated). */
export function authorizationRequestsContract(current: () => SqlStore): void {
  describe('pending authorization requests', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('reads a request back intact until it expires', async () => {
      await store.authorizationRequests.create(aRequest({ digest: 'r1' }));
      assert.deepEqual(await store.authorizationRequests.get('r1', T0 + 1), aRequest({ digest: 'r1' }));
      assert.deepEqual(await store.authorizationRequests.get('r1', T0 + 599_999), aRequest({ digest: 'r1' }));
      assert.equal(await store.authorizationRequests.get('r1', T0 + 600_000), undefined);
      assert.equal(await store.authorizationRequests.get('nope', T0), undefined);
    });

    it('take hands a request out once, and not after it has expired', async () => {
      await store.authorizationRequests.create(aRequest({ digest: 'r1' }));
      await store.authorizationRequests.create(aRequest({ digest: 'r2' }));
      assert.deepEqual(await store.authorizationRequests.take('r1', T0), aRequest({ digest: 'r1' }));
      assert.equal(await store.authorizationRequests.take('r1', T0), undefined);
      assert.equal(await store.authorizationRequests.get('r1', T0), undefined);
      assert.equal(await store.authorizationRequests.take('r2', T0 + 600_000), undefined);
    });

    it('of concurrent takes of one request exactly one gets it', async () => {
      await store.authorizationRequests.create(aRequest({ digest: 'r1' }));
      const results = await Promise.all(Array.from({ length: 20 }, () => store.authorizationRequests.take('r1', T0)));
      assert.equal(results.filter((r) => r !== undefined).length, 1);
    });

    it('prune deletes expired requests only, at most limit at a time', async () => {
      for (let i = 0; i < 3; i++) await store.authorizationRequests.create(aRequest({ digest: `old${i}`, expiresAt: T0 + i }));
      await store.authorizationRequests.create(aRequest({ digest: 'live' }));
      assert.equal(await store.authorizationRequests.prune(T0 + 5, 2), 2);
      assert.equal(await store.authorizationRequests.prune(T0 + 5, 2), 1);
      assert.ok(await store.authorizationRequests.get('live', T0 + 5));
    });
  });
}
