import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { StoreRowError, type SqlStore } from '@tessera/server/internal';

import { execute } from '../helpers/faults.js';
import { aClient, aFamily, aKey, aRevocation, aToken, aUser, T0 } from './fixtures.js';

/**
 * The store contract, rows validated when read: a row that breaks the schema's promises (as a bad migration, a
 * hand edit or another program could leave it) fails the read with ERR_STORE_ROW naming the table and column,
 * never the value. `current` is the store of the running test (a fresh, migrated one).
 */
export function rowsContract(current: () => SqlStore): void {
  describe('rows are validated when read', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    const malformed = (table: string, column: string, secret?: string) => (err: unknown) => {
      assert.ok(err instanceof StoreRowError, `expected StoreRowError, got ${String(err)}`);
      assert.equal(err.code, 'ERR_STORE_ROW');
      assert.equal(err.table, table);
      assert.equal(err.column, column);
      if (secret !== undefined) assert.ok(!err.message.includes(secret), err.message);
      return true;
    };

    it('users: an email_verified flag that is not 0 or 1', async () => {
      await store.users.create(aUser({ id: 'u9', username: 'zed', email: 'zed@example.com' }));
      await execute(store, `update users set email_verified = 5 where id = 'u9'`);
      await assert.rejects(store.users.getById('u9'), malformed('users', 'email_verified'));
    });

    it('users: roles that are not a JSON array of strings, a flag that is not 0 or 1', async () => {
      await store.users.create(aUser({ id: 'u1', username: 'alice' }));
      await execute(store, `update users set roles = '[1]' where id = 'u1'`);
      await assert.rejects(store.users.getById('u1'), malformed('users', 'roles'));
      await execute(store, `update users set roles = 'reader' where id = 'u1'`);
      await assert.rejects(store.users.getByUsername('alice'), malformed('users', 'roles'));
      await execute(store, `update users set roles = '[]', disabled = 2 where id = 'u1'`);
      await assert.rejects(store.users.list(10), malformed('users', 'disabled'));
    });

    it('roles: permissions that are not a JSON array of strings', async () => {
      await store.roles.put({ name: 'reader', permissions: ['docs:read'] });
      await execute(store, `update roles set permissions = '{"docs:read":true}'`);
      await assert.rejects(store.roles.list(), malformed('roles', 'permissions'));
      await assert.rejects(store.roles.permissionsOf(['reader']), malformed('roles', 'permissions'));
    });

    it('clients: an unknown auth method or grant type, a secret without its digest, a JWKS without keys, redirect URIs that are not strings', async () => {
      const steps: [string, string][] = [
        [`auth_method = 'public'`, 'auth_method'],
        [`grant_types = '["implicit"]'`, 'grant_types'],
        [`secrets = '[{"createdAt":1,"expiresAt":null}]'`, 'secrets'],
        [`jwks = '{"kty":"EC"}'`, 'jwks'],
        [`scopes = '"docs:read"'`, 'scopes'],
        [`redirect_uris = 'https://app.example.com/cb'`, 'redirect_uris'],
        [`post_logout_redirect_uris = '[null]'`, 'post_logout_redirect_uris'],
        [`require_par = 2`, 'require_par'],
        [`dpop_bound = 2`, 'dpop_bound'],
        [`id_token_alg = 'none'`, 'id_token_alg'],
      ];
      for (const [i, [set, column]] of steps.entries()) {
        await store.clients.create(aClient({ id: `c${i}` }));
        await execute(store, `update clients set ${set} where id = 'c${i}'`);
        await assert.rejects(store.clients.get(`c${i}`), malformed('clients', column));
        await store.clients.delete(`c${i}`);
      }
      await store.clients.create(aClient({ id: 'c' }));
      await execute(store, `update clients set first_party = 7 where id = 'c'`);
      await assert.rejects(store.clients.list(), malformed('clients', 'first_party'));
    });

    it('browser sessions, pending authorization requests, codes: a time past the safe integers, params that are not strings, an audience that is not an array', async () => {
      await store.browserSessions.create({
        id: 'b1',
        digest: 's1',
        userId: 'u1',
        authTime: T0,
        createdAt: T0,
        idleExpiresAt: T0 + 60_000,
        absoluteExpiresAt: T0 + 120_000,
      });
      await execute(store, `update browser_sessions set auth_time = 9007199254740993 where digest = 's1'`);
      await assert.rejects(store.browserSessions.touch('s1', T0, T0 + 60_000), malformed('browser_sessions', 'auth_time'));
      const request = { digest: 'r1', clientId: 'spa', params: { state: 'x' }, createdAt: T0, expiresAt: T0 + 60_000 };
      await store.authorizationRequests.create(request);
      await execute(store, `update authorization_requests set params = '{"state":1}' where digest = 'r1'`);
      await assert.rejects(store.authorizationRequests.get('r1', T0), malformed('authorization_requests', 'params'));
      await store.authorizationCodes.create({
        digest: 'c1',
        clientId: 'spa',
        userId: 'u1',
        redirectUri: 'https://app.example.com/cb',
        codeChallenge: 'x',
        scope: '',
        audience: ['api'],
        authTime: T0,
        createdAt: T0,
        expiresAt: T0 + 60_000,
        usedAt: null,
        familyId: null,
        browserSessionId: null,
        nonce: null,
        acr: null,
        amr: [],
      });
      await execute(store, `update authorization_codes set audience = '"api"' where digest = 'c1'`);
      await assert.rejects(store.authorizationCodes.get('c1'), malformed('authorization_codes', 'audience'));
      await execute(store, `update authorization_codes set audience = '["api"]', amr = '"pwd"' where digest = 'c1'`);
      await assert.rejects(store.authorizationCodes.get('c1'), malformed('authorization_codes', 'amr'));
    });

    it('refresh families: an audience that is not a JSON array, on every read of the family', async () => {
      await store.refreshFamilies.create(aFamily({ id: 'f1' }), aToken('d1', 'f1'));
      await execute(store, `update refresh_families set audience = 'docs' where id = 'f1'`);
      for (const read of [
        () => store.refreshFamilies.get('f1'),
        () => store.refreshFamilies.findToken('d1'),
        () => store.refreshFamilies.list({ userId: 'alice' }),
        () =>
          store.refreshFamilies.rotate('d1', { digest: 'd2', createdAt: T0, expiresAt: T0 + 1000, usedAt: null }, T0, {
            expiresAt: T0 + 1000,
            reason: 'test',
          }),
      ])
        await assert.rejects(read(), malformed('refresh_families', 'audience'));
      // The failed rotation wrote nothing: the token is still unspent.
      await execute(store, `update refresh_families set audience = '[]' where id = 'f1'`);
      assert.equal((await store.refreshFamilies.findToken('d1'))?.token.usedAt, null);
    });

    it('revocations: a kind outside jti, subject, client, family', async () => {
      await store.revocations.add(aRevocation('j1', T0 + 1000));
      await execute(store, `update revocations set kind = 'everything'`);
      await assert.rejects(store.revocations.list(T0), malformed('revocations', 'kind'));
    });

    it('signing keys: an unknown state, a public JWK that is not an object (the private key never in the message)', async () => {
      await store.keys.insert(aKey({ kid: 'k1' }));
      await execute(store, `update signing_keys set state = 'compromised'`);
      await assert.rejects(store.keys.list(), malformed('signing_keys', 'state', 'v1.iv.k1.tag'));
      await execute(store, `update signing_keys set state = 'active', public_jwk = '["x"]'`);
      await assert.rejects(store.keys.list(), malformed('signing_keys', 'public_jwk'));
    });

    it('audit: an unknown outcome, data that is not a JSON object', async () => {
      await store.audit.append({
        time: T0,
        type: 't',
        outcome: 'info',
        actor: null,
        subject: null,
        clientId: null,
        ip: null,
        data: {},
      });
      await execute(store, `update audit_events set outcome = 'maybe'`);
      await assert.rejects(store.audit.query({ limit: 10 }), malformed('audit_events', 'outcome'));
      await execute(store, `update audit_events set outcome = 'info', data = 'null'`);
      await assert.rejects(store.audit.query({ limit: 10 }), malformed('audit_events', 'data'));
    });
  });
}
