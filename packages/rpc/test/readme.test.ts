/** The README's refusal table and error-code table against the code, both ways. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { Code } from '@connectrpc/connect';
import { REFUSALS, RPC_ERROR_CODES, type RefusalReason } from '@tessera/rpc';
import * as rpc from '@tessera/rpc';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(`## ${title}`);
  assert.ok(start >= 0, `README has "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
};
const HTTP: Partial<Record<Code, number>> = {
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.Unavailable]: 503,
  [Code.Internal]: 500,
};

describe('README tables', () => {
  it('the refusal table lists every refusal once, with its code, gRPC status, HTTP status and message', () => {
    const rows = [...section('Refusals').matchAll(/^\| `(\w+)` \| (\w+) \| (\d+) \| (\d+) \| ([^|]+) \|/gm)];
    const reasons = rows.map((r) => r[1]!);
    assert.deepEqual([...reasons].sort(), Object.keys(REFUSALS).sort());
    for (const [, reason, code, grpc, http, message] of rows) {
      const r = REFUSALS[reason as RefusalReason];
      assert.equal(code, Code[r.code], reason);
      assert.equal(Number(grpc), r.code, reason);
      assert.equal(Number(http), HTTP[r.code], reason);
      assert.equal(message!.trim(), r.message, reason);
    }
  });

  it('the error code table lists every code, with its exported class', () => {
    const rows = [...section('Error codes').matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \|/gm)];
    assert.deepEqual(rows.map((r) => r[1]).sort(), [...RPC_ERROR_CODES].sort());
    for (const [, code, cls] of rows) assert.equal((rpc as unknown as Record<string, { code?: string }>)[cls!]?.code, code);
  });
});
