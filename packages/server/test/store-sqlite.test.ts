import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

import {
  openSqliteStore,
  type Client,
  type NewAuditEvent,
  type RefreshFamily,
  type SigningKeyRecord,
  type Store,
  type User,
} from '@tessera/server/internal';

import { storeContract } from './store-contract/contract.js';

/** The record of a reuse, as the refresh grant passes it. */
const REUSE = { expiresAt: Date.UTC(2100, 0, 1), reason: 'refresh_token_reuse' };

// The contract on a real SQLite file: a fresh database file per test, all in one temp dir removed at the end.
const contractDir = mkdtempSync(join(tmpdir(), 'tessera-store-'));
let databases = 0;
storeContract(
  'sqlite',
  async () => {
    const store = openSqliteStore(join(contractDir, `store-${++databases}.db`));
    await store.migrate();
    return store;
  },
  async () => rmSync(contractDir, { recursive: true, force: true }),
);

describe('SQLite store file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-store-reopen-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the folders of a new file', async () => {
    const file = join(dir, 'nested', 'deeper', 'tessera.db');
    const store = openSqliteStore(file);
    await store.migrate();
    await store.ping();
    await store.close();
    assert.ok(existsSync(file));
  });

  it('database-files-readable-by-others: the database, WAL and SHM files are created 0600 under umask 022', async () => {
    const previous = process.umask(0o022);
    try {
      const file = join(dir, 'private', 'tessera.db');
      const store = openSqliteStore(file);
      await store.migrate();
      await store.users.create(fileUser('u-mode'));
      const modes = Object.fromEntries(
        ['', '-wal', '-shm'].map((suffix) => [`tessera.db${suffix}`, (statSync(file + suffix).mode & 0o777).toString(8)]),
      );
      await store.close();
      assert.deepEqual(modes, { 'tessera.db': '600', 'tessera.db-wal': '600', 'tessera.db-shm': '600' });
    } finally {
      process.umask(previous);
    }
  });

  it('database-files-readable-by-others: a database file left 0644 by an older version is narrowed to 0600', async () => {
    const file = join(dir, 'old', 'tessera.db');
    const first = openSqliteStore(file);
    await first.migrate();
    await first.close();
    chmodSync(file, 0o644);
    writeFileSync(`${file}-wal`, '');
    chmodSync(`${file}-wal`, 0o644);
    const again = openSqliteStore(file);
    try {
      await again.ping();
      assert.equal((statSync(file).mode & 0o777).toString(8), '600');
      assert.equal((statSync(`${file}-wal`).mode & 0o777).toString(8), '600');
    } finally {
      await again.close();
    }
  });

  it('keeps every record across close and reopen', async () => {
    const T0 = 1_700_000_000_000;
    const file = join(dir, 'tessera.db');
    const user: User = {
      id: 'u1',
      username: 'alice',
      passwordHash: '$argon2id$x',
      disabled: false,
      roles: ['reader'],
      createdAt: T0,
      updatedAt: T0,
    };
    const client: Client = {
      id: 'orders',
      name: 'Orders',
      authMethod: 'private_key_jwt',
      secrets: [{ digest: 'sd', createdAt: T0, expiresAt: T0 + 1000 }],
      jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc' }] },
      grantTypes: ['client_credentials', 'refresh_token'],
      scopes: ['docs:read'],
      audiences: ['docs'],
      firstParty: true,
      redirectUris: ['https://docs.example.com/cb'],
      postLogoutRedirectUris: [],
      requirePar: false,
      accessTokenTtl: 300,
      refreshTokenTtl: null,
      disabled: false,
      createdAt: T0,
      updatedAt: T0,
    };
    const family: RefreshFamily = {
      id: 'f1',
      userId: 'u1',
      clientId: 'orders',
      scope: 'docs:read',
      audience: ['docs'],
      createdAt: T0,
      absoluteExpiresAt: T0 + 86_400_000,
      lastUsedAt: T0,
      revokedAt: null,
      revokedReason: null,
      browserSessionId: null,
    };
    const event: NewAuditEvent = {
      time: T0,
      type: 'login.success',
      outcome: 'success',
      actor: null,
      subject: 'u1',
      clientId: 'orders',
      ip: '127.0.0.1',
      data: { a: [1] },
    };
    const key: SigningKeyRecord = {
      kid: 'k1',
      alg: 'ES256',
      state: 'active',
      encryptedPrivateKey: 'ciphertext',
      publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' },
      createdAt: T0,
      activatesAt: T0,
      retiredAt: null,
      removeAfter: null,
    };

    const first = openSqliteStore(file);
    await first.migrate();
    await first.users.create(user);
    await first.roles.put({ name: 'reader', permissions: ['docs:read'] });
    await first.clients.create(client);
    await first.refreshFamilies.create(family, {
      digest: 'd1',
      familyId: 'f1',
      createdAt: T0,
      expiresAt: T0 + 3_600_000,
      usedAt: null,
    });
    const rotated = await first.refreshFamilies.rotate(
      'd1',
      { digest: 'd2', createdAt: T0 + 10, expiresAt: T0 + 3_600_000, usedAt: null },
      T0 + 10,
      REUSE,
    );
    assert.equal(rotated.kind, 'rotated');
    const revocation = await first.revocations.add({
      kind: 'subject',
      value: 'u1',
      cutoff: T0,
      expiresAt: T0 + 3_600_000,
      createdAt: T0,
      reason: 'test',
    });
    await first.keys.insert(key);
    const eventId = await first.audit.append(event);
    assert.equal(await first.assertionJtis.use('orders', 'j1', T0 + 60_000, T0), true);
    await first.close();

    const second = openSqliteStore(file);
    try {
      await second.migrate();
      assert.deepEqual(await second.users.getById('u1'), user);
      assert.deepEqual(await second.roles.list(), [{ name: 'reader', permissions: ['docs:read'] }]);
      assert.deepEqual(await second.clients.get('orders'), client);
      assert.deepEqual(await second.refreshFamilies.get('f1'), { ...family, lastUsedAt: T0 + 10 });
      assert.equal((await second.refreshFamilies.findToken('d1'))?.token.usedAt, T0 + 10);
      assert.deepEqual((await second.refreshFamilies.findToken('d2'))?.token, {
        digest: 'd2',
        familyId: 'f1',
        createdAt: T0 + 10,
        expiresAt: T0 + 3_600_000,
        usedAt: null,
      });
      assert.deepEqual(await second.revocations.list(T0), [revocation]);
      assert.deepEqual(await second.keys.list(), [key]);
      assert.deepEqual(await second.audit.query({ limit: 10 }), [{ id: eventId, ...event }]);
      assert.equal(await second.assertionJtis.use('orders', 'j1', T0 + 60_000, T0 + 1), false);
      // Sequences carry on past the records already there.
      const nextRevocation = await second.revocations.add({
        kind: 'jti',
        value: 'j',
        cutoff: null,
        expiresAt: T0 + 3_600_000,
        createdAt: T0,
        reason: 'test',
      });
      assert.ok(nextRevocation.seq > revocation.seq);
      assert.ok((await second.audit.append(event)) > eventId);
    } finally {
      await second.close();
    }
  });

  it('rotates a refresh token exactly once across two connections to one file (two threads, as two instances)', async () => {
    const T0 = 1_700_000_000_000;
    const file = join(dir, 'shared.db');
    const rounds = 20;
    const here = openSqliteStore(file);
    await here.migrate();
    for (let r = 0; r < rounds; r++) {
      const family = {
        id: `f${r}`,
        userId: 'u1',
        clientId: 'web',
        scope: '',
        audience: [],
        createdAt: T0,
        absoluteExpiresAt: T0 + 86_400_000,
      };
      await here.refreshFamilies.create(
        { ...family, lastUsedAt: T0, revokedAt: null, revokedReason: null, browserSessionId: null },
        { digest: `d${r}`, familyId: `f${r}`, createdAt: T0, expiresAt: T0 + 3_600_000, usedAt: null },
      );
    }
    const barrier = new Int32Array(new SharedArrayBuffer(4 * rounds));
    const party = (name: string): Party => ({ name, rounds, barrier, now: T0 + 1000 });
    const worker = new Worker(RACE_WORKER, {
      eval: true,
      workerData: { entry: import.meta.resolve('@tessera/server/internal'), file, party: party('there') },
    });
    try {
      const [ready] = (await once(worker, 'message')) as [string];
      assert.equal(ready, 'ready');
      const theirs = once(worker, 'message') as Promise<[string[]]>;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      const mine = await race(here, party('here'));
      const [others] = await theirs;
      await exited;
      for (let r = 0; r < rounds; r++) {
        const kinds = sortedPair(mine[r], others[r]);
        assert.deepEqual(kinds, ['reused', 'rotated'], `round ${r}`);
        assert.equal((await here.refreshFamilies.get(`f${r}`))?.revokedReason, 'reuse');
      }
    } finally {
      await worker.terminate();
      await here.close();
    }
  });
});

interface Party {
  name: string;
  rounds: number;
  /** One counter per round, shared by the two threads. */
  barrier: Int32Array;
  now: number;
}

/**
 * One side of the race, run by both threads (the worker gets this very function's source): round after round, waits
 * for the other side at the barrier, spinning so that both leave at once, and rotates that round's token. Returns
 * the result kind, or the error code, of every round.
 */
async function race(store: Store, p: Party): Promise<string[]> {
  const kinds: string[] = [];
  for (let r = 0; r < p.rounds; r++) {
    Atomics.add(p.barrier, r, 1);
    const deadline = Date.now() + 10_000;
    while (Atomics.load(p.barrier, r) < 2) if (Date.now() > deadline) throw new Error(`${p.name}: the other side never came`);
    const next = { digest: `n${r}-${p.name}`, createdAt: p.now, expiresAt: p.now + 3_600_000, usedAt: null };
    try {
      const reuse = { expiresAt: p.now + 3_600_000, reason: 'refresh_token_reuse' };
      kinds.push((await store.refreshFamilies.rotate(`d${r}`, next, p.now, reuse)).kind);
    } catch (err) {
      kinds.push(`error ${(err as { code?: string }).code ?? String(err)}`);
    }
  }
  return kinds;
}

const RACE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const race = ${race.toString()};
(async () => {
  const { openSqliteStore } = await import(workerData.entry);
  const store = openSqliteStore(workerData.file);
  parentPort.postMessage('ready');
  parentPort.postMessage(await race(store, workerData.party));
  await store.close();
})();
`;

const sortedPair = (a: string | undefined, b: string | undefined) => [String(a), String(b)].sort();

function fileUser(id: string): User {
  return { id, username: id, passwordHash: '$argon2id$x', disabled: false, roles: [], createdAt: 0, updatedAt: 0 };
}
