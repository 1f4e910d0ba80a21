/**
 * The errors a caller of @tessera/server meets are TesseraErrors with a stable `code`, their data in fields:
 * a bad setting, a database that cannot be opened or migrated, a master key that does not fit the stored
 * keys, a taken username or client id (in the store, and through the admin service), a kid imported twice.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { ConfigError, generateKey, TesseraError } from '@tessera/core';
import {
  createServer,
  KeyDecryptionError,
  StoreMigrationError,
  StoreUnavailableError,
  type TesseraServer,
} from '@tessera/server';
import {
  CLI_ACTOR,
  ConflictError,
  MasterKey,
  openPostgresStore,
  openSqliteStore,
  registerClient,
  StoreConflictError,
  type SqlStore,
  type User,
  contextOf,
} from '@tessera/server/internal';
import SQLite from 'better-sqlite3';

import {
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresAvailable,
  urlWithSchema,
} from './helpers/postgres.js';

const postgres = await postgresAvailable();
const skipPostgres = postgres || POSTGRES_REQUIRED ? false : POSTGRES_MISSING;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-errors-'));
}

function start(dir: string, overrides: Record<string, unknown> = {}): Promise<TesseraServer> {
  return createServer({ file: undefined, cwd: dir, overrides: { dataDir: dir, logLevel: 'silent', ...overrides } });
}

/** `err` is a TesseraError of class `cls` with code `code`; returns it typed for further checks. */
function coded<T extends TesseraError>(err: unknown, cls: abstract new (...args: never[]) => T, code: string): T {
  assert.ok(err instanceof TesseraError, `a TesseraError, got ${String(err)}`);
  assert.ok(err instanceof cls, `a ${cls.name}, got ${err.name}`);
  assert.equal(err.code, code);
  return err;
}

/** What `fn` throws; fails the test if it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return assert.fail('expected a refusal');
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err,
  );
}

describe('createServer refuses what it cannot run with, with a coded error', () => {
  it('a setting out of range: ConfigError naming it', async () => {
    const err = coded(await failure(start(tempDir(), { port: -1 })), ConfigError, 'ERR_CONFIG');
    assert.equal(err.option, 'port');
  });

  it('a database file that is not a SQLite database: StoreUnavailableError with the driver code', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tessera.db'), 'not a database '.repeat(100));
    const err = coded(await failure(start(dir)), StoreUnavailableError, 'ERR_STORE_UNAVAILABLE');
    assert.match(err.message, /SQLITE_NOTADB/);
  });

  it('a schema a migration cannot apply: StoreMigrationError naming the migration', async () => {
    const dir = tempDir();
    // A table of the first migration already there, of another shape: `create table users` fails.
    const db = new SQLite(join(dir, 'tessera.db'));
    db.exec('create table users (x integer)');
    db.close();
    const err = coded(await failure(start(dir)), StoreMigrationError, 'ERR_STORE_MIGRATION');
    assert.equal(err.migration, '0001_initial');
    assert.ok(err.cause instanceof Error);
  });

  it('a master key other than the one the signing keys were encrypted with: KeyDecryptionError', async () => {
    const dir = tempDir();
    const first = await start(dir, { masterKey: randomBytes(32).toString('base64url') });
    await first.close();
    const second = await start(dir, { masterKey: randomBytes(32).toString('base64url') });
    try {
      const err = coded(
        thrown(() => contextOf(second).keys.activeKey()),
        KeyDecryptionError,
        'ERR_KEY_DECRYPTION',
      );
      assert.equal(err.reason, 'authentication');
      assert.equal(
        err.kid,
        contextOf(second)
          .keys.list()
          .find((r) => r.state === 'active')?.kid,
      );
    } finally {
      await second.close();
    }
  });

  it('a stored key that is not an encrypted key: KeyDecryptionError with reason format', () => {
    const master = new MasterKey(randomBytes(32));
    const box = master.encrypt('{"k":"v"}', 'kid-1');
    assert.equal(master.decrypt(box, 'kid-1'), '{"k":"v"}');
    const err = coded(
      thrown(() => master.decrypt('v0.not-a-box', 'kid-1')),
      KeyDecryptionError,
      'ERR_KEY_DECRYPTION',
    );
    assert.equal(err.reason, 'format');
    assert.equal(err.kid, 'kid-1');
  });
});

const NOW = 1_700_000_000_000;

function user(id: string, username: string): User {
  return { id, username, passwordHash: 'x', disabled: false, roles: [], createdAt: NOW, updatedAt: NOW };
}

/** A taken key is StoreConflictError from the store on either database (the drivers' codes stay inside). */
function conflicts(name: string, open: () => Promise<{ store: SqlStore; done: () => Promise<void> }>, skip: string | false) {
  describe(`store conflicts (${name})`, { skip }, () => {
    it('a taken username or client id is StoreConflictError naming the entity', async () => {
      const { store, done } = await open();
      try {
        await store.users.create(user('u1', 'ada'));
        const u = coded(await failure(store.users.create(user('u2', 'ada'))), StoreConflictError, 'ERR_STORE_CONFLICT');
        assert.equal(u.entity, 'user');
        const input = { id: 'svc', grantTypes: ['client_credentials' as const], scopes: [], audiences: [] };
        const { client } = await registerClient(store, new MasterKey(randomBytes(32)), input, NOW);
        const c = coded(await failure(store.clients.create(client)), StoreConflictError, 'ERR_STORE_CONFLICT');
        assert.equal(c.entity, 'client');
        // Through the service that registers clients, the same clash is the admin service's ConflictError.
        const again = registerClient(store, new MasterKey(randomBytes(32)), input, NOW);
        coded(await failure(again), ConflictError, 'ERR_CONFLICT');
      } finally {
        await done();
      }
    });
  });
}

conflicts(
  'SQLite',
  async () => {
    const store = openSqliteStore(join(tempDir(), 'tessera.db'));
    await store.migrate();
    return { store, done: () => store.close() };
  },
  false,
);
conflicts(
  'PostgreSQL',
  async () => {
    const schema = await createSchema();
    const store = openPostgresStore(POSTGRES_URL, { schema, poolSize: 2 });
    await store.migrate();
    return {
      store,
      done: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  },
  skipPostgres,
);

describe('the admin service answers a conflict with ConflictError', () => {
  const dir = tempDir();
  const server = start(dir);
  after(async () => (await server).close());

  it('a taken username', async () => {
    const { admin } = await server;
    await admin.users.create(CLI_ACTOR, { username: 'grace', password: 'correct horse battery staple' });
    const err = await failure(admin.users.create(CLI_ACTOR, { username: 'grace', password: 'correct horse battery staple' }));
    coded(err, ConflictError, 'ERR_CONFLICT');
    assert.ok(!(err instanceof StoreConflictError), 'the store error does not leak through the service');
  });

  it('a kid imported twice', async () => {
    const { admin, config } = await server;
    const key = generateKey(config.signingAlg, { kid: 'imported-once' });
    await admin.keys.import(CLI_ACTOR, key);
    const err = coded(await failure(admin.keys.import(CLI_ACTOR, key)), ConflictError, 'ERR_CONFLICT');
    assert.match(err.message, /imported-once/);
  });
});

describe('openPostgresStore and its database', { skip: skipPostgres }, () => {
  it('refuses options it cannot run with: ConfigError naming the option', () => {
    for (const [url, options, option] of [
      ['mysql://db/x', {}, 'url'],
      [POSTGRES_URL, { poolSize: 0 }, 'poolSize'],
      [POSTGRES_URL, { schema: 'Bad-Name' }, 'schema'],
    ] as const) {
      assert.throws(
        () => openPostgresStore(url, options),
        (err: unknown) => coded(err, ConfigError, 'ERR_CONFIG').option === option,
      );
    }
  });

  it('an unreachable database: migrate() fails with StoreMigrationError, ping() with StoreUnavailableError', async () => {
    const store = openPostgresStore('postgres://postgres@127.0.0.1:1/test', { poolSize: 1 });
    try {
      const migration = coded(await failure(store.migrate()), StoreMigrationError, 'ERR_STORE_MIGRATION');
      assert.equal(migration.migration, undefined);
      assert.match(migration.message, /could not run \(ECONNREFUSED\)$/);
      assert.ok(migration.cause instanceof Error);
      coded(await failure(store.ping()), StoreUnavailableError, 'ERR_STORE_UNAVAILABLE');
    } finally {
      await store.close();
    }
  });

  it('createServer on a PostgreSQL it cannot reach rejects with StoreMigrationError', async () => {
    const dir = tempDir();
    const url = urlWithSchema('public', 'postgres://postgres@127.0.0.1:1/test');
    coded(await failure(start(dir, { database: url })), StoreMigrationError, 'ERR_STORE_MIGRATION');
  });
});
