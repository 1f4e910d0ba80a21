/**
 * The lease every change to the signing keys holds (rotate, retire, import), timed by the server's clock: a
 * change waits while another instance (or the CLI) holds it, gives up with ERR_KEYS_BUSY when the holder keeps it
 * for the whole wait (20 s), and goes ahead once the holder releases it or its lease (15 s) lapses. The lease is
 * the real one in the store; the time is a SteppedClock's, so no test waits real seconds.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { CLI_ACTOR, KEY_CHANGE_LEASE, KeysBusyError, type SigningKeyRecord, contextOf } from '@tessera/server/internal';
import { SteppedClock, until } from '@tessera/testing';

import { startServer, type TestServer } from './helpers/server.js';

/** The other instance, as the holder of the lease. */
const OTHER = 'another-instance';
const LEASE_TTL_MS = 15_000;
/**
 * Real time a change gets to settle while the clock runs on: far below its 20 s wait, so a change whose deadline
 * came from the real clock fails the test instead of passing after 20 real seconds.
 */
const SETTLE_MS = 5_000;

/** A promise's outcome, readable without awaiting it. */
function track<T>(p: Promise<T>): { settled: () => { value: T } | { error: unknown } | undefined } {
  let outcome: { value: T } | { error: unknown } | undefined;
  p.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  return { settled: () => outcome };
}

describe('key-change-lease: a change to the signing keys waits for another holder of the lease, by the server clock', () => {
  const clock = new SteppedClock();
  let t: TestServer;
  const hold = () => contextOf(t.server).store.leases.acquire(KEY_CHANGE_LEASE, OTHER, LEASE_TTL_MS, clock.now());
  const storedKeys = (): Promise<readonly SigningKeyRecord[]> => contextOf(t.server).store.keys.list();
  const rotations = async (): Promise<{ occurred_at: number }[]> => {
    const r = await t.admin('GET', '/admin/audit?type=admin.keys.rotated');
    assert.equal(r.status, 200);
    return r.body.items as { occurred_at: number }[];
  };

  before(async () => {
    t = await startServer({ now: clock.now, overrides: { jwksMaxAge: 0 } });
  });
  afterEach(() => contextOf(t.server).store.leases.release(KEY_CHANGE_LEASE, OTHER));
  after(() => t.close());

  /**
   * Steps the clock `stepMs` at a time, the holder renewing its lease at each step when `renew` is set, until
   * `change` settles; returns its outcome.
   */
  const stepUntilSettled = <T>(change: Promise<T>, stepMs: number, renew: boolean) => {
    const tracked = track(change);
    return until(
      'the key change to settle',
      async () => {
        const outcome = tracked.settled();
        if (outcome) return outcome;
        if (renew) assert.equal(await hold(), true, 'the holder renews its lease');
        clock.advance(stepMs);
        return undefined;
      },
      SETTLE_MS,
    );
  };

  it('the admin API answers 503 temporarily_unavailable with Retry-After when the holder keeps the lease; nothing changes', async () => {
    const keysBefore = await storedKeys();
    const rotatedBefore = (await rotations()).length;
    assert.equal(await hold(), true);
    const outcome = await stepUntilSettled(t.admin('POST', '/admin/keys/rotate'), 5_000, true);
    assert.ok('value' in outcome, 'the admin API answers');
    assert.equal(outcome.value.status, 503);
    assert.equal(outcome.value.headers.get('retry-after'), '5', 'the caller is told when to try again');
    assert.deepEqual(outcome.value.body, {
      error: 'temporarily_unavailable',
      error_description: 'the signing keys are being changed by another instance; try again',
    });
    assert.deepEqual(await storedKeys(), keysBefore);
    assert.equal((await rotations()).length, rotatedBefore, 'no rotation was audited');
  });

  it('the admin service throws KeysBusyError (ERR_KEYS_BUSY) when the holder keeps the lease', async () => {
    const keysBefore = await storedKeys();
    assert.equal(await hold(), true);
    const outcome = await stepUntilSettled(t.server.admin.keys.rotate(CLI_ACTOR), 5_000, true);
    assert.ok('error' in outcome, 'the rotation fails');
    assert.ok(outcome.error instanceof KeysBusyError);
    assert.equal(outcome.error.code, 'ERR_KEYS_BUSY');
    assert.deepEqual(await storedKeys(), keysBefore);
  });

  it('a change goes ahead once the holder releases the lease', async () => {
    const [next] = (await storedKeys()).filter((k) => k.state === 'next');
    assert.equal(await hold(), true);
    const change = track(t.admin('POST', '/admin/keys/rotate'));
    // Held for 10 s of the change's 20 s wait, then released.
    for (let i = 0; i < 5; i++) {
      clock.advance(2_000);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(change.settled(), undefined, 'the change waits while the lease is held');
    const releasedAt = clock.now();
    await contextOf(t.server).store.leases.release(KEY_CHANGE_LEASE, OTHER);
    const outcome = await until('the key change to settle', change.settled, SETTLE_MS);
    assert.ok('value' in outcome);
    assert.equal(outcome.value.status, 200, JSON.stringify(outcome.value.body));
    assert.equal(outcome.value.body.kid, next!.kid);
    assert.equal((await storedKeys()).find((k) => k.state === 'active')?.kid, next!.kid);
    const [rotated] = await rotations();
    assert.ok(rotated!.occurred_at >= Math.floor(releasedAt / 1000), 'made after the release');
  });

  it("a change goes ahead once the holder's lease lapses by the server's clock (the holder died)", async () => {
    const [next] = (await storedKeys()).filter((k) => k.state === 'next');
    const heldAt = clock.now();
    assert.equal(await hold(), true);
    const outcome = await stepUntilSettled(t.admin('POST', '/admin/keys/rotate'), 2_000, false);
    assert.ok('value' in outcome);
    assert.equal(outcome.value.status, 200, JSON.stringify(outcome.value.body));
    assert.equal(outcome.value.body.kid, next!.kid);
    assert.equal((await storedKeys()).find((k) => k.state === 'active')?.kid, next!.kid);
    const [rotated] = await rotations();
    assert.ok(rotated!.occurred_at >= Math.floor((heldAt + LEASE_TTL_MS) / 1000), 'made once the lease had lapsed');
  });
});
