/**
 * The auth server on PostgreSQL, selected by a postgres:// URL in the `database` setting: readiness follows the
 * database through an outage (a TCP proxy between the server and PostgreSQL is cut, stalled and restored) without
 * a restart, the URL's password stays out of errors, and of several instances one runs the key schedule.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { ConfigError } from '@tessera/core';
import { createServer, loadConfig } from '@tessera/server';
import { until } from '@tessera/testing';

import { contextOf } from '@tessera/server/internal';

import { clientCredentials, type ClientCreds } from './helpers/oauth.js';
import {
  adminQuery,
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_URL,
  postgresAvailable,
  urlWithSchema,
} from './helpers/postgres.js';
import { startServer, type TestServer } from './helpers/server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const available = await postgresAvailable();
// Skipped without PostgreSQL; store-postgres.test.ts fails then when CI=true.
const skip = available ? false : POSTGRES_MISSING;

/** Trust auth ignores it, so it can be in the URL: it must never come back in an error. */
const SECRET = 'pw-that-must-not-leak';

/** GET /readyz, never waiting more than `ms` for the answer. */
async function readyz(t: TestServer, ms = 5_000): Promise<number> {
  const res = await fetch(`${t.url}/readyz`, { signal: AbortSignal.timeout(ms) });
  await res.arrayBuffer();
  return res.status;
}

describe('the auth server on PostgreSQL', { skip }, () => {
  const schemas: string[] = [];
  const schema = async () => {
    const name = await createSchema();
    schemas.push(name);
    return name;
  };
  after(async () => {
    for (const name of schemas) await dropSchema(name);
  });

  describe('/readyz through a database outage', () => {
    let proxy: TcpProxy;
    let t: TestServer;
    let svc: ClientCreds;

    before(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(POSTGRES_URL).port || 5432) });
      const direct = new URL(POSTGRES_URL);
      direct.host = `127.0.0.1:${proxy.port}`;
      direct.password = SECRET;
      t = await startServer({ overrides: { database: urlWithSchema(await schema(), direct.toString()), databasePoolSize: 4 } });
      svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
    });
    after(async () => {
      proxy.restore();
      await t.close();
      await proxy.close();
    });

    it('is ready with the database reachable', async () => {
      assert.equal(await readyz(t), 200);
      assert.equal((await clientCredentials(t, svc)).status, 200);
    });

    it('reports 503 within seconds once the database is cut off, and 200 again once it is back', async () => {
      proxy.cut();
      await until('readyz 503 after the cut', async () => (await readyz(t)) === 503, 5_000);
      // The error behind it (logged by /readyz) does not carry the URL's password.
      const err = await contextOf(t.server)
        .store.ping()
        .then(
          () => assert.fail('ping answered through a cut proxy'),
          (e: unknown) => e,
        );
      assert.ok(!inspect(err, { depth: 10 }).includes(SECRET), inspect(err, { depth: 10 }));
      proxy.restore();
      await until('readyz 200 after the restore', async () => (await readyz(t)) === 200, 10_000);
      assert.equal((await clientCredentials(t, svc)).status, 200, 'a token request works again');
    });

    it('reports 503 within seconds when the database stops answering (no reset), and 200 once it answers', async () => {
      proxy.stall();
      const started = Date.now();
      await until('readyz 503 during the stall', async () => (await readyz(t)) === 503, 8_000);
      assert.ok(Date.now() - started < 8_000);
      proxy.restore();
      await until('readyz 200 after the stall', async () => (await readyz(t)) === 200, 10_000);
      assert.equal((await clientCredentials(t, svc)).status, 200, 'a token request works again');
    });
  });

  describe('the database setting', () => {
    it('does not echo the password of an unreachable database in the error that stops the server', async () => {
      await assert.rejects(
        createServer({
          env: {},
          overrides: {
            database: `postgres://postgres:${SECRET}@127.0.0.1:1/test`,
            masterKey: randomBytes(32).toString('base64url'),
            port: 0,
            logLevel: 'silent',
          },
        }),
        (err: unknown) => !inspect(err, { depth: 10 }).includes(SECRET),
      );
    });
  });

  describe('several instances on one database', () => {
    it('runs the key schedule on one instance, the holder of the lease; another takes over when it stops', async () => {
      const name = await schema();
      const masterKey = randomBytes(32).toString('base64url');
      // Ticks of 300 ms: the lease lasts 900 ms from each renewal.
      const start = () => startServer({ tickMs: 300, overrides: { database: urlWithSchema(name), masterKey } });
      const servers = await Promise.all([start(), start(), start()]);
      try {
        const ids = servers.map((s) => contextOf(s.server).keys.instanceId);
        const lease = async () =>
          (
            await adminQuery<{ holder: string; expires_at: string }>(
              `select holder, expires_at from ${name}.leases where name = 'key-schedule'`,
            )
          )[0];
        const holder = async () => (await lease())?.holder;
        await until('an instance holds the key schedule', async () => ids.includes((await holder()) ?? ''), 5_000);
        const first = (await lease())!;
        // The next change of the lease: the holder renewing it (had it not, another instance would take it over).
        const later = await until(
          'the lease to be renewed or taken over',
          async () => {
            const l = (await lease())!;
            return Number(l.expires_at) > Number(first.expires_at) && l;
          },
          5_000,
        );
        assert.equal(later.holder, first.holder, 'the holder keeps the schedule, by renewing its lease');
        // One active and one next key per track (ES256 for access tokens, RS256 for ID tokens), not one per instance.
        const keys = await adminQuery<{ alg: string; state: string; n: string }>(
          `select alg, state, count(*) as n from ${name}.signing_keys group by alg, state order by alg, state`,
        );
        assert.deepEqual(
          keys.map((k) => [k.alg, k.state, Number(k.n)]),
          [
            ['ES256', 'active', 1],
            ['ES256', 'next', 1],
            ['RS256', 'active', 1],
            ['RS256', 'next', 1],
          ],
        );
        const stopped = servers.splice(ids.indexOf(first.holder), 1)[0]!;
        await stopped.close();
        await until(
          'another instance takes the schedule over',
          async () => servers.map((s) => contextOf(s.server).keys.instanceId).includes((await holder()) ?? ''),
          5_000,
        );
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    });
  });
});

describe('the database setting (no database needed)', () => {
  it('keeps a postgres:// or postgresql:// URL as given and refuses a malformed one without echoing it', () => {
    for (const url of [
      `postgres://app:${SECRET}@db.internal:5432/tessera`,
      `postgresql://app@db.internal/tessera?sslmode=require`,
    ]) {
      assert.equal(loadConfig({ env: { TESSERA_DATABASE: url } }).database, url);
    }
    assert.equal(loadConfig({ env: {} }).databasePoolSize, 10);
    assert.equal(loadConfig({ env: { TESSERA_DATABASE_POOL_SIZE: '25' } }).databasePoolSize, 25);
    for (const bad of [`postgres://app:${SECRET}@[db.internal/tessera`, `postgresql://app:${SECRET}@db.internal:99999/tessera`]) {
      assert.throws(
        () => loadConfig({ env: { TESSERA_DATABASE: bad } }),
        (err: unknown) =>
          err instanceof ConfigError && err.option === 'database' && !inspect(err, { depth: 10 }).includes(SECRET),
      );
    }
  });
});
