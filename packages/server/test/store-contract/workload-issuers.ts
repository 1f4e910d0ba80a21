import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { parseWorkloadIssuer, type SqlStore, type WorkloadIssuer } from '@tessera/server/internal';

import { HOUR, isConflict, T0 } from './fixtures.js';

/** An issuer record as the admin service stores it (checked by the one parser of the wire form). */
export function anIssuer(name: string, issuer: string, extra: Record<string, unknown> = {}, at = T0): WorkloadIssuer {
  return {
    ...parseWorkloadIssuer({
      name,
      issuer,
      keys: { jwks_uri: `${issuer}/keys` },
      audience: 'https://auth.example.com',
      rules: [{ client: 'deploy', claims: { repository: 'acme/*', '/kubernetes.io/namespace': 'ci' } }],
      ...extra,
    }),
    createdAt: at,
    updatedAt: at,
  };
}

/** The store contract's part for WorkloadIssuerRepository. `current` is the running test's store (fresh, migrated). */
export function workloadIssuersContract(current: () => SqlStore): void {
  describe('workload issuers', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('creates, reads back by name and by exact issuer, lists by name', async () => {
      const b = anIssuer('kube', 'https://kube.example.com', { single_use: false, max_token_age: 600 });
      const a = anIssuer('github', 'https://token.actions.githubusercontent.com', { keys: { discovery: true } });
      await store.workloadIssuers.create(b);
      await store.workloadIssuers.create(a);
      assert.deepEqual(await store.workloadIssuers.get('kube'), b);
      assert.deepEqual(await store.workloadIssuers.byIssuer('https://token.actions.githubusercontent.com'), a);
      assert.equal(await store.workloadIssuers.byIssuer('https://token.actions.githubusercontent.com/'), undefined);
      assert.equal(await store.workloadIssuers.get('nope'), undefined);
      assert.deepEqual(
        (await store.workloadIssuers.list()).map((i) => i.name),
        ['github', 'kube'],
      );
    });

    it('refuses a taken name or a taken issuer, keeping the first', async () => {
      const first = anIssuer('kube', 'https://kube.example.com');
      await store.workloadIssuers.create(first);
      await assert.rejects(store.workloadIssuers.create(anIssuer('kube', 'https://other.example.com')), isConflict);
      await assert.rejects(store.workloadIssuers.create(anIssuer('kube-2', 'https://kube.example.com')), isConflict);
      assert.deepEqual(await store.workloadIssuers.list(), [first]);
    });

    it('replaces by name (false for none), refusing an issuer another holds; deletes (false for none)', async () => {
      await store.workloadIssuers.create(anIssuer('kube', 'https://kube.example.com'));
      await store.workloadIssuers.create(
        anIssuer('spire', 'spiffe://example.org', { keys: { spiffe_bundle_endpoint: 'https://spire.example.org/bundle' } }),
      );
      const changed = { ...anIssuer('kube', 'https://kube2.example.com', { audience: 'tessera' }), updatedAt: T0 + HOUR };
      assert.equal(await store.workloadIssuers.replace(changed), true);
      assert.deepEqual(await store.workloadIssuers.get('kube'), changed);
      assert.equal(await store.workloadIssuers.byIssuer('https://kube.example.com'), undefined);
      assert.equal(await store.workloadIssuers.replace(anIssuer('none', 'https://none.example.com')), false);
      await assert.rejects(
        store.workloadIssuers.replace(
          anIssuer('kube', 'spiffe://example.org', { keys: { spiffe_bundle_endpoint: 'https://spire.example.org/bundle' } }),
        ),
        isConflict,
      );
      assert.deepEqual(await store.workloadIssuers.get('kube'), changed);
      assert.equal(await store.workloadIssuers.delete('kube'), true);
      assert.equal(await store.workloadIssuers.delete('kube'), false);
      assert.deepEqual(
        (await store.workloadIssuers.list()).map((i) => i.name),
        ['spire'],
      );
    });
  });
}
