#!/usr/bin/env node
// The `tessera` command. This file is committed so that npm links the bin at the first `npm install` of a
// clone, before `dist/` is built; it only loads the compiled command.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'error: @tessera/cli is not built (its dist/main.js is missing): run "npm run build" at the repository root\n',
  );
  process.exitCode = 1;
} else {
  await import(main.href);
}
