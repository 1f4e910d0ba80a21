/**
 * Bounded audit state: refusals anyone can cause are written at most auditFailuresPerSecond times per second per
 * address (counted across instances through Redis), routine client_credentials tokens are counted and written per
 * client and minute, and events older than the retention are deleted by the one instance holding the lease.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { AuditRetention, openPostgresStore, type NewAuditEvent, type Store, contextOf } from '@tessera/server/internal';

import { until } from '@tessera/testing';

import { RedisProcess, redisServerAvailable } from './helpers/cluster.js';
import { clientCredentials, type ClientCreds } from './helpers/oauth.js';
import {
  createSchema,
  dropSchema,
  POSTGRES_MISSING,
  POSTGRES_REQUIRED,
  postgresAvailable,
  urlWithSchema,
} from './helpers/postgres.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const DAY = 86_400_000;

/** A random documentation-range address, so that no two runs share a rate-limit key. */
const anAddress = () => `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

/** `n` token requests with a wrong client secret from `address`, through inject (no sockets); the seconds spanned. */
async function badTokenRequests(t: TestServer, n: number, address: string): Promise<number> {
  const start = Date.now();
  for (let i = 0; i < n; i++) {
    const r = await t.server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: address,
      headers: { authorization: basic('nobody', 'wrong'), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials',
    });
    assert.equal(r.statusCode, 401);
  }
  return Math.floor(Date.now() / 1000) - Math.floor(start / 1000) + 1;
}

async function refusedRows(store: Store, address: string): Promise<number> {
  let rows = 0;
  let before: number | undefined;
  for (;;) {
    const page = await store.audit.query({ limit: 500, ...(before !== undefined ? { before } : {}) });
    rows += page.filter((e) => e.ip === address).length;
    if (page.length < 500) return rows;
    before = page[page.length - 1]!.id;
  }
}

async function counter(t: TestServer, name: string, labels: Record<string, string>): Promise<number> {
  const m = await contextOf(t.server).metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

describe('audit of refusals, per address', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ overrides: { auditFailuresPerSecond: 2 } });
  });
  after(() => t.close());

  it('bad-token-request-flood: 2,000 refused requests from one address write a handful of audit rows', async () => {
    const address = anAddress();
    const seconds = await badTokenRequests(t, 2_000, address);
    const rows = await refusedRows(contextOf(t.server).store, address);
    assert.ok(rows >= 1 && rows <= 2 * seconds, `${rows} rows in ${seconds} s`);
    assert.equal(await counter(t, 'tessera_audit_suppressed_total', { type: 'token.refused' }), 2_000 - rows);
    // Another address is not silenced by the first one's flood.
    const other = anAddress();
    await badTokenRequests(t, 1, other);
    assert.equal(await refusedRows(contextOf(t.server).store, other), 1);
  });
});

const ready = (await postgresAvailable()) && (await redisServerAvailable());
const MISSING = `${POSTGRES_MISSING}, or redis-server is not installed`;
const skip = ready || POSTGRES_REQUIRED ? false : MISSING;

describe('audit of refusals across instances (PostgreSQL + Redis)', { skip, timeout: 60_000 }, () => {
  let redis: RedisProcess;
  let schema: string;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    assert.ok(ready, `${MISSING} (required when CI=true)`);
    redis = await RedisProcess.start();
    schema = await createSchema();
    const overrides = {
      database: urlWithSchema(schema),
      redisUrl: redis.url,
      masterKey: randomBytes(32).toString('base64url'),
      auditFailuresPerSecond: 5,
    };
    a = await startServer({ overrides });
    b = await startServer({ overrides });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill();
    if (schema) await dropSchema(schema);
  });

  it('bad-token-request-flood-over-two-instances: the per-address limit holds across them', async () => {
    // Each instance's Redis connection up first (until then an instance counts on its own, by design).
    await badTokenRequests(a, 1, anAddress());
    await badTokenRequests(b, 1, anAddress());
    const address = anAddress();
    const start = Date.now();
    await Promise.all([badTokenRequests(a, 500, address), badTokenRequests(b, 500, address)]);
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(start / 1000) + 1;
    const rows = await refusedRows(contextOf(a.server).store, address);
    assert.ok(rows >= 1 && rows <= 5 * seconds, `${rows} rows in ${seconds} s (one instance's allowance, not two)`);
  });
});

describe('client_credentials audit', () => {
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((t) => t.close())));

  async function issue(mode: 'aggregate' | 'every' | 'off' | undefined, n: number) {
    const t = await startServer(mode === undefined ? {} : { overrides: { clientCredentialsAudit: mode } });
    servers.push(t);
    const svc: ClientCreds = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
    for (let i = 0; i < n; i++) assert.equal((await clientCredentials(t, svc)).status, 200);
    const events = async (type: string) =>
      (await contextOf(t.server).store.audit.query({ limit: 500, type })).filter((e) => e.clientId === 'svc');
    return { t, events };
  }

  it('service-token-churn: 30 tokens write no event each but one per client and minute (the default), and are counted', async () => {
    const { t, events } = await issue(undefined, 30);
    assert.equal((await events('token.issued')).length, 0);
    await contextOf(t.server).audit.flush();
    const aggregate = await events('token.issued.aggregate');
    assert.ok(aggregate.length >= 1 && aggregate.length <= 2, 'one event per minute the burst spanned');
    assert.equal(
      aggregate.reduce((sum, e) => sum + (e.data.count as number), 0),
      30,
    );
    for (const e of aggregate) {
      assert.equal(e.data.grant, 'client_credentials');
      assert.equal((e.data.to as number) - (e.data.from as number), 60_000);
    }
    assert.equal(await counter(t, 'tessera_client_credentials_tokens_total', { client_id: 'svc' }), 30);
  });

  it('clientCredentialsAudit=every writes one token.issued event per token', async () => {
    const { t, events } = await issue('every', 5);
    assert.equal((await events('token.issued')).length, 5);
    await contextOf(t.server).audit.flush();
    assert.equal((await events('token.issued.aggregate')).length, 0);
  });

  it('clientCredentialsAudit=off writes none, and still counts them', async () => {
    const { t, events } = await issue('off', 5);
    await contextOf(t.server).audit.flush();
    assert.equal((await events('token.issued')).length, 0);
    assert.equal((await events('token.issued.aggregate')).length, 0);
    assert.equal(await counter(t, 'tessera_client_credentials_tokens_total', { client_id: 'svc' }), 5);
  });
});

function anEvent(time: number, type: string): NewAuditEvent {
  return { time, type, outcome: 'info', actor: null, subject: null, clientId: null, ip: null, data: {} };
}

describe('audit retention', () => {
  it('audit-log-growth: a server deletes the events older than auditRetentionDays on its schedule', async () => {
    const t = await startServer({ tickMs: 50, overrides: { auditRetentionDays: 1 } });
    try {
      const store = contextOf(t.server).store;
      const now = Date.now();
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.audit.append(anEvent(now - 2 * DAY - i, 'old.event'))));
      await store.audit.append(anEvent(now - DAY / 2, 'recent.event'));
      await until(
        'the old events deleted',
        async () => (await store.audit.query({ limit: 500, type: 'old.event' })).length === 0,
      );
      assert.equal((await store.audit.query({ limit: 500, type: 'recent.event' })).length, 1);
    } finally {
      await t.close();
    }
  });

  it(
    'audit-retention-on-two-instances: one instance, the lease holder, deletes; the other takes over when it lapses',
    { skip: ready || POSTGRES_REQUIRED ? false : POSTGRES_MISSING },
    async () => {
      const schema = await createSchema();
      const stores = [openPostgresStore(urlWithSchema(schema)), openPostgresStore(urlWithSchema(schema))];
      try {
        await stores[0]!.migrate();
        await stores[1]!.migrate();
        const now = Date.now();
        const seed = (n: number, time: number, type: string) =>
          Promise.all(Array.from({ length: n }, (_, i) => stores[0]!.audit.append(anEvent(time - i, type))));
        await seed(2_500, now - 31 * DAY, 'old.event');
        await seed(10, now - DAY, 'recent.event');
        const [a, b] = [new AuditRetention(stores[0]!, 30 * DAY, 'a'), new AuditRetention(stores[1]!, 30 * DAY, 'b')];
        const results = await Promise.all([a.run(now, 60_000), b.run(now, 60_000)]);
        assert.deepEqual(
          results.filter((r) => r !== undefined),
          [2_500],
          `exactly one instance deleted, in batches: ${JSON.stringify(results)}`,
        );
        const holder = results[0] !== undefined ? a : b;
        const other = holder === a ? b : a;
        assert.equal((await stores[1]!.audit.query({ limit: 500, type: 'old.event' })).length, 0);
        assert.equal((await stores[1]!.audit.query({ limit: 500, type: 'recent.event' })).length, 10);
        // While the lease is in force the other leaves it alone; once it lapses (its holder died), it takes over.
        await seed(5, now - 31 * DAY, 'old.event');
        assert.equal(await other.run(now + 1_000, 60_000), undefined);
        assert.equal(await other.run(now + 61_000, 60_000), 5);
        assert.equal(await holder.run(now + 62_000, 60_000), undefined);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await dropSchema(schema);
      }
    },
  );
});
