import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { CLI, tessera } from './helpers/cli.js';

describe('tessera: dispatch, help and exit codes', () => {
  it('the built entry point starts with a node shebang', async () => {
    assert.match(await readFile(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('no command: exit 2, the command list on stderr', async () => {
    const r = await tessera([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: ERR_USAGE: no command given/);
    for (const name of ['keys generate', 'token sign', 'token decode', 'token verify']) assert.ok(r.stderr.includes(name), name);
    assert.equal(r.stdout, '');
  });

  for (const args of [['frobnicate'], ['token'], ['token', 'refresh'], ['keys', 'frobnicate']]) {
    it(`unknown command "${args.join(' ')}": exit 2`, async () => {
      const r = await tessera(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: ERR_USAGE: unknown command/);
      assert.match(r.stderr, /Usage: tessera <command>/);
    });
  }

  it('--help prints the command list on stdout, exit 0', async () => {
    const r = await tessera(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: tessera <command>/);
    assert.equal(r.stderr, '');
  });

  for (const name of ['keys generate', 'token sign', 'token decode', 'token decrypt', 'token verify']) {
    it(`${name} --help prints its usage on stdout, exit 0`, async () => {
      const r = await tessera([...name.split(' '), '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`Usage: tessera ${name}`));
      assert.equal(r.stderr, '');
    });
  }

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await tessera(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });
});
