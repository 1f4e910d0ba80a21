import { decodeUnverified, signAccessToken } from '@tessera/core';

import { algorithm, noPositionals, optional, parseFlags, positiveInteger, required, requiredList } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { print } from '../output.js';
import { loadSigningKey } from '../signing-key.js';

const OPTIONS = {
  key: { type: 'string' },
  iss: { type: 'string' },
  sub: { type: 'string' },
  aud: { type: 'string', multiple: true },
  scope: { type: 'string' },
  ttl: { type: 'string' },
  'client-id': { type: 'string' },
  claim: { type: 'string', multiple: true },
  alg: { type: 'string' },
  kid: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const DEFAULT_TTL = 600;

const usage = `Usage: tessera token sign --key FILE --iss ISS --sub SUB --aud AUD [--aud AUD2 ...] [--scope "a:b c:d"]
                          [--ttl SECONDS] [--client-id ID] [--claim NAME=JSON ...] [--alg ALG] [--kid KID] [--json]

Signs an RFC 9068 access token (typ at+jwt) and prints it on standard output.

  --key FILE         a private JWK, a PEM private key (PKCS#8, PKCS#1 as "ssh-keygen -m pem" writes,
                     SEC1), or an HMAC secret file (base64url text, as "keys generate" writes; needs --alg)
  --iss ISS          issuer (required)
  --sub SUB          subject (required)
  --aud AUD          audience (required; repeat for several)
  --scope SCOPE      space-separated scope tokens
  --ttl SECONDS      lifetime, a positive integer (default ${DEFAULT_TTL})
  --client-id ID     client_id claim (default: the subject)
  --claim NAME=JSON  a further claim whose value is JSON, e.g. --claim 'roles=["admin"]' (repeatable;
                     registered claims such as iss or exp cannot be set this way)
  --alg ALG          the algorithm, when the key file does not name it (RSA PEM keys, secret files)
  --kid KID          key ID for the header (default: the JWK's kid, else the key's RFC 7638 thumbprint)
  --json             print { "access_token", "expires_at" } instead of the bare token
`;

/** `--claim name=json`, each name once. */
function parseClaims(specs: readonly string[] | undefined): Record<string, unknown> | undefined {
  if (specs === undefined) return undefined;
  const claims: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq === -1 ? '' : spec.slice(0, eq);
    if (name.length === 0) throw new UsageError('--claim must be NAME=JSON');
    // signAccessToken assigns claims one by one, and `claims.__proto__ = v` would set a prototype, not a claim.
    if (name === '__proto__') throw new UsageError('--claim __proto__ is not a claim name Tessera can sign');
    if (Object.prototype.hasOwnProperty.call(claims, name)) throw new UsageError(`--claim ${name} is given twice`);
    try {
      claims[name] = JSON.parse(spec.slice(eq + 1));
    } catch {
      throw new UsageError(`--claim ${name}: the value is not valid JSON (quote strings: ${name}='"text"')`);
    }
  }
  return { ...claims };
}

async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, OPTIONS);
  noPositionals(positionals);
  const keyPath = required(values.key, '--key');
  const iss = required(values.iss, '--iss');
  const sub = required(values.sub, '--sub');
  const aud = requiredList(values.aud, '--aud');
  const ttl = values.ttl === undefined ? DEFAULT_TTL : positiveInteger(values.ttl, '--ttl');
  const clientId = optional(values['client-id'], '--client-id') ?? sub;
  const claims = parseClaims(values.claim);
  const alg = values.alg === undefined ? undefined : algorithm(values.alg, '--alg');
  const kid = optional(values.kid, '--kid');

  const key = await loadSigningKey(keyPath, { alg, kid });
  const token = signAccessToken(
    { iss, sub, aud: aud.length === 1 ? aud[0]! : aud, client_id: clientId, scope: values.scope, ttl, claims },
    key,
  );
  const expiresAt = (decodeUnverified(token).payload as { exp: number }).exp;
  print(values.json, { access_token: token, expires_at: expiresAt }, () => token);
}

export const tokenSign: Command = {
  name: 'token sign',
  summary: 'sign an access token with a private key or secret',
  usage,
  run,
};
