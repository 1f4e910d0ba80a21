import { join } from 'node:path';

import {
  buildJwks,
  generateEncryptionKey,
  generateKey,
  type Algorithm,
  type EncryptionCurve,
  type EncryptionKey,
  type Key,
  type KeyManagementAlgorithm,
} from '@tessera/core';

import { algorithm, noPositionals, optional, parseFlags, required } from '../args.js';
import type { Command } from '../command.js';
import { ENC_PRIVATE_FILE, ENC_PUBLIC_FILE } from '../decryption-key.js';
import { UsageError } from '../errors.js';
import { assertAbsent, ensureDirectory, formatJson, note, out, writeNewFile } from '../io.js';
import { print } from '../output.js';
import { formatSecretFile } from '../secret-file.js';

const OPTIONS = {
  use: { type: 'string' },
  alg: { type: 'string' },
  crv: { type: 'string' },
  out: { type: 'string' },
  kid: { type: 'string' },
  bits: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The algorithms a Tessera issuer signs with. */
const SIGNING_ALGORITHMS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256', 'HS256'];
const RSA_BITS = ['2048', '3072', '4096'];
/** The key management algorithms of a resource's encryption key (what `resources add --encryption-key` takes). */
const ENCRYPTION_ALGORITHMS: readonly KeyManagementAlgorithm[] = ['ECDH-ES+A256KW', 'ECDH-ES', 'RSA-OAEP-256'];
const ENCRYPTION_CURVES: readonly EncryptionCurve[] = ['P-256', 'P-384', 'X25519'];

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
       tessera keys generate --use enc [--alg ECDH-ES+A256KW|ECDH-ES|RSA-OAEP-256] [--crv P-256|P-384|X25519]
                             [--out DIR] [--kid KID] [--bits 2048|3072|4096] [--json]

Generates a signing key (an HMAC secret for HS256), or with --use enc an encryption key: the key pair a
resource server receives encrypted access tokens with (register its public JWK with "tessera resources
add --encryption-key"; the service decrypts with the private JWK).

  --use sig|enc  what the key is for: signing (default) or encryption
  --alg ALG      signing: ES256, EdDSA, RS256 or HS256 (required);
                 encryption: ECDH-ES+A256KW (default), ECDH-ES or RSA-OAEP-256
  --crv CRV      encryption with ECDH-ES+A256KW or ECDH-ES: P-256 (default), P-384 or X25519
  --out DIR      write the key files into DIR (created 0700 if missing); existing files are never
                 overwritten. Without --out the private JWK and the public JWKS (or, with --use enc,
                 the public JWK) are printed as JSON.
  --kid KID      key ID (default: the RFC 7638 thumbprint of the key)
  --bits N       RSA modulus size for RS256 and RSA-OAEP-256: 2048 (default), 3072 or 4096
  --json         with --out: print { kid, alg, files: [{ path, what, mode }] } instead of lines (without
                 --out the output is JSON already)

Files written to DIR:
  private.jwk.json      the private JWK with kid, alg and use (mode 0600)
  private.pem           the private key, PKCS#8 PEM (mode 0600; not for HS256)
  public.pem            the public key, SPKI PEM (not for HS256)
  jwks.json             the public JWKS to publish (not for HS256)
  secret.key            HS256 only: the secret as base64url text (mode 0600)
With --use enc:
  ${ENC_PRIVATE_FILE}  the private JWK with kid, alg and use "enc" (mode 0600): the service's
                        --decryption-key, its verifier's decryptionKeys
  ${ENC_PUBLIC_FILE}   the public JWK, for "tessera resources add|add-key --encryption-key"
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

type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>['values'];

async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, OPTIONS);
  noPositionals(positionals);
  const use = values.use ?? 'sig';
  if (use === 'enc') return generateEncryption(values);
  if (use !== 'sig') throw new UsageError('--use must be sig or enc');
  if (values.crv !== undefined) throw new UsageError('--crv applies to --use enc only');
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
  const written = await writeFiles(dir, outputFiles(key));
  printWritten(values.json, key, written);
}

function printWritten(
  json: boolean | undefined,
  key: Key | EncryptionKey,
  written: { path: string; what: string; mode: string }[],
) {
  print(json, { kid: key.kid, alg: key.alg, files: written }, () =>
    [`kid: ${key.kid}`, `alg: ${key.alg}`, ...written.map((f) => `wrote ${f.path} (${f.what}, mode ${f.mode})`)].join('\n'),
  );
}

/** Writes `files` into `dir` (each created new, with its mode) and lists what was written. */
async function writeFiles(dir: string, files: readonly OutputFile[]): Promise<{ path: string; what: string; mode: string }[]> {
  const written: { path: string; what: string; mode: string }[] = [];
  for (const file of files) {
    const path = join(dir, file.name);
    await writeNewFile(path, file.data, file.mode);
    written.push({ path, what: file.what, mode: `0${file.mode.toString(8)}` });
  }
  return written;
}

/** `--use enc`: an encryption key pair for a resource server (never `dir`: a secret shared with the issuer). */
async function generateEncryption(values: Values): Promise<void> {
  const alg = (values.alg ?? 'ECDH-ES+A256KW') as KeyManagementAlgorithm;
  if (!ENCRYPTION_ALGORITHMS.includes(alg))
    throw new UsageError(`with --use enc, --alg must be one of ${ENCRYPTION_ALGORITHMS.join(', ')}`);
  const kid = optional(values.kid, '--kid');
  const dir = optional(values.out, '--out');
  let crv: EncryptionCurve | undefined;
  if (values.crv !== undefined) {
    if (alg === 'RSA-OAEP-256') throw new UsageError('--crv applies to ECDH-ES and ECDH-ES+A256KW, not RSA-OAEP-256');
    if (!(ENCRYPTION_CURVES as readonly string[]).includes(values.crv))
      throw new UsageError(`--crv must be one of ${ENCRYPTION_CURVES.join(', ')}`);
    crv = values.crv as EncryptionCurve;
  }
  let modulusLength: number | undefined;
  if (values.bits !== undefined) {
    if (alg !== 'RSA-OAEP-256') throw new UsageError('--bits applies to RS256 and RSA-OAEP-256 only');
    if (!RSA_BITS.includes(values.bits)) throw new UsageError(`--bits must be one of ${RSA_BITS.join(', ')}`);
    modulusLength = Number(values.bits);
  }
  const generate = () => generateEncryptionKey(alg, { kid, crv, modulusLength });
  if (dir === undefined) {
    const key = generate();
    out(formatJson({ private_jwk: key.toJwk({ private: true }), public_jwk: key.toJwk() }));
    note('note: the private key was printed to standard output; keep it secret');
    return;
  }
  await ensureDirectory(dir);
  await assertAbsent([ENC_PRIVATE_FILE, ENC_PUBLIC_FILE].map((name) => join(dir, name)));
  const key = generate();
  const written = await writeFiles(dir, [
    { name: ENC_PRIVATE_FILE, data: `${formatJson(key.toJwk({ private: true }))}\n`, mode: PRIVATE_MODE, what: 'private key' },
    { name: ENC_PUBLIC_FILE, data: `${formatJson(key.toJwk())}\n`, mode: PUBLIC_MODE, what: 'public key' },
  ]);
  printWritten(values.json, key, written);
}

export const keysGenerate: Command = {
  name: 'keys generate',
  summary: 'generate a signing key, or an encryption key (--use enc)',
  usage,
  run,
};
