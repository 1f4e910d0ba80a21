/** docs/errors.md lists every error code @tessera/server's admin service and store throw, with its class, and no other server row. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

import { TesseraError } from '@tessera/core';
import * as server from '@tessera/server/internal';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \| server \|/gm)].map((m) => ({ code: m[1]!, cls: m[2]! }));

it('docs/errors.md documents every server error code, with the class that carries it', () => {
  assert.deepEqual(rows.map((r) => r.code).sort(), [...server.ADMIN_ERROR_CODES, ...server.STORE_ERROR_CODES].sort());
  for (const { code, cls } of rows) {
    const ctor = (server as unknown as Record<string, { code?: string; prototype?: unknown }>)[cls];
    assert.ok(ctor, `${cls} is exported by @tessera/server`);
    assert.equal(ctor.code, code);
    assert.ok(ctor.prototype instanceof TesseraError);
  }
});
