/**
 * Concurrent admin changes lose no update (review 12, defect 3): role grants and revocations, and client secret
 * rotations, are compare-and-set changes, on SQLite and on PostgreSQL. Before, each read the row, changed it in
 * memory and wrote it back: of concurrent grants only the last one's roles stayed, and of concurrent rotations
 * only the last one's secret worked, though each caller had been handed a secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Actor, AdminService } from '@tessera/server';

import { clientCredentials } from './helpers/oauth.js';
import { createSchema, dropSchema, POSTGRES_MISSING, postgresAvailable, urlWithSchema } from './helpers/postgres.js';
import { startServer, type TestServer } from './helpers/server.js';

const OPERATOR: Actor = { actor: 'ops-script', ip: null };
const ROLES = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'];
const available = await postgresAvailable();

for (const database of ['sqlite', 'postgres'] as const)
  describe(
    `concurrent admin changes on ${database}`,
    { skip: database === 'postgres' && !available ? POSTGRES_MISSING : false },
    () => {
      let t: TestServer;
      let admin: AdminService;
      let schema: string | undefined;

      before(async () => {
        if (database === 'postgres') schema = await createSchema();
        t = await startServer(schema === undefined ? {} : { overrides: { database: urlWithSchema(schema) } });
        admin = t.server.admin;
        for (const r of ROLES) await admin.roles.put(OPERATOR, r, [`${r}:read`], { replace: false });
      });
      after(async () => {
        await t.close();
        if (schema !== undefined) await dropSchema(schema);
      });

      it('concurrent-role-grants: every role granted at once is held; concurrent revocations take every one away', async () => {
        const user = await admin.users.create(OPERATOR, { username: 'gina', password: 'correct horse battery' });
        await Promise.all(ROLES.map((r) => admin.users.grantRole(OPERATOR, user.id, r)));
        assert.deepEqual([...(await admin.users.find({ id: user.id })).roles].sort(), ROLES);
        await Promise.all(ROLES.slice(0, 6).map((r) => admin.users.revokeRole(OPERATOR, user.id, r)));
        assert.deepEqual([...(await admin.users.find({ id: user.id })).roles].sort(), ['r7', 'r8']);
      });

      it('concurrent-secret-rotations: every secret handed out authenticates the client', async () => {
        const c = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['docs'] });
        const rotations = await Promise.all(Array.from({ length: 5 }, () => admin.clients.rotateSecret(OPERATOR, c.id, 3600)));
        for (const { secret } of rotations) {
          const r = await clientCredentials(t, { id: c.id, secret }, { resource: 'docs' });
          assert.equal(r.status, 200, JSON.stringify(r.body));
        }
        assert.equal((await admin.clients.find(c.id)).secrets.length, 6, 'the first secret and the five new ones');
      });
    },
  );
