import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { type SqlStore, type Store } from '@tessera/server/internal';

import { execute } from '../helpers/faults.js';
import { T0, isConflict, aClient } from './fixtures.js';

/** The store contract's part for ClientRepository. `current` is the running test's store (fresh, migrated). */
export function clientsContract(current: () => SqlStore): void {
  describe('clients', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('creates a client and reads it back, every field intact', async () => {
      const c = aClient({
        id: 'orders',
        authMethod: 'private_key_jwt',
        secrets: [],
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1', use: 'sig' }] },
        firstParty: true,
        redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1/callback', 'com.example.app:/callback'],
        postLogoutRedirectUris: ['https://app.example.com/'],
        requirePar: true,
        dpopBoundAccessTokens: true,
        idTokenSignedResponseAlg: 'RS256',
        accessTokenTtl: 300,
        refreshTokenTtl: 86400,
        disabled: true,
      });
      await store.clients.create(c);
      await store.clients.create(aClient({ id: 'billing' }));
      assert.deepEqual(await store.clients.get('orders'), c);
      assert.deepEqual(await store.clients.get('billing'), aClient({ id: 'billing' }));
      assert.equal(await store.clients.get('nope'), undefined);
    });

    it('reads a client written before the sign-in columns existed as one without redirect URIs or PAR', async () => {
      await execute(
        store,
        `insert into clients (id, name, auth_method, secrets, grant_types, scopes, audiences, first_party, created_at, updated_at)
         values ('legacy', 'Legacy', 'client_secret_basic', '[]', '["client_credentials"]', '[]', '[]', 0, ${T0}, ${T0})`,
      );
      const c = await store.clients.get('legacy');
      assert.deepEqual(
        { redirectUris: c?.redirectUris, postLogoutRedirectUris: c?.postLogoutRedirectUris, requirePar: c?.requirePar },
        { redirectUris: [], postLogoutRedirectUris: [], requirePar: false },
      );
    });

    it('refuses a duplicate id with StoreConflictError and keeps the first client', async () => {
      await store.clients.create(aClient({ id: 'orders', name: 'Orders' }));
      await assert.rejects(store.clients.create(aClient({ id: 'orders', name: 'Impostor' })), isConflict);
      assert.equal((await store.clients.get('orders'))?.name, 'Orders');
    });

    it('lists every client', async () => {
      for (const id of ['orders', 'billing', 'search']) await store.clients.create(aClient({ id }));
      assert.deepEqual(
        (await store.clients.list()).map((c) => c.id),
        ['billing', 'orders', 'search'],
      );
      assert.deepEqual(
        (await store.clients.list()).find((c) => c.id === 'search'),
        aClient({ id: 'search' }),
      );
    });

    it('updates each field alone, stamping updatedAt and leaving the rest', async () => {
      const c = aClient({ id: 'orders' });
      await store.clients.create(c);
      await store.clients.create(aClient({ id: 'billing' }));
      const patches: Parameters<Store['clients']['update']>[1][] = [
        { name: 'Orders v2' },
        { authMethod: 'client_secret_post' },
        {
          secrets: [
            { digest: 'new-digest', createdAt: T0 + 5, expiresAt: null },
            { digest: 'old-digest', createdAt: T0, expiresAt: T0 + 3_600_000 },
          ],
        },
        { secrets: [] },
        { jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'e1' }] } },
        { jwks: null },
        { grantTypes: ['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
        { scopes: ['a:read', 'b:write'] },
        { scopes: [] },
        { audiences: ['inventory', 'https://api.example.com'] },
        { firstParty: true },
        { firstParty: false },
        { authMethod: 'none', secrets: [], grantTypes: ['authorization_code', 'refresh_token'] },
        { redirectUris: ['https://app.example.com/callback', 'http://[::1]:8080/cb'] },
        { redirectUris: [] },
        { postLogoutRedirectUris: ['https://app.example.com/bye'] },
        { postLogoutRedirectUris: [] },
        { requirePar: true },
        { requirePar: false },
        { dpopBoundAccessTokens: true },
        { dpopBoundAccessTokens: false },
        { idTokenSignedResponseAlg: 'RS256' },
        { idTokenSignedResponseAlg: 'EdDSA' },
        { idTokenSignedResponseAlg: null },
        { accessTokenTtl: 120 },
        { accessTokenTtl: null },
        { refreshTokenTtl: 7200 },
        { refreshTokenTtl: null },
        { disabled: true },
        { disabled: false },
        { name: 'Orders v3', scopes: ['c:read'], disabled: true },
      ];
      let expected = c;
      let now = T0;
      for (const patch of patches) {
        now += 1000;
        assert.equal(await store.clients.update('orders', patch, now), true, JSON.stringify(patch));
        expected = { ...expected, ...patch, updatedAt: now };
        // Cleared, the ID token algorithm is absent (the server's), as on a client that never had one.
        if (expected.idTokenSignedResponseAlg === null) delete expected.idTokenSignedResponseAlg;
        // Not required, DPoP is optional: absent, as on a client that never required it.
        if (expected.dpopBoundAccessTokens === false) delete expected.dpopBoundAccessTokens;
        assert.deepEqual(await store.clients.get('orders'), expected, JSON.stringify(patch));
      }
      assert.deepEqual(await store.clients.get('billing'), aClient({ id: 'billing' }));
    });

    it('keeps a mutual-TLS client: its subject (each kind) and tls_client_certificate_bound_access_tokens', async () => {
      const c = aClient({
        id: 'mtls',
        authMethod: 'tls_client_auth',
        secrets: [],
        tlsClientAuthSubject: { kind: 'subject_dn', value: 'CN=orders,O=Acme\\, Inc' },
        tlsClientCertificateBoundAccessTokens: true,
      });
      await store.clients.create(c);
      assert.deepEqual(await store.clients.get('mtls'), c);
      let expected = c;
      let now = T0;
      for (const kind of ['san_dns', 'san_uri', 'san_ip', 'san_email', 'subject_dn'] as const) {
        now += 1000;
        const patch = { tlsClientAuthSubject: { kind, value: `value-${kind}` } };
        assert.equal(await store.clients.update('mtls', patch, now), true);
        expected = { ...expected, ...patch, updatedAt: now };
        assert.deepEqual(await store.clients.get('mtls'), expected, kind);
      }
      // Cleared, and unbound: absent, as on a client that never had them.
      now += 1000;
      const cleared = {
        authMethod: 'self_signed_tls_client_auth' as const,
        tlsClientAuthSubject: null,
        tlsClientCertificateBoundAccessTokens: false,
      };
      assert.equal(await store.clients.update('mtls', cleared, now), true);
      const rest: Partial<typeof expected> = { ...expected, authMethod: 'self_signed_tls_client_auth', updatedAt: now };
      delete rest.tlsClientAuthSubject;
      delete rest.tlsClientCertificateBoundAccessTokens;
      assert.deepEqual(await store.clients.get('mtls'), rest);
    });

    it('replaceSecrets is a compare and set: of concurrent replacements made from one read, exactly one lands', async () => {
      const c = aClient({ id: 'orders' });
      await store.clients.create(c);
      const read = (await store.clients.get('orders'))!.secrets;
      const fresh = (i: number) => [{ digest: `new-${i}`, createdAt: T0 + i, expiresAt: null }, ...read];
      const landed = await Promise.all([1, 2, 3, 4].map((i) => store.clients.replaceSecrets('orders', read, fresh(i), T0 + i)));
      assert.equal(landed.filter(Boolean).length, 1);
      assert.deepEqual((await store.clients.get('orders'))?.secrets, fresh(landed.indexOf(true) + 1));
      assert.equal(await store.clients.replaceSecrets('orders', read, [], T0 + 9), false, 'a stale read writes nothing');
      assert.equal(await store.clients.replaceSecrets('ghost', [], [], T0 + 9), false);
    });

    it('answers false when updating an unknown id', async () => {
      assert.equal(await store.clients.update('nope', { name: 'x' }, T0), false);
      assert.equal(await store.clients.get('nope'), undefined);
    });

    it('deletes a client once', async () => {
      await store.clients.create(aClient({ id: 'orders' }));
      await store.clients.create(aClient({ id: 'billing' }));
      assert.equal(await store.clients.delete('orders'), true);
      assert.equal(await store.clients.get('orders'), undefined);
      assert.equal(await store.clients.delete('orders'), false);
      assert.deepEqual(
        (await store.clients.list()).map((c) => c.id),
        ['billing'],
      );
      // The id is free again.
      await store.clients.create(aClient({ id: 'orders', name: 'Reborn' }));
      assert.equal((await store.clients.get('orders'))?.name, 'Reborn');
    });
  });
}
