/**
 * `npx tessera` in a clone: npm links a bin at install time only if its target exists then, and `dist/` is
 * built later, so the bin is a committed shim (packages/cli/bin/tessera.js) that loads dist/main.js. Guards
 * "could not determine executable to run" after the README's `npm install && npm start`.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { runCommand } from '@tessera/testing';

import { ROOT } from './workspace.js';

const SHIM = join(ROOT, 'packages/cli/bin/tessera.js');
const cli = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
};

describe('the tessera bin in the repository', () => {
  it("is @tessera/cli's committed shim, not a file of dist/", () => {
    assert.equal(cli.name, '@tessera/cli');
    assert.deepEqual(cli.bin, { tessera: './bin/tessera.js' });
  });

  it('node_modules/.bin/tessera (linked by npm install) resolves to the shim', () => {
    assert.equal(realpathSync(join(ROOT, 'node_modules/.bin/tessera')), realpathSync(SHIM));
  });

  it('npx tessera --help exits 0 from the repository root', async () => {
    const r = await runCommand('npx', ['--no-install', 'tessera', '--help'], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: tessera <command>/);
  });

  it('says how to build when dist/ is missing (exit 1, one line, no stack)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-shim-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(SHIM, join(dir, 'bin/tessera.js'));
      const r = await runCommand(process.execPath, [join(dir, 'bin/tessera.js'), '--help']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        'error: @tessera/cli is not built (its dist/main.js is missing): run "npm run build" at the repository root\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
