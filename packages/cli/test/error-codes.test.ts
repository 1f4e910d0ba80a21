/** The README's table of error codes against the code, both ways (as fastify checks errors.js against its docs). */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { CORE_ERROR_CODES } from '@tessera/core';
import { SERVER_ERROR_CODES } from '@tessera/server';
import { VERIFIER_ERROR_CODES } from '@tessera/verifier';

import { CLI_ERROR_CODES } from '../dist/errors.js';

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
