import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';

import { openPostgresStore, type Revocation, type SqlStore } from '@tessera/server/internal';

import {
  adminQuery,
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_REQUIRED,
  POSTGRES_URL,
  postgresAvailable,
} from './helpers/postgres.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { storeContract } from './store-contract/contract.js';

/** The record of a reuse, as the refresh grant passes it. */
const REUSE = { expiresAt: Date.UTC(2100, 0, 1), reason: 'refresh_token_reuse' };

const available = await postgresAvailable();
const skip = available ? false : POSTGRES_MISSING;

it(
  'PostgreSQL is reachable for the PostgreSQL store tests',
  { skip: available || POSTGRES_REQUIRED ? false : POSTGRES_MISSING },
  () => {
    assert.ok(available, `${POSTGRES_MISSING} (required when CI=true)`);
  },
);

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/** Schemas made by this file, dropped at the end. */
const made: string[] = [];
async function schema(): Promise<string> {
  const name = await createSchema();
  made.push(name);
  return name;
}

/** `count` stores on one schema: as many instances, each with a pool of its own. */
async function instances(schemaName: string, count: number, poolSize = 5): Promise<SqlStore[]> {
  const stores = Array.from({ length: count }, () => openPostgresStore(POSTGRES_URL, { schema: schemaName, poolSize }));
  await stores[0]!.migrate();
  return stores;
}
const closeAll = (stores: SqlStore[]) => Promise.all(stores.map((s) => s.close()));

describe('PostgreSQL store', { skip }, () => {
  after(async () => {
    for (const name of made.splice(0)) await dropSchema(name);
  });

  // The contract, unchanged: every test on a fresh schema of its own, an empty database.
  storeContract('postgres', async () => {
    const store = openPostgresStore(POSTGRES_URL, { schema: await schema(), poolSize: 5 });
    await store.migrate();
    return store;
  });

  describe('several instances on one database', () => {
    it('rotates a refresh token exactly once: 100 concurrent calls spread across 3 pools, one rotates, 99 see reused', async () => {
      const stores = await instances(await schema(), 3);
      try {
        await stores[0]!.refreshFamilies.create(
          {
            id: 'f1',
            userId: 'alice',
            clientId: 'web',
            scope: '',
            audience: [],
            createdAt: T0,
            absoluteExpiresAt: T0 + 24 * HOUR,
            lastUsedAt: T0,
            revokedAt: null,
            revokedReason: null,
            browserSessionId: null,
          },
          { digest: 'd1', familyId: 'f1', createdAt: T0, expiresAt: T0 + HOUR, usedAt: null },
        );
        const now = T0 + 1000;
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            stores[i % 3]!.refreshFamilies.rotate(
              'd1',
              { digest: `next-${i}`, createdAt: now, expiresAt: now + HOUR, usedAt: null },
              now,
              REUSE,
            ),
          ),
        );
        const kinds = results.map((r) => r.kind);
        assert.equal(kinds.filter((k) => k === 'rotated').length, 1, JSON.stringify(kinds));
        assert.equal(kinds.filter((k) => k === 'reused').length, 99, JSON.stringify(kinds));
        const family = await stores[2]!.refreshFamilies.get('f1');
        assert.equal(family?.revokedReason, 'reuse');
        assert.equal(family?.revokedAt, now);
        const successors = await Promise.all(
          Array.from({ length: 100 }, (_, i) => stores[1]!.refreshFamilies.findToken(`next-${i}`)),
        );
        assert.equal(successors.filter((s) => s !== undefined).length, 1);
      } finally {
        await closeAll(stores);
      }
    });

    it('commits revocation seqs in seq order: a reader polling after the last seq it saw misses none', async () => {
      const name = await schema();
      const writers = await instances(name, 3);
      const reader = openPostgresStore(POSTGRES_URL, { schema: name, poolSize: 1 });
      // Test only: every insert lingers a few ms before its commit, so that without ordering a later seq would
      // often commit before an earlier one.
      await adminQuery(
        `create function ${name}.linger() returns trigger language plpgsql as $$ begin perform pg_sleep(random() * 0.004); return null; end $$`,
      );
      await adminQuery(
        `create trigger linger after insert on ${name}.revocations for each row execute function ${name}.linger()`,
      );
      try {
        let writing = true;
        const seen: number[] = [];
        const polling = (async () => {
          let last = 0;
          for (;;) {
            const done = !writing;
            for (const r of await reader.revocations.list(T0, last)) {
              seen.push(r.seq);
              last = r.seq;
            }
            if (done) return;
          }
        })();
        const added: Revocation[] = [];
        await Promise.all(
          writers.map(async (store, w) => {
            for (let i = 0; i < 20; i++) {
              const batch = await Promise.all(
                Array.from({ length: 3 }, (_, j) =>
                  store.revocations.add({
                    kind: 'jti',
                    value: `w${w}-${i}-${j}`,
                    cutoff: null,
                    expiresAt: T0 + HOUR,
                    createdAt: T0,
                    reason: 'test',
                  }),
                ),
              );
              added.push(...batch);
            }
          }),
        );
        writing = false;
        await polling;
        const all = await reader.revocations.list(T0);
        assert.equal(all.length, 180);
        // The order listRevocations returns is the order of the seqs handed out, each seq once.
        assert.deepEqual(
          all.map((r) => r.seq),
          added.map((r) => r.seq).sort((a, b) => a - b),
        );
        assert.deepEqual(
          [...all].sort((a, b) => a.value.localeCompare(b.value)),
          [...added].sort((a, b) => a.value.localeCompare(b.value)),
        );
        // The reader resumed after the last seq it had seen, poll after poll, and still saw every record.
        assert.deepEqual(
          seen,
          all.map((r) => r.seq),
          'a seq committed after a higher one was skipped by the reader',
        );
      } finally {
        await closeAll([...writers, reader]);
      }
    });

    it('migrates one empty database from 3 instances starting at once', async () => {
      // A schema that does not exist yet: migrate() creates it.
      const name = `${await schema()}_new`;
      made.push(name);
      const stores = Array.from({ length: 3 }, () => openPostgresStore(POSTGRES_URL, { schema: name, poolSize: 2 }));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        const applied = await adminQuery<{ name: string }>(`select name from ${name}.kysely_migration order by name`);
        // Every migration applied, once, in order.
        const names = applied.map((r) => r.name);
        assert.deepEqual(names, [...new Set(names)].sort());
        assert.deepEqual(names.slice(0, 2), ['0001_initial', '0002_leases']);
        assert.ok(names.includes('0003_client_impersonation'));
        await stores[0]!.users.create({
          id: 'u1',
          username: 'alice',
          passwordHash: 'h',
          disabled: false,
          roles: [],
          createdAt: T0,
          updatedAt: T0,
        });
        assert.equal((await stores[2]!.users.getByUsername('alice'))?.id, 'u1');
        // And again, on the migrated database.
        await Promise.all(stores.map((s) => s.migrate()));
      } finally {
        await closeAll(stores);
      }
    });

    it('keeps the bookkeeping of migrations in its own schema (another schema already migrated does not fool it)', async () => {
      const [first, second] = [await schema(), await schema()];
      const a = openPostgresStore(POSTGRES_URL, { schema: first });
      const b = openPostgresStore(POSTGRES_URL, { schema: second });
      try {
        await a.migrate();
        await b.migrate();
        await b.roles.put({ name: 'reader', permissions: ['docs:read'] });
        assert.deepEqual(await a.roles.list(), []);
      } finally {
        await closeAll([a, b]);
      }
    });

    it('gives a lease to exactly one of 30 concurrent acquirers on 3 pools', async () => {
      const stores = await instances(await schema(), 3);
      try {
        const won = await Promise.all(
          Array.from({ length: 30 }, (_, i) => stores[i % 3]!.leases.acquire('job', `holder-${i}`, 10_000, T0)),
        );
        assert.equal(won.filter(Boolean).length, 1);
        // Expired: again exactly one taker.
        const later = await Promise.all(
          Array.from({ length: 30 }, (_, i) => stores[i % 3]!.leases.acquire('job', `late-${i}`, 10_000, T0 + 10_000)),
        );
        assert.equal(later.filter(Boolean).length, 1);
      } finally {
        await closeAll(stores);
      }
    });
  });

  describe('connections', () => {
    it('close() ends the pool', async () => {
      const store = openPostgresStore(POSTGRES_URL, { schema: await schema() });
      await store.migrate();
      await store.ping();
      await store.close();
      await assert.rejects(store.ping());
    });

    it('ping() fails within seconds when the database stops answering, and answers again once it is back', async () => {
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(POSTGRES_URL).port || 5432) });
      const url = new URL(POSTGRES_URL);
      url.host = `127.0.0.1:${proxy.port}`;
      const store = openPostgresStore(url.toString(), { schema: await schema(), poolSize: 2 });
      try {
        await store.migrate();
        await store.ping();
        proxy.stall();
        const started = Date.now();
        await assert.rejects(store.ping());
        assert.ok(Date.now() - started < 6_000, `ping took ${Date.now() - started} ms`);
        proxy.restore();
        await store.ping();
        assert.deepEqual(await store.roles.list(), []);
      } finally {
        proxy.restore();
        await store.close();
        await proxy.close();
      }
    });

    it('never puts the password of the URL in an error: unreachable database, bad URL', async () => {
      const secret = 'pw-that-must-not-leak';
      const unreachable = openPostgresStore(`postgres://postgres:${secret}@127.0.0.1:1/test`);
      try {
        for (const attempt of [() => unreachable.migrate(), () => unreachable.ping(), () => unreachable.roles.list()]) {
          const err = await attempt().then(
            () => assert.fail('an unreachable database answered'),
            (e: unknown) => e,
          );
          assert.ok(!inspect(err, { depth: 10 }).includes(secret), inspect(err, { depth: 10 }));
        }
      } finally {
        await unreachable.close();
      }
      for (const bad of [`postgres://postgres:${secret}@[::1/test`, `http://postgres:${secret}@127.0.0.1/test`]) {
        assert.throws(
          () => openPostgresStore(bad),
          (err: unknown) => !inspect(err, { depth: 10 }).includes(secret),
        );
      }
    });
  });
  // Regression: migrate() failed with "database migration unknown failed" (schema "..." does not exist) when
  // another schema of the same database was dropped while it ran: Kysely's stock introspector scanned every
  // schema's tables and called pg_get_serial_sequence() on each name. Other tenants, other instances and
  // parallel test files drop schemas; the store's migration must not depend on them.
  it('schema-dropped-during-migration: migrate() succeeds while other schemas of the database come and go', async () => {
    let churning = true;
    const churn = (async () => {
      let n = 0;
      while (churning) {
        const other = `tessera_churn_${process.pid}_${n++}`;
        await adminQuery(`create schema ${other}; create table ${other}.t (id serial primary key, a text, b text)`);
        await adminQuery(`drop schema ${other} cascade`);
      }
    })();
    try {
      for (let i = 0; i < 15; i++) {
        const store = openPostgresStore(POSTGRES_URL, { schema: await schema(), poolSize: 2 });
        try {
          await store.migrate();
          await store.ping();
        } finally {
          await store.close();
        }
      }
    } finally {
      churning = false;
      await churn;
    }
  });
});
