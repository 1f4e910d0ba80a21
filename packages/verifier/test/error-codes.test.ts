/** docs/errors.md lists every error code Tessera throws, and nothing else. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import * as core from '@tessera/core';
import * as verifier from '@tessera/verifier';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
// The rows of core and verifier; packages further down (rpc) check their own rows in their tests.
const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \| (\w+) \|/gm)]
  .map((m) => ({ code: m[1]!, cls: m[2]!, pkg: m[3]! }))
  .filter((r) => r.pkg === 'core' || r.pkg === 'verifier');

describe('error code table (docs/errors.md)', () => {
  const thrown = [...core.CORE_ERROR_CODES, ...verifier.VERIFIER_ERROR_CODES];

  it('documents every code, once', () => {
    const documented = rows.map((r) => r.code);
    assert.deepEqual([...new Set(documented)].sort(), [...documented].sort(), 'no code is documented twice');
    assert.deepEqual([...documented].sort(), [...thrown].sort());
  });

  it('names the exported class that carries each code, in the right package', () => {
    for (const { code, cls, pkg } of rows) {
      const mod = (pkg === 'core' ? core : verifier) as unknown as Record<string, { code?: string; prototype?: unknown }>;
      const ctor = mod[cls];
      assert.ok(ctor, `${cls} is exported by @tessera/${pkg}`);
      assert.equal(ctor.code, code, `${cls}.code`);
      assert.ok(ctor.prototype instanceof core.TesseraError, `${cls} extends TesseraError`);
    }
  });

  it('codes are unique across classes', () => {
    const all = [...core.CORE_ERROR_CODES, ...verifier.VERIFIER_ERROR_CODES];
    assert.equal(new Set(all).size, all.length);
  });
});
