import { noPositionals, algorithm, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { InputError, UsageError } from '../errors.js';
import { formatJson, out } from '../io.js';
import { LOCAL_OPTIONS, withLocal } from '../local.js';
import { loadSigningKey } from '../signing-key.js';

const JSON_FLAG = { json: { type: 'boolean' } } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const keysList: Command = {
  name: 'keys list',
  summary: 'list signing keys and their states',
  usage: `Usage: tessera keys list [--json] [--config FILE | --dir DIR]\n`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const keys = await withLocal(values, async (s) =>
      s.context.keys.list().map((k) => ({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        createdAt: iso(k.createdAt),
        activatesAt: iso(k.activatesAt),
        retiredAt: iso(k.retiredAt),
        removeAfter: iso(k.removeAfter),
      })),
    );
    if (values.json) out(formatJson(keys));
    else
      out(
        keys
          .map(
            (k) =>
              `${k.kid}\t${k.alg}\t${k.state}\tactivates ${k.activatesAt}${k.removeAfter ? `\tremoved after ${k.removeAfter}` : ''}`,
          )
          .join('\n'),
      );
  },
};

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'rotate the signing key as soon as it is safe',
  usage: `Usage: tessera keys rotate [--json] [--config FILE | --dir DIR]

The next key (already published in the JWKS) starts signing once it has been published for one JWKS
cache lifetime; at once if it already has. The current key is retired and stays published until its
last token has expired. A running server picks the change up within its key check interval (10 s).
`,
  async run(args) {
    const { values, positionals } = parseFlags(args, { ...LOCAL_OPTIONS, ...JSON_FLAG });
    noPositionals(positionals);
    const r = await withLocal(values, async (s) => {
      const result = await s.context.keys.rotateNow(Date.now());
      await s.context.audit.record({ type: 'admin.keys.rotated', outcome: 'success', actor: 'cli', data: result });
      return result;
    });
    if (values.json) out(formatJson({ kid: r.kid, activatesAt: iso(r.activatesAt) }));
    else out(`key ${r.kid} signs from ${iso(r.activatesAt)}`);
  },
};

export const keysImport: Command = {
  name: 'keys import',
  summary: 'sign with an existing private key (e.g. one made by ssh-keygen)',
  usage: `Usage: tessera keys import FILE [--alg ALG] [--kid KID] [--json] [--config FILE | --dir DIR]

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
    if (positionals.length !== 1) throw new UsageError('give exactly one key FILE');
    const key = await loadSigningKey(positionals[0]!, {
      alg: values.alg !== undefined ? algorithm(values.alg, '--alg') : undefined,
      kid: values.kid,
    });
    const rec = await withLocal(values, async (s) => {
      if (key.alg !== s.config.signingAlg)
        throw new InputError(`the key is ${key.alg}; this server signs with ${s.config.signingAlg}`);
      try {
        const r = await s.context.keys.importKey(key, Date.now());
        await s.context.audit.record({
          type: 'admin.keys.imported',
          outcome: 'success',
          actor: 'cli',
          data: { kid: r.kid, alg: r.alg },
        });
        return r;
      } catch (err) {
        throw new InputError(err instanceof Error ? err.message : 'key import failed');
      }
    });
    if (values.json) out(formatJson({ kid: rec.kid, alg: rec.alg, state: rec.state, activatesAt: iso(rec.activatesAt) }));
    else
      out(`imported ${rec.kid} (${rec.alg}) as the next key; it signs from ${iso(rec.activatesAt)} after "tessera keys rotate"`);
  },
};
