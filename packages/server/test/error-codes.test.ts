/** docs/errors.md lists every error code @tessera/server throws, with its class, and no other server row. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

import { TesseraError } from '@tessera/core';
import * as server from '@tessera/server';
import * as internal from '@tessera/server/internal';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \| server \|/gm)].map((m) => ({ code: m[1]!, cls: m[2]! }));

type Exports = Record<string, { code?: string; prototype?: unknown } | undefined>;

it('docs/errors.md documents every server error code, once, with the class that carries it', () => {
  const documented = rows.map((r) => r.code);
  assert.equal(new Set(documented).size, documented.length, 'no code is documented twice');
  assert.deepEqual([...documented].sort(), [...server.SERVER_ERROR_CODES].sort());
  for (const { code, cls } of rows) {
    // The public entry (what createServer's caller meets), or `@tessera/server/internal` (the admin service's
    // refusals, the store's, those answered on the wire).
    const ctor = (server as unknown as Exports)[cls] ?? (internal as unknown as Exports)[cls];
    assert.ok(ctor, `${cls} is exported by @tessera/server`);
    assert.equal(ctor.code, code, `${cls}.code`);
    assert.ok(ctor.prototype instanceof TesseraError, `${cls} extends TesseraError`);
  }
});
