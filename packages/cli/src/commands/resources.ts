import type { ResourceView } from '@tessera/server';

import { noPositionals, onePositional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { note, readInputFile } from '../io.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, withLocal } from '../local.js';
import { JSON_FLAG, print } from '../output.js';

/** Running servers read the stored resources again every 5 seconds (STORED_DIRECTORY_REFRESH_MS). */
const RUNNING_SERVERS = 'Running servers on this store use the change within 5 seconds.';
const WHERE = LOCAL_USAGE;

const oneName = (positionals: string[]): string => onePositional(positionals, 'resource NAME');

/** A public JWK, or the first key of a JWKS, read from a JSON file (relative to the working directory). */
async function readJwkFile(path: string): Promise<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readInputFile(path, 'key file')).toString('utf8')) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) throw new InputError(`key file ${path} is not valid JSON`);
    throw err;
  }
  if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys)) {
    const keys = (parsed as { keys: unknown[] }).keys;
    if (keys.length !== 1) throw new InputError(`key file ${path} is a JWKS of ${keys.length} keys: give one key`);
    return keys[0];
  }
  return parsed;
}

function summary(r: ResourceView): string {
  const kids = r.encryption_keys.map((k) => String(k.kid));
  return [
    `name: ${r.name}`,
    `resource: ${r.resource}`,
    `access tokens: ${r.encrypt_access_tokens ? `encrypted to ${kids.at(-1)}` : 'signed (not encrypted)'}`,
    `encryption keys (oldest first): ${kids.length > 0 ? kids.join(' ') : '(none)'}`,
    `user claims in its tokens: ${r.access_token_claims.length > 0 ? r.access_token_claims.join(' ') : '(none)'}`,
  ].join('\n');
}

export const resourcesAdd: Command = {
  name: 'resources add',
  summary: 'register a resource server (an audience) and how its tokens are made',
  usage: `Usage: tessera resources add NAME --resource ID [--encryption-key FILE]... [--encrypt]
                            [--claim CLAIM]... ${WHERE}

Registers a resource server: the audience identifier clients name (resource or audience parameter)
and, with --encrypt, its access tokens encrypted to its newest public key (signed, then encrypted:
only the resource reads them; not the client, its proxies or its logs).

  --resource ID          the audience identifier (an https URL, or a name)
  --encryption-key FILE  a public JWK (or a JWKS of one key) for ECDH-ES+A256KW or ECDH-ES
                         (P-256, P-384, X25519) or RSA-OAEP-256 (RSA 2048 bits or more); repeatable,
                         oldest first (the last one is used); "tessera keys generate --use enc"
                         makes one
  --encrypt              encrypt its access tokens (needs a key)
  --claim CLAIM          a user claim its access tokens carry when the token's scopes grant it
                         (name, given_name, family_name, preferred_username: scope profile;
                         email, email_verified: scope email); repeatable; needs --encrypt

Example: tessera resources add payroll --resource https://payroll.example --encrypt
           --encryption-key payroll-enc.pub.jwk --claim email
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      resource: { type: 'string' },
      'encryption-key': { type: 'string', multiple: true },
      encrypt: { type: 'boolean' },
      claim: { type: 'string', multiple: true },
    });
    const name = oneName(positionals);
    if (values.resource === undefined) throw new UsageError('--resource is required');
    const keys = [];
    for (const file of values['encryption-key'] ?? []) keys.push(await readJwkFile(file));
    const input = {
      name,
      resource: values.resource,
      encrypt_access_tokens: values.encrypt === true,
      encryption_keys: keys,
      access_token_claims: values.claim ?? [],
    };
    const shown = await withLocal(values, async (s, admin) =>
      admin.resourceView(await s.admin.resources.add(admin.CLI_ACTOR, input)),
    );
    print(values.json, shown, () => `added resource ${shown.name}\n${summary(shown)}`);
    note(RUNNING_SERVERS);
  },
};

export const resourcesList: Command = {
  name: 'resources list',
  summary: 'list the registered resource servers',
  usage: `Usage: tessera resources list ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const all = await withLocal(values, async (s, admin) => (await s.admin.resources.list()).map((r) => admin.resourceView(r)));
    print(
      values.json,
      all,
      () =>
        all
          .map(
            (r) =>
              `${r.name}\t${r.resource}\t${r.encrypt_access_tokens ? 'encrypted' : 'signed'}\t${r.encryption_keys.length} key(s)`,
          )
          .join('\n') || '(no resources)',
    );
  },
};

export const resourcesShow: Command = {
  name: 'resources show',
  summary: 'show a resource server, its encryption keys and claims',
  usage: `Usage: tessera resources show NAME ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const name = oneName(positionals);
    const r = await withLocal(values, async (s, admin) => admin.resourceView(await s.admin.resources.get(name)));
    print(values.json, r, () => summary(r));
  },
};

export const resourcesAddKey: Command = {
  name: 'resources add-key',
  summary: "add a resource server's new encryption key (used from now on)",
  usage: `Usage: tessera resources add-key NAME --encryption-key FILE ${WHERE}

Adds a public encryption key as the resource's newest: its access tokens are encrypted to it from now
on. Give the resource the private key first, and remove the old key once its tokens have expired.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG, 'encryption-key': { type: 'string' } });
    const name = oneName(positionals);
    if (values['encryption-key'] === undefined) throw new UsageError('--encryption-key is required');
    const jwk = await readJwkFile(values['encryption-key']);
    const r = await withLocal(values, async (s, admin) =>
      admin.resourceView(await s.admin.resources.addKey(admin.CLI_ACTOR, name, jwk)),
    );
    print(values.json, r, () => `added key ${String(r.encryption_keys.at(-1)?.kid)} to ${r.name}\n${summary(r)}`);
    note(RUNNING_SERVERS);
  },
};

export const resourcesRemoveKey: Command = {
  name: 'resources remove-key',
  summary: "remove one of a resource server's encryption keys",
  usage: `Usage: tessera resources remove-key NAME KID ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    if (positionals.length !== 2) throw new UsageError('give the resource NAME and the key KID');
    const [name, kid] = positionals as [string, string];
    const r = await withLocal(values, async (s, admin) =>
      admin.resourceView(await s.admin.resources.removeKey(admin.CLI_ACTOR, name, kid)),
    );
    print(values.json, r, () => `removed key ${kid} of ${r.name}\n${summary(r)}`);
    note(RUNNING_SERVERS);
  },
};

export const resourcesRemove: Command = {
  name: 'resources remove',
  summary: 'remove a resource server registration',
  usage: `Usage: tessera resources remove NAME ${WHERE}

Removes a resource's registration: tokens for its audience are then issued signed only, without its
claims, to the clients still allowed to ask for it.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const name = oneName(positionals);
    await withLocal(values, (s, admin) => s.admin.resources.remove(admin.CLI_ACTOR, name));
    print(values.json, { name, removed: true }, () => `removed resource ${name}`);
    note(RUNNING_SERVERS);
  },
};
