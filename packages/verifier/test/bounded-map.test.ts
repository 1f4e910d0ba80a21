/**
 * The one bound on the in-process maps that attackers fill with keys (the rate limiter's, the login
 * throttle's): when full, the entries each pass says may go are dropped, pass by pass, and only a map still
 * full loses its oldest tenth; a map under its bound is never touched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { makeRoom, MemoryRateLimiter } from '@tessera/verifier/internal';

const filled = (n: number, value: (i: number) => number) => new Map(Array.from({ length: n }, (_, i) => [`k${i}`, value(i)]));

describe('makeRoom', () => {
  it('leaves a map under its bound as it is', () => {
    const map = filled(9, () => 0);
    makeRoom(map, [() => true], 10);
    assert.equal(map.size, 9);
  });

  it('drops what the first pass allows, and stops when that made room', () => {
    const map = filled(10, (i) => i % 2);
    let second = 0;
    makeRoom(map, [(v) => v === 0, () => ++second > 0], 10);
    assert.deepEqual([...map.values()], [1, 1, 1, 1, 1]);
    assert.equal(second, 0, 'the second pass did not run');
  });

  it('runs the next pass only while still full, then drops the oldest tenth', () => {
    const map = filled(22, (i) => i);
    makeRoom(map, [(v) => v === 3, (v) => v === 5], 20);
    // Neither pass brought it under the bound: the two they allowed went, then the oldest tenth of 20.
    assert.deepEqual([...map.keys()].slice(0, 3), ['k2', 'k4', 'k6']);
    assert.equal(map.size, 18);
  });
});

describe('MemoryRateLimiter under a flood of keys', () => {
  it('keeps counting after more keys than its bound: a fresh key gets its budget, then is limited', () => {
    const limiter = new MemoryRateLimiter();
    const rule = { limit: 1, windowMs: 60_000 };
    for (let i = 0; i < 100_001; i++) limiter.take(`flood-${i}`, { rate: 1, burst: 5 }, 1_000);
    assert.equal(limiter.take('fresh', rule, 1_000), true);
    assert.equal(limiter.take('fresh', rule, 1_000), false);
  });
});
