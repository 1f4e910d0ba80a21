import { join } from 'node:path';

import { buildJwks, generateKey, type Algorithm, type Key } from '@tessera/core';

import { algorithm, noPositionals, optional, parseFlags, required } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { assertAbsent, ensureDirectory, formatJson, note, out, writeNewFile } from '../io.js';
import { print } from '../output.js';
import { formatSecretFile } from '../secret-file.js';

const OPTIONS = {
  alg: { type: 'string' },
  out: { type: 'string' },
  kid: { type: 'string' },
  bits: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The algorithms a Tessera issuer signs with. */
const SIGNING_ALGORITHMS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];
const RSA_BITS = ['2048', '3072', '4096'];

/** Private keys and secrets are created 0600; public files 0644 (both narrowed further by the umask). */
const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;

interface OutputFile {
  name: string;
  data: string;
  mode: number;
  what: string;
}

const usage = `Usage: tessera keys generate --alg ES256|EdDSA|RS256|HS256 [--out DIR] [--kid KID] [--bits 2048|3072|4096] [--json]

Generates a signing key (an HMAC secret for HS256).

  --alg ALG    ES256, EdDSA, RS256 or HS256 (required)
  --out DIR    write the key files into DIR (created 0700 if missing); existing files are never
               overwritten. Without --out the private JWK and the public JWKS are printed as JSON.
  --kid KID    key ID (default: the RFC 7638 thumbprint of the key)
  --bits N     RSA modulus size for RS256: 2048 (default), 3072 or 4096
  --json       with --out: print { kid, alg, files: [{ path, what, mode }] } instead of lines (without
               --out the output is JSON already)

Files written to DIR:
  private.jwk.json   the private JWK with kid, alg and use (mode 0600)
  private.pem        the private key, PKCS#8 PEM (mode 0600; not for HS256)
  public.pem         the public key, SPKI PEM (not for HS256)
  jwks.json          the public JWKS to publish (not for HS256)
  secret.key         HS256 only: the secret as base64url text (mode 0600)
`;

function outputFiles(key: Key): OutputFile[] {
  const privateJwk: OutputFile = {
    name: 'private.jwk.json',
    data: `${formatJson(key.toJwk({ private: true }))}\n`,
    mode: PRIVATE_MODE,
    what: 'private key',
  };
  if (key.kind === 'secret') {
    const secret = key.keyObject.export();
    return [privateJwk, { name: 'secret.key', data: formatSecretFile(secret), mode: PRIVATE_MODE, what: 'HMAC secret' }];
  }
  return [
    privateJwk,
    { name: 'private.pem', data: key.toPem({ private: true }), mode: PRIVATE_MODE, what: 'private key' },
    { name: 'public.pem', data: key.toPem(), mode: PUBLIC_MODE, what: 'public key' },
    { name: 'jwks.json', data: `${formatJson(buildJwks([key]))}\n`, mode: PUBLIC_MODE, what: 'public JWKS' },
  ];
}

async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, OPTIONS);
  noPositionals(positionals);
  const alg = algorithm(required(values.alg, '--alg'), '--alg', SIGNING_ALGORITHMS);
  const kid = optional(values.kid, '--kid');
  const dir = optional(values.out, '--out');
  let modulusLength: number | undefined;
  if (values.bits !== undefined) {
    if (alg !== 'RS256') throw new UsageError('--bits applies to RS256 only');
    if (!RSA_BITS.includes(values.bits)) throw new UsageError(`--bits must be one of ${RSA_BITS.join(', ')}`);
    modulusLength = Number(values.bits);
  }

  if (dir === undefined) {
    const key = generateKey(alg, { kid, modulusLength });
    const printed =
      key.kind === 'secret'
        ? { private_jwk: key.toJwk({ private: true }) }
        : { private_jwk: key.toJwk({ private: true }), jwks: buildJwks([key]) };
    out(formatJson(printed));
    note(`note: the ${key.kind === 'secret' ? 'HMAC secret' : 'private key'} was printed to standard output; keep it secret`);
    return;
  }

  // Names are fixed per algorithm, so the directory is checked before a key is generated.
  const names =
    alg === 'HS256' ? ['private.jwk.json', 'secret.key'] : ['private.jwk.json', 'private.pem', 'public.pem', 'jwks.json'];
  await ensureDirectory(dir);
  await assertAbsent(names.map((name) => join(dir, name)));
  const key = generateKey(alg, { kid, modulusLength });
  const written: { path: string; what: string; mode: string }[] = [];
  for (const file of outputFiles(key)) {
    const path = join(dir, file.name);
    await writeNewFile(path, file.data, file.mode);
    written.push({ path, what: file.what, mode: `0${file.mode.toString(8)}` });
  }
  print(values.json, { kid: key.kid, alg: key.alg, files: written }, () =>
    [`kid: ${key.kid}`, `alg: ${key.alg}`, ...written.map((f) => `wrote ${f.path} (${f.what}, mode ${f.mode})`)].join('\n'),
  );
}

export const keysGenerate: Command = { name: 'keys generate', summary: 'generate a signing key (files or JSON)', usage, run };
