import assert from 'node:assert/strict';

import { TesseraError } from '@tessera/core';

/** What a refusal must carry: the stable code, and the data of the error subclass where it has some. */
export interface Refusal {
  code: string;
  reason?: string;
  claim?: string;
  parameter?: string;
  option?: string;
  limit?: number;
}

// Constructor parameters are irrelevant here: only `prototype` and `name` are read.
type ErrorClass<E extends TesseraError> = abstract new (...args: never[]) => E;

/**
 * Runs `fn` and asserts that it threw exactly an instance of `type` (not a subclass, not a parent) with
 * every field of `expected`. Returns the error for further checks.
 */
export function rejects<E extends TesseraError>(fn: () => unknown, type: ErrorClass<E>, expected: Refusal): E {
  let thrown: unknown;
  let threw = false;
  try {
    fn();
  } catch (err) {
    threw = true;
    thrown = err;
  }
  assert.ok(threw, `expected ${type.name} ${expected.code}, but nothing was thrown`);
  assert.ok(thrown instanceof TesseraError, `expected ${type.name}, got a non-Tessera error: ${String(thrown)}`);
  assert.ok(
    Object.getPrototypeOf(thrown) === type.prototype,
    `expected ${type.name}, got ${thrown.name} (${thrown.code}): ${thrown.message}`,
  );
  const actual = thrown as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(expected)) {
    assert.equal(actual[field], value, `${type.name}.${field}: ${thrown.message}`);
  }
  return thrown as E;
}
