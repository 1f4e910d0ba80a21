// `npm run pack`: one tarball per publishable workspace package (every one not marked private), written to
// dist-pack/ (or the folder given as the first argument). Run after `tsc -b`; prints the tarballs' paths.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = resolve(process.argv[2] ?? join(root, 'dist-pack'));
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const publishable = workspaces.filter((dir) => !JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private);

mkdirSync(out, { recursive: true });
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const packed = JSON.parse(
  execFileSync(npm, ['pack', '--json', '--pack-destination', out, ...publishable.flatMap((dir) => ['--workspace', dir])], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
for (const { filename } of packed) console.log(join(out, filename));
