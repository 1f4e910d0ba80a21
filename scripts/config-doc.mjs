// Writes docs/configuration.md from the server's settings schema (packages/server/src/config/schema.ts).
// `node scripts/config-doc.mjs --check` exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';

import { SETTINGS } from '@tessera/server';

export function renderConfigDoc() {
  const rows = Object.entries(SETTINGS).map(([name, s]) => {
    const type =
      s.type === 'enum'
        ? s.values.join(' \\| ')
        : s.type + (s.min !== undefined || s.max !== undefined ? ` (${s.min ?? ''}..${s.max ?? ''})` : '');
    const def = s.default === undefined ? '' : `\`${s.default}\``;
    return `| \`${name}\` | \`${s.env}\` | ${type} | ${def} | ${s.doc} |`;
  });
  return `# Configuration

The auth server reads its settings once at start-up, in this order (later wins): the defaults below, a JSON
config file (\`tessera serve --config FILE\`, keys as in the first column), \`TESSERA_*\` environment
variables, then command-line flags. Every value is checked; the first bad one stops the server with an error
that names the setting. A relative path (\`dataDir\`, \`database\`, \`masterKeyFile\`) resolves against the
place that names it: in the config file, against the file's folder, whatever the working directory (so
\`tessera serve --config some/where/tessera.json\` works from anywhere); in a \`TESSERA_*\` variable or a flag,
against the working directory. The defaults resolve like the file's paths (against the working directory
when there is no file).

This page is generated from \`packages/server/src/config/schema.ts\` by \`node scripts/config-doc.mjs\`; a test
fails when the two differ.

| setting | environment | type | default | meaning |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

const file = new URL('../docs/configuration.md', import.meta.url);
if (process.argv[1] === new URL(import.meta.url).pathname) {
  const text = renderConfigDoc();
  if (process.argv.includes('--check')) {
    const current = readFileSync(file, 'utf8');
    if (current !== text) {
      console.error('docs/configuration.md is out of date: run node scripts/config-doc.mjs');
      process.exit(1);
    }
  } else writeFileSync(file, text);
}
