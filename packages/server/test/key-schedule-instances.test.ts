/**
 * Signing keys shared by several instances (and the CLI) on one database: two KeyManagers on two stores of one
 * database are two instances. Run on a SQLite file (two connections) and on PostgreSQL (two pools on one schema).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import {
  KeyManager,
  loadMasterKey,
  openPostgresStore,
  openSqliteStore,
  type KeyState,
  type SqlStore,
} from '@tessera/server/internal';

import { createSchema, dropSchema, POSTGRES_MISSING, POSTGRES_URL, postgresAvailable } from './helpers/postgres.js';

const T0 = 1_700_000_000_000;
const JWKS_MAX_AGE = 300;
const master = loadMasterKey({ masterKey: randomBytes(32).toString('base64url'), masterKeyFile: 'unused', create: false });

const manager = (store: SqlStore) =>
  new KeyManager(store, master, {
    alg: 'ES256',
    rotationInterval: 3_600,
    jwksMaxAge: JWKS_MAX_AGE,
    maxAccessTokenTtl: async () => 600,
  });

/** How many keys are in each state, as the store has them. */
async function states(store: SqlStore): Promise<Partial<Record<KeyState, number>>> {
  const counts: Partial<Record<KeyState, number>> = {};
  for (const k of await store.keys.list()) counts[k.state] = (counts[k.state] ?? 0) + 1;
  return counts;
}

interface Host {
  name: string;
  skip: string | false;
  /** Two stores on one new, migrated database. */
  open(): Promise<[SqlStore, SqlStore]>;
  cleanup(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-instances-'));
let files = 0;
const schemas: string[] = [];
const postgres = await postgresAvailable();

const hosts: Host[] = [
  {
    name: 'SQLite file',
    skip: false,
    async open() {
      const file = join(dir, `keys-${++files}.db`);
      const stores: [SqlStore, SqlStore] = [openSqliteStore(file), openSqliteStore(file)];
      await stores[0].migrate();
      return stores;
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    // Skipped without PostgreSQL; store-postgres.test.ts fails then when CI=true.
    name: 'PostgreSQL',
    skip: postgres ? false : POSTGRES_MISSING,
    async open() {
      const schema = await createSchema();
      schemas.push(schema);
      const stores: [SqlStore, SqlStore] = [
        openPostgresStore(POSTGRES_URL, { schema, poolSize: 3 }),
        openPostgresStore(POSTGRES_URL, { schema, poolSize: 3 }),
      ];
      await Promise.all(stores.map((s) => s.migrate()));
      return stores;
    },
    async cleanup() {
      for (const s of schemas.splice(0)) await dropSchema(s);
    },
  },
];

for (const host of hosts) {
  describe(`signing keys of two instances on one database: ${host.name}`, { skip: host.skip }, () => {
    after(() => host.cleanup());

    /** Runs `body` with two instances, closing their stores afterwards. */
    const twoInstances = async (body: (a: KeyManager, b: KeyManager, store: SqlStore) => Promise<void>) => {
      const [sa, sb] = await host.open();
      try {
        await body(manager(sa), manager(sb), sa);
      } finally {
        await Promise.all([sa.close(), sb.close()]);
      }
    };

    it('two instances starting at once on an empty database create one active key and one next key', () =>
      twoInstances(async (a, b, store) => {
        await Promise.all([a.init(T0), b.init(T0)]);
        assert.deepEqual(await states(store), { active: 1, next: 1 });
        await a.reload();
        assert.deepEqual(
          a.list().map((k) => k.kid),
          b.list().map((k) => k.kid),
        );
      }));

    it('runs the schedule on the holder of the lease only; another instance takes over once it lapses', () =>
      twoInstances(async (a, b) => {
        await a.init(T0);
        const ttl = 3_000;
        assert.equal(await a.runSchedule(T0, ttl), true);
        assert.equal(await b.runSchedule(T0 + 1, ttl), false, 'b only reloads');
        assert.deepEqual(
          b.list().map((k) => k.kid),
          a.list().map((k) => k.kid),
          'b reloaded the keys',
        );
        assert.equal(await a.runSchedule(T0 + 1_000, ttl), true, 'a renews');
        assert.equal(await b.runSchedule(T0 + 3_999, ttl), false, 'renewed until T0 + 4000');
        // a stops ticking (it died, say): its lease lapses and b takes the schedule over.
        assert.equal(await b.runSchedule(T0 + 4_000, ttl), true);
        assert.equal(await a.runSchedule(T0 + 4_001, ttl), false);
      }));

    it('two instances rotating at once make one rotation, and their schedules promote the next key once', () =>
      twoInstances(async (a, b, store) => {
        await Promise.all([a.init(T0), b.init(T0)]);
        // "Rotate now" on both (an admin request to each): the same next key, at the same time.
        const [ra, rb] = await Promise.all([a.rotateNow(T0 + 1), b.rotateNow(T0 + 1)]);
        assert.deepEqual(ra, rb);
        assert.equal(ra.activatesAt, T0 + JWKS_MAX_AGE * 1000);
        assert.deepEqual(await states(store), { active: 1, next: 1 });
        // When it is due, every change at once: one promotion, one new next key.
        const due = ra.activatesAt;
        await Promise.all([a.tick(due), b.tick(due), a.rotateNow(due), b.tick(due), a.tick(due)]);
        assert.deepEqual(await states(store), { active: 1, next: 1, retired: 1 });
        const active = (await store.keys.list()).find((k) => k.state === 'active');
        assert.equal(active?.kid, ra.kid);
        await Promise.all([a.reload(), b.reload()]);
        assert.equal(a.activeKey().kid, ra.kid);
        assert.equal(b.activeKey().kid, ra.kid);
      }));
  });
}
