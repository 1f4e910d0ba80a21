import { algorithm, noPositionals, onePositional, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { LOCAL_OPTIONS, LOCAL_USAGE, withLocal } from '../local.js';
import { isoTime, JSON_FLAG, print } from '../output.js';
import { loadSigningKey } from '../signing-key.js';

const WHERE = LOCAL_USAGE;

export const keysList: Command = {
  name: 'keys list',
  summary: 'list signing keys and their states',
  usage: `Usage: tessera keys list ${WHERE}\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const keys = await withLocal(values, async (s, admin) => (await s.admin.keys.list()).map(admin.keyView));
    print(values.json, keys, () =>
      keys
        .map(
          (k) =>
            `${k.kid}\t${k.alg}\t${k.state}\tactivates ${isoTime(k.activates_at)}${k.remove_at !== null ? `\tremoved after ${isoTime(k.remove_at)}` : ''}`,
        )
        .join('\n'),
    );
  },
};

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'rotate the signing key as soon as it is safe',
  usage: `Usage: tessera keys rotate ${WHERE}

The next key (already published in the JWKS) starts signing once it has been published for one JWKS
cache lifetime; at once if it already has. The current key is retired and stays published until its
last token has expired. A running server picks the change up within its key check interval (10 s).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const r = await withLocal(values, async (s, admin) => {
      const done = await s.admin.keys.rotate(admin.CLI_ACTOR);
      return { kid: done.kid, activates_at: admin.epochSeconds(done.activatesAt) };
    });
    print(values.json, r, () => `key ${r.kid} signs from ${isoTime(r.activates_at)}`);
  },
};

export const keysRetire: Command = {
  name: 'keys retire',
  summary: 'take a signing key out of service now',
  usage: `Usage: tessera keys retire KID ${WHERE}

The active key stops signing at once: the next key takes over (verifiers that have not fetched it yet
refetch the JWKS once when they meet its kid) and a new next key is made. The retired key stays in the
JWKS until the last token it signed has expired. A next key that never signed is dropped and replaced.
A running server picks the change up within its key check interval (10 s). Use "keys rotate" for a
planned rotation.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    const kid = onePositional(positionals, 'KID');
    const k = await withLocal(values, async (s, admin) => admin.keyView(await s.admin.keys.retire(admin.CLI_ACTOR, kid)));
    print(values.json, k, () =>
      k.state === 'removed'
        ? `key ${k.kid} dropped (it never signed)`
        : `key ${k.kid} retired; it leaves the JWKS at ${isoTime(k.remove_at)}`,
    );
  },
};

export const keysImport: Command = {
  name: 'keys import',
  summary: 'sign with an existing private key (e.g. one made by ssh-keygen)',
  usage: `Usage: tessera keys import FILE [--alg ALG] [--kid KID] ${WHERE}

Adds a private key (PEM: PKCS#8, PKCS#1 as "ssh-keygen -t rsa -b 4096 -m pem" writes, SEC1; or a private
JWK) as the next signing key: published in the JWKS now, signing after one JWKS cache lifetime (or at the
next "tessera keys rotate" after that). Its algorithm must be the server's signing algorithm.
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, {
      ...LOCAL_OPTIONS,
      ...JSON_FLAG,
      alg: { type: 'string' },
      kid: { type: 'string' },
    });
    const file = onePositional(positionals, 'key FILE');
    const key = await loadSigningKey(file, {
      alg: values.alg !== undefined ? algorithm(values.alg, '--alg') : undefined,
      kid: values.kid,
    });
    const k = await withLocal(values, async (s, admin) => admin.keyView(await s.admin.keys.import(admin.CLI_ACTOR, key)));
    print(
      values.json,
      k,
      () => `imported ${k.kid} (${k.alg}) as the next key; it signs from ${isoTime(k.activates_at)} after "tessera keys rotate"`,
    );
  },
};
