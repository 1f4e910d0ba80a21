import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { CLI_ACTOR, currentBrowserSession, sessionIdFrom, startBrowserSession, contextOf } from '@tessera/server/internal';

import { startServer, type TestServer } from './helpers/server.js';

/**
 * The hosted login's browser session on a real server's store: the cookie's attributes, a new id at every
 * login with the browser's previous session deleted (session fixation), idle and absolute lifetimes on the
 * injected clock, and a disabled user's session refused.
 */
describe('browser session', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  const IDLE = 600;
  const ABSOLUTE = 3_600;
  let alice: string;

  before(async () => {
    t = await startServer({ now: clock.now, overrides: { sessionIdleTtl: IDLE, sessionAbsoluteTtl: ABSOLUTE } });
    alice = await t.user('alice', 'correct horse battery');
  });
  after(() => t.close());

  const ctx = () => contextOf(t.server);
  const userOf = async (id: string | undefined) => (await currentBrowserSession(ctx(), id))?.user.id;

  it('hands out a __Host- cookie, Secure, HttpOnly, SameSite=Lax, Path=/, holding a random id the store keeps only as a digest', async () => {
    const { id, cookie } = await startBrowserSession(ctx(), alice, undefined);
    assert.match(id, /^tsb_[A-Za-z0-9_-]{43}$/);
    assert.equal(cookie, `__Host-tessera-session=${id}; Max-Age=${ABSOLUTE}; Path=/; Secure; HttpOnly; SameSite=Lax`);
    assert.equal(await userOf(id), alice);
    const now = clock.now();
    assert.equal(
      await ctx().store.browserSessions.touch(id, now, now + 1000),
      undefined,
      'the id itself is not a key of the store',
    );
    assert.equal(sessionIdFrom(`theme=dark; __Host-tessera-session=${id}; other=1`), id);
  });

  it('reads only a well-formed id from the session cookie', () => {
    const id = `tsb_${'a'.repeat(43)}`;
    for (const header of [
      undefined,
      '',
      `__Host-tessera-session-x=${id}`,
      `tessera-session=${id}`,
      `__Host-tessera-session=${id}x`,
      `__Host-tessera-session=tsr_${'a'.repeat(43)}`,
      '__Host-tessera-session=',
    ])
      assert.equal(sessionIdFrom(header), undefined, String(header));
  });

  it('session-fixation: a login gets a new id, and the id the browser came with no longer names any session', async () => {
    const mallory = await t.user('mallory', 'correct horse battery');
    const planted = await startBrowserSession(ctx(), mallory, undefined);
    const signedIn = await startBrowserSession(ctx(), alice, planted.id);
    assert.notEqual(signedIn.id, planted.id);
    assert.equal(await userOf(planted.id), undefined);
    assert.equal(await userOf(signedIn.id), alice);
  });

  it('ends after the idle lifetime without use; each use renews it', async () => {
    const { id } = await startBrowserSession(ctx(), alice, undefined);
    clock.advance((IDLE - 1) * 1000);
    assert.equal(await userOf(id), alice);
    clock.advance((IDLE - 1) * 1000);
    assert.equal(await userOf(id), alice, 'renewed by the previous use');
    clock.advance(IDLE * 1000);
    assert.equal(await userOf(id), undefined);
  });

  it('ends at the absolute lifetime however often it is used', async () => {
    const { id, session } = await startBrowserSession(ctx(), alice, undefined);
    while (clock.now() + (IDLE / 2) * 1000 < session.absoluteExpiresAt) {
      clock.advance((IDLE / 2) * 1000);
      assert.equal(await userOf(id), alice);
    }
    clock.advance((IDLE / 2) * 1000);
    assert.equal(await userOf(id), undefined);
  });

  it('is refused for a disabled user (and ended by the disabling)', async () => {
    const bob = await t.user('bob', 'correct horse battery');
    const { id } = await startBrowserSession(ctx(), bob, undefined);
    await ctx().store.users.update(bob, { disabled: true }, clock.now());
    assert.equal(await userOf(id), undefined, 'a disabled user, even with the session still stored');
    await ctx().store.users.update(bob, { disabled: false }, clock.now());
    assert.equal(await userOf(id), bob);
    await t.server.admin.users.setDisabled(CLI_ACTOR, bob, true);
    await t.server.admin.users.setDisabled(CLI_ACTOR, bob, false);
    assert.equal(await userOf(id), undefined, 'disabling ended the session');
  });
});
