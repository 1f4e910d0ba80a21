import { dirname, resolve } from 'node:path';

import type { WorkloadIssuerView } from '@tessera/server';

import { noPositionals, onePositional, parseFlags, positiveInteger } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { note, readInputFile } from '../io.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, withLocal } from '../local.js';
import { JSON_FLAG, print } from '../output.js';

/** Running servers read the stored issuers again every 5 seconds (STORED_DIRECTORY_REFRESH_MS). */
const RUNNING_SERVERS = 'Running servers on this store use the change within 5 seconds.';

const WHERE = LOCAL_USAGE;

const oneName = (positionals: string[]): string => onePositional(positionals, 'issuer NAME');

/** A JSON file the command reads (an issuer, a JWKS); `path` relative to the working directory. */
async function readJsonFile(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse((await readInputFile(path, what)).toString('utf8')) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) throw new InputError(`${what} ${path} is not valid JSON`);
    throw err;
  }
}

/**
 * A `--rule` value: `CLIENT: CLAIM=PATTERN [CLAIM=PATTERN]...`. The client is what comes before the first colon;
 * the pairs are separated by spaces, each split at its first `=`.
 */
function parseRule(text: string): { client: string; claims: Record<string, string> } {
  const colon = text.indexOf(':');
  const bad = (why: string): never => {
    throw new UsageError(`--rule ${JSON.stringify(text.slice(0, 80))}: ${why}; write 'CLIENT: CLAIM=PATTERN ...'`);
  };
  if (colon < 1) bad('no client before a colon');
  const client = text.slice(0, colon).trim();
  const claims: Record<string, string> = {};
  const pairs = text
    .slice(colon + 1)
    .split(/\s+/)
    .filter(Boolean);
  if (pairs.length === 0) bad('no CLAIM=PATTERN');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1 || eq === pair.length - 1) bad(`${JSON.stringify(pair.slice(0, 80))} is not CLAIM=PATTERN`);
    const name = pair.slice(0, eq);
    if (Object.hasOwn(claims, name)) bad(`the claim ${name} is named twice`);
    // defineProperty: a claim named __proto__ stays a member (and is then refused by the issuer's parser).
    Object.defineProperty(claims, name, { value: pair.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  }
  return { client, claims };
}

/** The issuer of `add --file FILE`: its wire form; a `{"jwks_file": ...}` key source is read, relative to FILE's folder. */
async function issuerFromFile(file: string): Promise<unknown> {
  const input = await readJsonFile(file, 'issuer file');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const keys = (input as Record<string, unknown>).keys as Record<string, unknown> | undefined;
  if (typeof keys !== 'object' || keys === null || !('jwks_file' in keys)) return input;
  if (Object.keys(keys).length !== 1 || typeof keys.jwks_file !== 'string')
    throw new InputError(`${file}: keys.jwks_file must be a file name, alone in keys`);
  const jwks = await readJsonFile(resolve(dirname(file), keys.jwks_file), 'JWKS file');
  return { ...input, keys: { jwks } };
}

const KEY_FLAGS = ['discovery', 'jwks-uri', 'spiffe-bundle-endpoint', 'jwks-file'] as const;

export const issuersAdd: Command = {
  name: 'issuers add',
  summary: 'trust a workload issuer (Kubernetes, SPIFFE, a CI system)',
  usage: `Usage: tessera issuers add NAME --issuer URL
                          (--discovery | --jwks-uri URL | --spiffe-bundle-endpoint URL | --jwks-file FILE)
                          --audience AUD [--alg ALG]... [--max-token-age SECONDS] [--reusable]
                          --rule 'CLIENT: CLAIM=PATTERN [CLAIM=PATTERN]...'... ${WHERE}
       tessera issuers add --file FILE ${WHERE}

Trusts the tokens of a workload issuer to authenticate workload_identity clients: a token verified with the
issuer's keys, for the audience given, whose claims match a rule authenticates the client the rule names.

  --issuer URL          the iss of its tokens (https; http only on a loopback address), or
                        spiffe://TRUST-DOMAIN for a SPIFFE trust domain
  --discovery           its keys by OpenID Connect discovery at URL/.well-known/openid-configuration
  --jwks-uri URL        its keys at this JWKS URL
  --spiffe-bundle-endpoint URL
                        its keys at this SPIFFE bundle endpoint
  --jwks-file FILE      its public keys, a JWKS read from FILE now (kept in the store)
  --audience AUD        the audience its tokens must carry for this server
  --alg ALG             an algorithm its tokens may use; repeatable (default RS256 and ES256)
  --max-token-age S     tokens older than S seconds (by iat) are refused (1 to 86400)
  --reusable            a token may be presented again within its lifetime (Kubernetes projected
                        tokens, SPIFFE JWT-SVIDs); default: each token must carry a jti, used once
  --rule R              'CLIENT: CLAIM=PATTERN [CLAIM=PATTERN]...': when every claim matches its
                        pattern, the token authenticates CLIENT (a workload_identity client). The
                        client is what comes before the first colon; pairs are separated by spaces,
                        each split at its first =. A claim is a top-level name (sub, repository) or
                        a JSON Pointer (/kubernetes.io/namespace); in a pattern * matches any run of
                        characters but /, ** any run at all. Repeatable: the first rule that
                        matches wins. (A client id with a colon, or a pattern with a space: --file.)
  --file FILE           the issuer in its JSON form (as "issuers show --json" prints it, without
                        source); its keys may be {"jwks_file": "FILE"}, relative to FILE's folder

Example: tessera issuers add github --issuer https://token.actions.githubusercontent.com --discovery
           --audience https://auth.example.com --rule 'deploy: repository=acme/shop ref=refs/heads/main'
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      file: { type: 'string' },
      issuer: { type: 'string' },
      discovery: { type: 'boolean' },
      'jwks-uri': { type: 'string' },
      'spiffe-bundle-endpoint': { type: 'string' },
      'jwks-file': { type: 'string' },
      audience: { type: 'string' },
      alg: { type: 'string', multiple: true },
      'max-token-age': { type: 'string' },
      reusable: { type: 'boolean' },
      rule: { type: 'string', multiple: true },
    });
    let input: unknown;
    if (values.file !== undefined) {
      const other = Object.keys(values).find((k) => !['file', 'json', 'config', 'dir'].includes(k));
      if (other !== undefined) throw new UsageError(`--file holds the whole issuer: give no --${other}`);
      noPositionals(positionals);
      input = await issuerFromFile(values.file);
    } else {
      const name = oneName(positionals);
      if (values.issuer === undefined) throw new UsageError('--issuer is required');
      if (values.audience === undefined) throw new UsageError('--audience is required');
      const given = KEY_FLAGS.filter((f) => values[f] !== undefined);
      if (given.length !== 1) throw new UsageError('give one of --discovery, --jwks-uri, --spiffe-bundle-endpoint, --jwks-file');
      const keys: WorkloadIssuerView['keys'] = values.discovery
        ? { discovery: true }
        : values['jwks-uri'] !== undefined
          ? { jwks_uri: values['jwks-uri'] }
          : values['spiffe-bundle-endpoint'] !== undefined
            ? { spiffe_bundle_endpoint: values['spiffe-bundle-endpoint'] }
            : { jwks: (await readJsonFile(values['jwks-file']!, 'JWKS file')) as { keys: [] } };
      const rules = (values.rule ?? []).map(parseRule);
      if (rules.length === 0) throw new UsageError('--rule is required: no rule, no client');
      input = {
        name,
        issuer: values.issuer,
        keys,
        audience: values.audience,
        ...(values.alg !== undefined ? { algorithms: values.alg } : {}),
        ...(values['max-token-age'] !== undefined
          ? { max_token_age: positiveInteger(values['max-token-age'], '--max-token-age') }
          : {}),
        single_use: values.reusable !== true,
        rules,
      };
    }
    const shown = await withLocal(values, async (s, admin) =>
      admin.workloadIssuerRecordView(await s.admin.workloadIssuers.add(admin.CLI_ACTOR, input)),
    );
    print(values.json, shown, () => `added workload issuer ${shown.name} (${shown.issuer}), ${shown.rules.length} rule(s)`);
    note(RUNNING_SERVERS);
  },
};

function keysText(keys: WorkloadIssuerView['keys']): string {
  if ('discovery' in keys) return 'discovery';
  if ('jwks_uri' in keys) return `jwks_uri ${keys.jwks_uri}`;
  if ('spiffe_bundle_endpoint' in keys) return `spiffe_bundle_endpoint ${keys.spiffe_bundle_endpoint}`;
  return `jwks (${keys.jwks.keys.length} key${keys.jwks.keys.length === 1 ? '' : 's'})`;
}

export const issuersList: Command = {
  name: 'issuers list',
  summary: 'list the trusted workload issuers',
  usage: `Usage: tessera issuers list ${WHERE}

Lists the workload issuers of the config file (source config, read-only here) and those added with
"tessera issuers add" or the admin API (source admin).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const issuers = await withLocal(values, async (s, admin) =>
      (await s.admin.workloadIssuers.list()).map(admin.workloadIssuerRecordView),
    );
    print(
      values.json,
      issuers,
      () =>
        issuers
          .map((i) => `${i.name}\t${i.issuer}\t${keysText(i.keys)}\t${i.source}\t${i.rules.map((r) => r.client).join(',')}`)
          .join('\n') || '(no workload issuers)',
    );
  },
};

export const issuersShow: Command = {
  name: 'issuers show',
  summary: 'show a trusted workload issuer and its rules',
  usage: `Usage: tessera issuers show NAME ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const name = oneName(positionals);
    const i = await withLocal(values, async (s, admin) =>
      admin.workloadIssuerRecordView(await s.admin.workloadIssuers.get(name)),
    );
    print(values.json, i, () =>
      [
        `name: ${i.name} (${i.source === 'config' ? 'config file' : 'added by an administrator'})`,
        `issuer: ${i.issuer}`,
        `keys: ${keysText(i.keys)}`,
        `audience: ${i.audience}`,
        `algorithms: ${i.algorithms.join(' ')}`,
        `max token age: ${i.max_token_age} s`,
        `tokens: ${i.single_use ? 'single use (jti required)' : 'reusable'}`,
        ...i.rules.map(
          (r) =>
            `rule: ${r.client}: ${Object.entries(r.claims)
              .map(([c, p]) => `${c}=${p}`)
              .join(' ')}`,
        ),
      ].join('\n'),
    );
  },
};

export const issuersRemove: Command = {
  name: 'issuers remove',
  summary: 'stop trusting a workload issuer',
  usage: `Usage: tessera issuers remove NAME ${WHERE}

Removes a workload issuer added with "tessera issuers add" or the admin API: its tokens authenticate no
client from then on. Those of the config file are removed there.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const name = oneName(positionals);
    await withLocal(values, (s, admin) => s.admin.workloadIssuers.remove(admin.CLI_ACTOR, name));
    print(values.json, { name, removed: true }, () => `removed workload issuer ${name}`);
    note(RUNNING_SERVERS);
  },
};
