// Runs every compiled test of every package with node's test runner (after `tsc -b`), one summary.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
}
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'dist-test');
  try {
    walk(dir);
  } catch {
    /* a package without tests */
  }
}
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
// Given no file, `node --test` would run its default glob: every test. A filter that matches nothing is an error.
const unmatched = filter.filter((s) => !files.some((f) => f.includes(s)));
if (unmatched.length > 0) {
  console.error(`no compiled test file matches: ${unmatched.join(', ')} (build first: npx tsc -b)`);
  process.exit(2);
}
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=900000', ...selected.sort()], {
  stdio: 'inherit',
  cwd: root,
});
child.on('exit', (code) => process.exit(code ?? 1));
