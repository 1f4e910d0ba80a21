/**
 * Audit events are committed in groups (one INSERT per turn of the event loop, for the token endpoint's
 * throughput). What callers see must not change: each append resolves with its own id once committed, ids
 * in call order, a bad event fails alone, and close() writes what was appended before it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { openSqliteStore, type NewAuditEvent, type SqlStore, contextOf } from '@tessera/server/internal';

import { basic, startServer } from './helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-audit-batch-'));
let files = 0;

async function store(file = join(dir, `audit-${++files}.db`)): Promise<SqlStore> {
  const s = openSqliteStore(file);
  await s.migrate();
  return s;
}

const event = (i: number, over: Partial<NewAuditEvent> = {}): NewAuditEvent => ({
  time: 1_700_000_000_000 + i,
  type: 'token.issued',
  outcome: 'success',
  actor: null,
  subject: `s${i}`,
  clientId: 'c',
  ip: '127.0.0.1',
  data: { i },
  ...over,
});

describe('audit group commit', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('concurrent appends each resolve with their own id, ascending in call order, every event stored', async () => {
    const s = await store();
    try {
      const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => s.audit.append(event(i))));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      assert.equal(new Set(ids).size, 50);
      const stored = await s.audit.query({ limit: 100 });
      assert.equal(stored.length, 50);
      for (const e of stored) assert.equal(e.subject, `s${(e.data as { i: number }).i}`);
      // The id each caller got is the id of its own event.
      const byId = new Map(stored.map((e) => [e.id, e]));
      ids.forEach((id, i) => assert.equal(byId.get(id)?.subject, `s${i}`));
    } finally {
      await s.close();
    }
  });

  it('more appends than one INSERT takes are all written', async () => {
    const s = await store();
    try {
      const ids = await Promise.all(Array.from({ length: 1_234 }, (_, i) => s.audit.append(event(i))));
      assert.equal(new Set(ids).size, 1_234);
      assert.equal((await s.audit.query({ limit: 500, type: 'token.issued' })).length, 500);
    } finally {
      await s.close();
    }
  });

  it('a bad event fails alone; the others of its group are stored', async () => {
    const s = await store();
    try {
      const bad = event(1, { type: null as unknown as string }); // NOT NULL
      const results = await Promise.allSettled([s.audit.append(event(0)), s.audit.append(bad), s.audit.append(event(2))]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual((await s.audit.query({ limit: 10 })).map((e) => e.subject).sort(), ['s0', 's2']);
    } finally {
      await s.close();
    }
  });

  it('close() writes the events appended before it', async () => {
    const file = join(dir, 'close.db');
    const s = await store(file);
    const pending = [s.audit.append(event(0)), s.audit.append(event(1))];
    await s.close();
    await Promise.all(pending);
    const again = await store(file);
    try {
      assert.equal((await again.audit.query({ limit: 10 })).length, 2);
    } finally {
      await again.close();
    }
  });

  it('every token of a burst of concurrent requests has its token.issued event', async () => {
    const t = await startServer({ overrides: { clientCredentialsAudit: 'every' } });
    try {
      const c = await t.client({
        id: 'burst',
        grantTypes: ['client_credentials'],
        scopes: ['orders:read'],
        audiences: ['orders'],
      });
      const auth = basic(c.id, c.secret!);
      const responses = await Promise.all(
        Array.from({ length: 40 }, () => t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: auth })),
      );
      assert.ok(responses.every((r) => r.status === 200));
      const jtis = responses
        .map((r) => JSON.parse(Buffer.from(r.body.access_token.split('.')[1], 'base64url').toString()).jti)
        .sort();
      const events = await contextOf(t.server).store.audit.query({ limit: 100, type: 'token.issued' });
      assert.deepEqual(events.map((e) => (e.data as { jti: string }).jti).sort(), jtis);
    } finally {
      await t.close();
    }
  });
});
