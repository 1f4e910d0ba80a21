/**
 * docs/architecture.md's "What each public entry exports" against the built entries: every entry point of
 * every publishable package has its own item there, and every name the entry exports at run time is named
 * in that item (a whole word), so a new export cannot land without the document saying what it is.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { entryPoints, publishablePackages, ROOT } from './workspace.js';

const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
const start = doc.indexOf('### What each public entry exports');
const section = doc.slice(start, doc.indexOf('\n## ', start));

/** The item of `entry`: from its `- **\`entry\`**` line to the next item or the end of the section. */
function itemOf(entry: string): string | undefined {
  const head = section.indexOf(`- **\`${entry}\`**`);
  if (head === -1) return undefined;
  const next = section.indexOf('\n- **', head + 1);
  return section.slice(head, next === -1 ? undefined : next);
}

describe('docs/architecture.md: what each public entry exports', () => {
  assert.ok(start !== -1, 'the section exists');
  for (const pkg of publishablePackages()) {
    for (const entry of entryPoints(pkg.json)) {
      it(`${entry}: every export is named`, async () => {
        const item = itemOf(entry);
        assert.ok(item, `${entry} has an item of its own`);
        const names = Object.keys((await import(entry)) as object);
        const missing = names.filter((n) => !new RegExp(`(^|[^\\w$])${n.replace(/\$/g, '\\$')}([^\\w$]|$)`).test(item));
        assert.deepEqual(missing, [], `${entry} exports names the item does not mention`);
      });
    }
  }
});
