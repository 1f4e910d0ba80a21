import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { openPostgresStore, openSqliteStore, type User } from '@tessera/server/internal';

import { createSchema, dropSchema, POSTGRES_MISSING, POSTGRES_URL, postgresAvailable } from './helpers/postgres.js';

/**
 * The hot paths' queries are compiled once per dialect (store/sql/prepared.ts) and shared by every store of the
 * process: a SQLite store and a PostgreSQL store side by side each run their own dialect's SQL, whichever
 * compiled first.
 */
describe('queries compiled once, per dialect', { skip: (await postgresAvailable()) ? false : POSTGRES_MISSING }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-prepared-'));
  let schema = '';
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (schema) await dropSchema(schema);
  });

  const user = (id: string): User => ({
    id,
    username: `name-${id}`,
    passwordHash: 'x',
    disabled: false,
    roles: [],
    createdAt: 1,
    updatedAt: 1,
  });

  it('serve a SQLite and a PostgreSQL store in one process, in either order', async () => {
    schema = await createSchema();
    const sqlite = openSqliteStore(join(dir, 'tessera.db'));
    const postgres = openPostgresStore(POSTGRES_URL, { schema, poolSize: 2 });
    try {
      await sqlite.migrate();
      await postgres.migrate();
      await sqlite.users.create(user('a'));
      await postgres.users.create(user('b'));
      for (let round = 0; round < 2; round++) {
        assert.equal((await sqlite.users.getById('a'))?.username, 'name-a');
        assert.equal((await postgres.users.getById('b'))?.username, 'name-b');
        assert.equal(await postgres.users.getById('a'), undefined);
        assert.equal((await postgres.users.getByUsername('name-b'))?.id, 'b');
        assert.equal((await sqlite.users.getByUsername('name-a'))?.id, 'a');
      }
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });
});
