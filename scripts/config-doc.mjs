// Writes docs/configuration.md from the settings tables of the auth server
// (packages/server/src/config/schema.ts) and of the gateway (packages/realtime/src/settings.ts).
// `node scripts/config-doc.mjs --check` exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';

import { GATEWAY_SETTINGS } from '@tessera/realtime';
import { SETTINGS } from '@tessera/server';

function type(s) {
  if (s.type === 'enum') return s.values.join(' \\| ');
  const bounds = s.min !== undefined || s.max !== undefined ? ` (${s.min ?? ''}..${s.max ?? ''})` : '';
  if (s.type === 'list') return (s.values ? `list of ${s.values.join(' \\| ')}` : 'list') + bounds;
  if (s.type === 'object') return s.orFalse ? 'object \\| false' : 'object';
  if (s.type === 'objects') return 'list of objects' + bounds;
  return s.type + bounds;
}

function table(settings) {
  const rows = Object.entries(settings).map(([name, s]) => {
    const env = s.env === undefined ? '' : `\`${s.env}\`${s.envOnly ? ' (only)' : ''}`;
    const def = s.required
      ? 'required'
      : s.default === undefined
        ? ''
        : `\`${Array.isArray(s.default) ? JSON.stringify(s.default) : s.default}\``;
    return `| \`${name}\` | ${env} | ${type(s)} | ${def} | ${s.doc} |`;
  });
  return `| setting | environment | type | default | meaning |
| --- | --- | --- | --- | --- |
${rows.join('\n')}`;
}

export function renderConfigDoc() {
  return `# Configuration

This page is generated from the settings tables by \`node scripts/config-doc.mjs\`; a test fails when the two
differ. The auth server and the gateway read their settings with the same engine (\`@tessera/core/internal\`),
once at start-up, in this order (later wins): the defaults below, a JSON config file (keys as in the first
column; a dotted name such as \`tls.certFile\` is a member of an object, \`"tls": { "certFile": ... }\`), the
environment variables, then command-line flags. Every value is checked; the first bad one, or a key the table
does not have, stops the program with an error (\`ERR_CONFIG\`, exit code 2 from the \`tessera\` command) that
names the setting and where the value came from. A relative path resolves against the place that names it: in
the config file, against the file's folder, whatever the working directory (so
\`tessera serve --config some/where/tessera.json\` works from anywhere); in an environment variable or a flag,
against the working directory. The defaults resolve like the file's paths (against the working directory when
there is no file).

## Auth server

\`tessera serve [--config FILE]\`, or \`createServer({ file, env, overrides })\`; table in
\`packages/server/src/config/schema.ts\`.

${table(SETTINGS)}

## Gateway

\`tessera gateway --config FILE\`, or \`runGateway(loadGatewayConfig(FILE))\`; table in
\`packages/realtime/src/settings.ts\`. \`--port\` and \`--host\` override the file. A file a setting names
(\`tls.*\`, \`revocations.clientSecretFile\`) that cannot be read stops the gateway naming the setting and the
full path it looked at. "(only)": read from the environment only, never from the config file.

${table(GATEWAY_SETTINGS)}
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
