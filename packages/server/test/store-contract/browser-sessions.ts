import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import type { BrowserSession, SqlStore } from '@tessera/server/internal';

import { aFamily, aToken, HOUR, RECORD, T0 } from './fixtures.js';

const MINUTE = 60_000;

function aSession(s: Partial<BrowserSession> & Pick<BrowserSession, 'digest'>): BrowserSession {
  return {
    id: `id-${s.digest}`,
    userId: 'u1',
    authTime: T0,
    createdAt: T0,
    idleExpiresAt: T0 + 30 * MINUTE,
    absoluteExpiresAt: T0 + 10 * HOUR,
    ...s,
  };
}

/** The store contract's part for BrowserSessionRepository. `current` is the running test's store (fresh, migrated). */
export function browserSessionsContract(current: () => SqlStore): void {
  describe('browser sessions', () => {
    let store: SqlStore;
    beforeEach(() => {
      store = current();
    });

    it('touch reads a live session back and slides its idle expiry, never past the absolute one', async () => {
      await store.browserSessions.create(aSession({ digest: 'd1' }));
      const touched = await store.browserSessions.touch('d1', T0 + MINUTE, T0 + 31 * MINUTE);
      assert.deepEqual(touched, aSession({ digest: 'd1', idleExpiresAt: T0 + 31 * MINUTE }));
      const capped = await store.browserSessions.touch('d1', T0 + 2 * MINUTE, T0 + 20 * HOUR);
      assert.equal(capped?.idleExpiresAt, T0 + 10 * HOUR);
      assert.equal(await store.browserSessions.touch('unknown', T0, T0 + MINUTE), undefined);
    });

    it('an idle or absolutely expired session is gone for touch', async () => {
      await store.browserSessions.create(aSession({ digest: 'idle' }));
      assert.equal(await store.browserSessions.touch('idle', T0 + 30 * MINUTE, T0 + 60 * MINUTE), undefined);
      await store.browserSessions.create(aSession({ digest: 'old', idleExpiresAt: T0 + 10 * HOUR }));
      assert.ok(await store.browserSessions.touch('old', T0 + 10 * HOUR - 1, T0 + 11 * HOUR));
      assert.equal(await store.browserSessions.touch('old', T0 + 10 * HOUR, T0 + 11 * HOUR), undefined);
    });

    it('create with replacing deletes the session the browser came with, in the same step', async () => {
      await store.browserSessions.create(aSession({ digest: 'planted', userId: 'attacker' }));
      await store.browserSessions.create(aSession({ digest: 'fresh', userId: 'victim' }), {
        digest: 'planted',
        reason: 'replaced',
        now: T0,
        record: RECORD,
      });
      assert.equal(await store.browserSessions.touch('planted', T0, T0 + MINUTE), undefined);
      assert.equal((await store.browserSessions.touch('fresh', T0, T0 + MINUTE))?.userId, 'victim');
    });

    it('refuses a second session with the same digest and keeps the first, replacing nothing', async () => {
      await store.browserSessions.create(aSession({ digest: 'd1', userId: 'alice' }));
      await store.browserSessions.create(aSession({ digest: 'd2', userId: 'bob' }));
      await assert.rejects(
        store.browserSessions.create(aSession({ digest: 'd1', userId: 'mallory' }), {
          digest: 'd2',
          reason: 'replaced',
          now: T0,
          record: RECORD,
        }),
      );
      assert.equal((await store.browserSessions.touch('d1', T0, T0 + MINUTE))?.userId, 'alice');
      assert.equal((await store.browserSessions.touch('d2', T0, T0 + MINUTE))?.userId, 'bob');
    });

    it('end deletes one session, named by digest or public id; deleteByUser ends every session of a user and no other', async () => {
      for (const [digest, userId] of [
        ['a1', 'alice'],
        ['a2', 'alice'],
        ['b1', 'bob'],
      ] as const)
        await store.browserSessions.create(aSession({ digest, userId }));
      const ended = await store.browserSessions.end({ digest: 'a1' }, 'logout', T0, RECORD);
      assert.deepEqual(ended, { session: aSession({ digest: 'a1', userId: 'alice' }), revocations: [] });
      assert.equal(await store.browserSessions.end({ digest: 'a1' }, 'logout', T0, RECORD), undefined);
      assert.equal((await store.browserSessions.end({ id: 'id-a2' }, 'admin', T0, RECORD))?.session.digest, 'a2');
      assert.equal(await store.browserSessions.end({ id: 'id-a2' }, 'admin', T0, RECORD), undefined);
      await store.browserSessions.create(aSession({ digest: 'a3', userId: 'alice' }));
      await store.browserSessions.create(aSession({ digest: 'a4', userId: 'alice' }));
      assert.equal(await store.browserSessions.deleteByUser('alice'), 2);
      assert.equal(await store.browserSessions.touch('a3', T0, T0 + MINUTE), undefined);
      assert.ok(await store.browserSessions.touch('b1', T0, T0 + MINUTE));
    });

    it('get and listByUser read live sessions by public id, newest first; the digest is no id', async () => {
      await store.browserSessions.create(aSession({ digest: 'old', createdAt: T0 - HOUR }));
      await store.browserSessions.create(aSession({ digest: 'new' }));
      await store.browserSessions.create(aSession({ digest: 'idle', idleExpiresAt: T0 + MINUTE }));
      await store.browserSessions.create(aSession({ digest: 'other', userId: 'u2' }));
      assert.deepEqual(await store.browserSessions.get('id-new', T0), aSession({ digest: 'new' }));
      assert.equal(await store.browserSessions.get('new', T0), undefined);
      assert.equal(await store.browserSessions.get('id-idle', T0 + MINUTE), undefined);
      assert.deepEqual(
        (await store.browserSessions.listByUser('u1', T0 + MINUTE)).map((x) => x.id),
        ['id-new', 'id-old'],
      );
      assert.deepEqual(await store.browserSessions.listByUser('nobody', T0), []);
    });

    it('ending a session revokes the live families bound to it, each with its record, in one step; unbound ones live on', async () => {
      await store.browserSessions.create(aSession({ digest: 's1' }));
      await store.browserSessions.create(aSession({ digest: 's2' }));
      await store.refreshFamilies.create(aFamily({ id: 'f1', browserSessionId: 'id-s1' }), aToken('d1', 'f1'));
      await store.refreshFamilies.create(aFamily({ id: 'f2', browserSessionId: 'id-s1' }), aToken('d2', 'f2'));
      await store.refreshFamilies.create(aFamily({ id: 'offline', browserSessionId: null }), aToken('d3', 'offline'));
      await store.refreshFamilies.create(aFamily({ id: 'f4', browserSessionId: 'id-s2' }), aToken('d4', 'f4'));
      const before = await store.refreshFamilies.revoke('f2', 'reuse', T0, RECORD);
      const ended = await store.browserSessions.end({ id: 'id-s1' }, 'logout', T0 + 5, RECORD);
      // f2 was revoked and announced before: only f1 gets a record now.
      assert.deepEqual(
        ended?.revocations.map((r) => [r.kind, r.value, r.reason, r.expiresAt]),
        [['family', 'f1', RECORD.reason, RECORD.expiresAt]],
      );
      assert.ok(ended!.revocations[0]!.seq > before!.seq);
      assert.deepEqual(
        (await store.revocations.list(T0)).map((r) => r.value),
        ['f2', 'f1'],
      );
      assert.equal((await store.refreshFamilies.get('f1'))?.revokedReason, 'logout');
      assert.equal((await store.refreshFamilies.get('f2'))?.revokedReason, 'reuse');
      assert.equal((await store.refreshFamilies.get('offline'))?.revokedAt, null);
      assert.equal((await store.refreshFamilies.get('f4'))?.revokedAt, null);
    });

    it('a login replacing a session ends it as end does: its bound families revoked with their records, in the same step', async () => {
      await store.browserSessions.create(aSession({ digest: 'left-behind', userId: 'alice' }));
      await store.refreshFamilies.create(aFamily({ id: 'bound', browserSessionId: 'id-left-behind' }), aToken('d1', 'bound'));
      const records = await store.browserSessions.create(aSession({ digest: 'next', userId: 'bob' }), {
        digest: 'left-behind',
        reason: 'replaced',
        now: T0 + 5,
        record: RECORD,
      });
      assert.deepEqual(
        records.map((r) => [r.kind, r.value]),
        [['family', 'bound']],
      );
      assert.equal((await store.refreshFamilies.get('bound'))?.revokedReason, 'replaced');
      assert.deepEqual(await store.browserSessions.create(aSession({ digest: 'third' })), []);
    });

    it('prune deletes expired sessions only, at most limit at a time', async () => {
      for (let i = 0; i < 5; i++) await store.browserSessions.create(aSession({ digest: `x${i}`, idleExpiresAt: T0 + i }));
      await store.browserSessions.create(aSession({ digest: 'live' }));
      assert.equal(await store.browserSessions.prune(T0 + 10, 3), 3);
      assert.equal(await store.browserSessions.prune(T0 + 10, 3), 2);
      assert.equal(await store.browserSessions.prune(T0 + 10, 3), 0);
      assert.ok(await store.browserSessions.touch('live', T0 + 10, T0 + MINUTE));
    });
  });
}
