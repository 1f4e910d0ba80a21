import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';

import type { SqlStore } from '@tessera/server/internal';

import { assertionJtisContract } from './assertion-jtis.js';
import { atomicRevocationsContract } from './atomic-revocations.js';
import { auditContract } from './audit.js';
import { authorizationCodesContract } from './authorization-codes.js';
import { authorizationRequestsContract } from './authorization-requests.js';
import { browserSessionsContract } from './browser-sessions.js';
import { clientsContract } from './clients.js';
import { consentsContract } from './consents.js';
import { aUser } from './fixtures.js';
import { keysContract } from './keys.js';
import { leasesContract } from './leases.js';
import { refreshFamiliesContract } from './refresh-families.js';
import { revocationsContract } from './revocations.js';
import { rowsContract } from './rows.js';
import { usersContract } from './users.js';
import { workloadIssuersContract } from './workload-issuers.js';

/**
 * The Store contract: every implementation (SQLite, PostgreSQL) runs this suite unchanged, one file per repository.
 * `open` must return a migrated store on an empty database, one per test; the suite closes it after the test.
 * `cleanup` runs once after the whole suite.
 */
export function storeContract(name: string, open: () => Promise<SqlStore>, cleanup?: () => Promise<void>): void {
  describe(`Store contract: ${name}`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });
    if (cleanup) after(cleanup);
    const current = () => store;

    describe('lifecycle', () => {
      it('answers ping()', async () => {
        await store.ping();
      });

      it('migrate() is idempotent and keeps the data', async () => {
        await store.users.create(aUser({ id: 'u1', username: 'alice' }));
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.users.getById('u1'), aUser({ id: 'u1', username: 'alice' }));
      });
    });

    usersContract(current);
    clientsContract(current);
    refreshFamiliesContract(current);
    atomicRevocationsContract(current);
    revocationsContract(current);
    keysContract(current);
    auditContract(current);
    leasesContract(current);
    assertionJtisContract(current);
    browserSessionsContract(current);
    authorizationRequestsContract(current);
    authorizationCodesContract(current);
    consentsContract(current);
    rowsContract(current);
    workloadIssuersContract(current);
  });
}
