/**
 * The README's table of error codes, and the CLI's rows of docs/errors.md, against the code, both ways (as
 * fastify checks errors.js against its docs).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { CORE_ERROR_CODES, TesseraError } from '@tessera/core';
import { SERVER_ERROR_CODES } from '@tessera/server';
import { VERIFIER_ERROR_CODES } from '@tessera/verifier';

import * as errors from '../dist/errors.js';

const { CLI_ERROR_CODES } = errors;

async function documentedCodes(): Promise<string[]> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Error codes'));
  return [...section.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

describe('README error code table', () => {
  it('lists every code the CLI defines', async () => {
    const documented = await documentedCodes();
    for (const code of CLI_ERROR_CODES) assert.ok(documented.includes(code), `${code} is not in the README table`);
  });

  it('lists only codes that exist (the CLI, @tessera/core, @tessera/verifier, @tessera/server), each once', async () => {
    const documented = await documentedCodes();
    const known = new Set([...CLI_ERROR_CODES, ...CORE_ERROR_CODES, ...VERIFIER_ERROR_CODES, ...SERVER_ERROR_CODES]);
    for (const code of documented) assert.ok(known.has(code), `${code} is documented but no package defines it`);
    assert.equal(new Set(documented).size, documented.length);
  });
});

describe('docs/errors.md', () => {
  it('documents every CLI error code, once, with the class that carries it, and no other cli row', async () => {
    const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    // A code with no class of its own (ERR_UNEXPECTED: whatever is not a Tessera error) has `(none)` there.
    const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (?:`(\w+)`|\(none\)) \| cli \|/gm)].map((m) => ({
      code: m[1]!,
      cls: m[2],
    }));
    const documented = rows.map((r) => r.code);
    assert.equal(new Set(documented).size, documented.length, 'no code is documented twice');
    assert.deepEqual([...documented].sort(), [...CLI_ERROR_CODES].sort());
    for (const { code, cls } of rows) {
      if (cls === undefined) {
        assert.equal(code, errors.UNEXPECTED_ERROR_CODE, `${code} names its class`);
        continue;
      }
      const ctor = (errors as unknown as Record<string, { code?: string; prototype?: unknown } | undefined>)[cls];
      assert.ok(ctor, `${cls} is exported by the CLI's errors module`);
      assert.equal(ctor.code, code, `${cls}.code`);
      assert.ok(ctor.prototype instanceof TesseraError, `${cls} extends TesseraError`);
    }
  });
});
