import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CLI_ACTOR, type BrowserSession, contextOf } from '@tessera/server/internal';
import { until } from '@tessera/testing';

import { startServer, type TestServer } from './helpers/server.js';

/**
 * Browser sessions of the hosted login end with the user's other sessions (disabled, password set, deleted),
 * and expired sessions, abandoned authorization requests and old codes are deleted on the server's schedule.
 */
describe('browser sessions end with the user, and expire from the store', () => {
  let t: TestServer;
  const HOUR = 3_600_000;

  before(async () => {
    t = await startServer({ tickMs: 50 });
  });
  after(() => t.close());

  const store = () => contextOf(t.server).store;
  const session = (digest: string, userId: string, ttl = HOUR): BrowserSession => {
    const now = Date.now();
    return {
      id: `id-${digest}`,
      digest,
      userId,
      authTime: now,
      createdAt: now,
      idleExpiresAt: now + ttl,
      absoluteExpiresAt: now + 10 * HOUR,
    };
  };
  const live = async (digest: string) =>
    (await store().browserSessions.touch(digest, Date.now(), Date.now() + HOUR)) !== undefined;

  it('disabling a user, setting their password or deleting them ends every browser session of theirs, no one else’s', async () => {
    const alice = await t.user('alice', 'correct horse battery');
    const bob = await t.user('bob', 'correct horse battery');
    await store().browserSessions.create(session('bob-1', bob));
    for (const [i, end] of [
      () => t.server.admin.users.setDisabled(CLI_ACTOR, alice, true),
      () => t.server.admin.users.setPassword(CLI_ACTOR, alice, 'another long passphrase'),
      () => t.server.admin.users.delete(CLI_ACTOR, alice),
    ].entries()) {
      await store().browserSessions.create(session(`alice-${i}-a`, alice));
      await store().browserSessions.create(session(`alice-${i}-b`, alice));
      await end();
      assert.equal(await live(`alice-${i}-a`), false, `step ${i}`);
      assert.equal(await live(`alice-${i}-b`), false, `step ${i}`);
      assert.equal(await live('bob-1'), true, `step ${i}`);
      if (i === 0) await t.server.admin.users.setDisabled(CLI_ACTOR, alice, false);
    }
  });

  it('expired sessions, authorization requests and codes (an hour after expiry) are deleted on the schedule; live ones stay', async () => {
    const now = Date.now();
    await store().browserSessions.create(session('gone', 'carol', -1));
    await store().browserSessions.create(session('stays', 'carol'));
    const request = { clientId: 'spa', params: { state: 's' }, createdAt: now };
    await store().authorizationRequests.create({ ...request, digest: 'old', expiresAt: now - 1 });
    await store().authorizationRequests.create({ ...request, digest: 'new', expiresAt: now + HOUR });
    const code = {
      clientId: 'spa',
      userId: 'carol',
      redirectUri: 'https://app.example.com/cb',
      codeChallenge: 'x',
      scope: '',
      audience: ['api'],
      authTime: now,
      createdAt: now,
      usedAt: now,
      familyId: 'f1',
      browserSessionId: null,
      nonce: null,
      acr: null,
      amr: [],
    };
    await store().authorizationCodes.create({ ...code, digest: 'code-old', expiresAt: now - 2 * HOUR });
    await store().authorizationCodes.create({ ...code, digest: 'code-spent', expiresAt: now - 60_000 });
    // Probes that read a row as of before it expired: they see it for as long as it is in the table.
    const sessionRow = () => store().browserSessions.touch('gone', now - 10, now - 1);
    const requestRow = () => store().authorizationRequests.get('old', now - 10);
    const codeRow = () => store().authorizationCodes.get('code-old');
    assert.ok(await sessionRow());
    assert.ok(await requestRow());
    await until(
      'the expired rows deleted',
      async () => (await sessionRow()) === undefined && (await requestRow()) === undefined && (await codeRow()) === undefined,
    );
    assert.ok(await store().authorizationCodes.get('code-spent'), 'a spent code is kept for an hour, to recognise its replay');
    assert.equal(await live('stays'), true);
    assert.ok(await store().authorizationRequests.get('new', Date.now()));
  });
});
