/**
 * Encrypted access tokens at the command line, as a user types the commands: child processes in a temporary
 * folder with relative paths. `keys generate --use enc` writes a resource's key pair; end to end, `tessera init`,
 * `resources add payroll --encrypt --encryption-key <public file> --claim email`, a user and a client, then a
 * real server on the same data folder issues the user an encrypted token (requested by fetch, as any client
 * does), which `token verify --decryption-key` accepts with the email inside and `token decrypt` opens, labelled
 * unverified; with another key, or none, it is refused with a clear error and exit 1.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decryptJwe, importEncryptionJwk } from '@tessera/core';
import { createServer, type TesseraServer } from '@tessera/server';

import { leaksToken, tempDir, tessera, type CliResult } from './helpers/cli.js';

const ISSUER = 'https://auth.example.test';
const PAYROLL = 'https://payroll.example';
const DIR = 'data';
const PASSWORD = 'correct horse battery staple';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;

describe('keys generate --use enc', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  const cli = (args: string[], input?: string): Promise<CliResult> => tessera(args, { cwd: root.dir, input });
  before(async () => (root = await tempDir()));
  after(() => root.remove());

  for (const [alg, crv, kty] of [
    ['ECDH-ES+A256KW', undefined, 'EC'],
    ['ECDH-ES', 'X25519', 'OKP'],
    ['ECDH-ES+A256KW', 'P-384', 'EC'],
    ['RSA-OAEP-256', undefined, 'RSA'],
  ] as const) {
    it(`${alg}${crv ? ` ${crv}` : ''}: a private JWK 0600 and its public JWK, relative to the working directory`, async () => {
      const out = `keys-${alg}-${crv ?? 'default'}`;
      const r = await cli([
        'keys',
        'generate',
        '--use',
        'enc',
        '--alg',
        alg,
        ...(crv ? ['--crv', crv] : []),
        '--out',
        out,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const shown = JSON.parse(r.stdout) as { kid: string; alg: string; files: { path: string; mode: string }[] };
      assert.equal(shown.alg, alg);
      assert.deepEqual(
        shown.files.map((f) => [f.path, f.mode]),
        [
          [join(out, 'enc-private.jwk.json'), '0600'],
          [join(out, 'enc-public.jwk.json'), '0644'],
        ],
      );
      assert.equal(await mode(join(root.dir, out, 'enc-private.jwk.json')), 0o600);
      const priv = await readJson(join(root.dir, out, 'enc-private.jwk.json'));
      const pub = await readJson(join(root.dir, out, 'enc-public.jwk.json'));
      assert.deepEqual([priv.kty, priv.alg, priv.use, priv.kid], [kty, alg, 'enc', shown.kid]);
      assert.deepEqual([pub.kty, pub.alg, pub.use, pub.kid], [kty, alg, 'enc', shown.kid]);
      if (crv !== undefined) assert.equal(pub.crv, crv);
      else if (kty === 'EC') assert.equal(pub.crv, 'P-256');
      assert.equal(typeof priv.d, 'string');
      for (const m of PRIVATE_MEMBERS) assert.equal(pub[m], undefined, `the public JWK must not hold ${m}`);
      // Both read back as core reads them: the private one decrypts, the public one is what a resource registers.
      assert.equal(importEncryptionJwk(priv).kind, 'private');
      assert.equal(importEncryptionJwk(pub).kind, 'public');
    });
  }

  it('without --out prints both JWKs as JSON, the private one with a warning on stderr', async () => {
    const r = await cli(['keys', 'generate', '--use', 'enc', '--kid', 'svc-enc-1']);
    assert.equal(r.code, 0, r.stderr);
    const { private_jwk, public_jwk } = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.equal(private_jwk!.kid, 'svc-enc-1');
    assert.equal(typeof private_jwk!.d, 'string');
    assert.equal(public_jwk!.d, undefined);
    assert.match(r.stderr, /keep it secret/);
  });

  it('never overwrites: a second run into the same folder fails and leaves the key as it was', async () => {
    assert.equal((await cli(['keys', 'generate', '--use', 'enc', '--out', 'once'])).code, 0);
    const before = await readFile(join(root.dir, 'once', 'enc-private.jwk.json'), 'utf8');
    const again = await cli(['keys', 'generate', '--use', 'enc', '--out', 'once']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ERR_FILE_EXISTS: once\/enc-private\.jwk\.json already exists/);
    assert.equal(await readFile(join(root.dir, 'once', 'enc-private.jwk.json'), 'utf8'), before);
  });

  for (const [args, message] of [
    [['--use', 'enc', '--alg', 'ES256'], /--alg must be one of ECDH-ES\+A256KW, ECDH-ES, RSA-OAEP-256/],
    [['--use', 'enc', '--alg', 'RSA1_5'], /--alg must be one of/],
    [['--use', 'enc', '--alg', 'dir'], /--alg must be one of/],
    [['--use', 'enc', '--crv', 'secp256k1'], /--crv must be one of P-256, P-384, X25519/],
    [['--use', 'enc', '--alg', 'RSA-OAEP-256', '--crv', 'P-256'], /--crv applies to ECDH-ES/],
    [['--use', 'enc', '--bits', '4096'], /--bits applies to RS256 and RSA-OAEP-256/],
    [['--use', 'sign'], /--use must be sig or enc/],
    [['--alg', 'ES256', '--crv', 'P-256'], /--crv applies to --use enc only/],
  ] as const) {
    it(`refuses ${args.join(' ')}: exit 2`, async () => {
      const r = await cli(['keys', 'generate', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});

describe('end to end: a resource that receives encrypted tokens, and token verify / decrypt --decryption-key', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  let server: TesseraServer;
  let url: string;
  let token: string;
  const cli = (args: string[], input?: string): Promise<CliResult> => tessera(args, { cwd: root.dir, input });
  const local = async (args: string[], input?: string) => {
    const r = await cli([...args, '--dir', DIR], input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const verify = (keyArgs: string[], input?: string) =>
    cli(
      [
        'token',
        'verify',
        '--jwks',
        `${url}/.well-known/jwks.json`,
        '--issuer',
        ISSUER,
        '--audience',
        PAYROLL,
        '--alg',
        'ES256',
        ...keyArgs,
        ...(input === undefined ? [token] : []),
      ],
      input,
    );

  before(async () => {
    root = await tempDir();
    assert.equal((await cli(['init', '--dir', DIR, '--issuer', ISSUER, '--json'])).code, 0);
    assert.equal((await cli(['keys', 'generate', '--use', 'enc', '--kid', 'payroll-1', '--out', 'payroll-keys'])).code, 0);
    const added = await local([
      'resources',
      'add',
      'payroll',
      '--resource',
      PAYROLL,
      '--encrypt',
      '--encryption-key',
      'payroll-keys/enc-public.jwk.json',
      '--claim',
      'email',
      '--json',
    ]);
    assert.deepEqual(
      (JSON.parse(added.stdout) as { encryption_keys: { kid: string }[] }).encryption_keys.map((k) => k.kid),
      ['payroll-1'],
    );
    await local(['roles', 'add', 'clerk', '--permission', 'payroll:read']);
    await local(['users', 'add', 'ada', '--role', 'clerk', '--password-stdin'], `${PASSWORD}\n`);
    await local(['users', 'set-profile', 'ada', '--email', 'ada@example.com', '--email-verified']);
    const client = JSON.parse(
      (
        await local([
          'clients',
          'add',
          'hr-app',
          '--grant',
          'password',
          '--first-party',
          '--scope',
          'payroll:read email',
          '--audience',
          PAYROLL,
          '--json',
        ])
      ).stdout,
    ) as { client_secret: string };
    server = await createServer({ file: join(root.dir, DIR, 'tessera.json'), overrides: { port: 0, logLevel: 'silent' } });
    url = await server.listen();
    const res = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`hr-app:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'ada',
        password: PASSWORD,
        scope: 'payroll:read email',
        resource: PAYROLL,
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    token = body.access_token!;
  });
  after(async () => {
    await server?.close();
    await root.remove();
  });

  it('the server issued an encrypted token: five segments, no readable email', () => {
    assert.equal(token.split('.').length, 5);
    for (const part of token.split('.')) assert.doesNotMatch(Buffer.from(part, 'base64url').toString('latin1'), /ada@example/);
  });

  it('token verify --decryption-key accepts it and prints the claims inside, the email among them', async () => {
    const r = await verify(['--decryption-key', 'payroll-keys/enc-private.jwk.json']);
    assert.equal(r.code, 0, r.stderr);
    const claims = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(claims.aud, PAYROLL);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.scope, 'payroll:read email');
  });

  it('reads the token from standard input too, and takes the old and the new key during a rotation', async () => {
    assert.equal((await cli(['keys', 'generate', '--use', 'enc', '--kid', 'payroll-2', '--out', 'payroll-next'])).code, 0);
    const r = await verify(
      ['--decryption-key', 'payroll-next/enc-private.jwk.json', '--decryption-key', 'payroll-keys/enc-private.jwk.json'],
      `${token}\n`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { email: string }).email, 'ada@example.com');
  });

  it('refuses it with another key (another kid, or the same kid): exit 1, a clear error, no token or key echoed', async () => {
    assert.equal((await cli(['keys', 'generate', '--use', 'enc', '--kid', 'reports-1', '--out', 'reports-keys'])).code, 0);
    assert.equal((await cli(['keys', 'generate', '--use', 'enc', '--kid', 'payroll-1', '--out', 'impostor-keys'])).code, 0);
    const otherKid = await verify(['--decryption-key', 'reports-keys/enc-private.jwk.json']);
    assert.equal(otherKid.code, 1);
    assert.equal(otherKid.stdout, '');
    assert.match(otherKid.stderr, /^error: ERR_KEY_NOT_FOUND: no decryption key matches the token/m);
    assert.match(otherKid.stderr, /the token is encrypted to key payroll-1, not to the --decryption-key given \(reports-1\)/);

    const sameKid = await verify(['--decryption-key', 'impostor-keys/enc-private.jwk.json']);
    assert.equal(sameKid.code, 1);
    assert.equal(sameKid.stdout, '');
    assert.match(sameKid.stderr, /^error: ERR_JWE_INVALID: the token does not decrypt/m);
    assert.match(sameKid.stderr, /does not open this token: it was encrypted to another key/);

    const privateKey = await readJson(join(root.dir, 'impostor-keys', 'enc-private.jwk.json'));
    for (const r of [otherKid, sameKid]) {
      assert.ok(!leaksToken(r.stderr, token));
      assert.ok(!r.stderr.includes(String(privateKey.d)));
    }
  });

  it('without --decryption-key it is refused, with a note to pass one; a public key file is refused as one', async () => {
    const none = await verify([]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: ERR_TOKEN_MALFORMED: /m);
    assert.match(none.stderr, /the token is encrypted .*pass its --decryption-key/);
    const pub = await verify(['--decryption-key', 'payroll-keys/enc-public.jwk.json']);
    assert.equal(pub.code, 1);
    assert.match(pub.stderr, /ERR_KEY_INVALID: payroll-keys\/enc-public\.jwk\.json holds a public key/);
    const missing = await verify(['--decryption-key', 'nowhere.jwk.json']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ERR_INPUT: cannot read decryption key file nowhere\.jwk\.json: no such file/);
  });

  it('a signed token given with --decryption-key is refused, with a note to verify it without one', async () => {
    const key = importEncryptionJwk(await readJson(join(root.dir, 'payroll-keys', 'enc-private.jwk.json')));
    const { jws } = decryptJwe(token, key, { algorithms: [key.alg] });
    const r = await verify(['--decryption-key', 'payroll-keys/enc-private.jwk.json'], jws);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: ERR_JWE_UNSUPPORTED: /m);
    assert.match(r.stderr, /note: the token is signed, not encrypted: verify it without --decryption-key/);
  });

  it('token decrypt shows the JWE header and the inner header and claims, labelled unverified', async () => {
    const r = await cli(['token', 'decrypt', '--decryption-key', 'payroll-keys/enc-private.jwk.json'], token);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^UNVERIFIED: decrypted, but the signed token inside was NOT verified/);
    const shown = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(
      [shown.jwe_header!.alg, shown.jwe_header!.enc, shown.jwe_header!.cty, shown.jwe_header!.kid],
      ['ECDH-ES+A256KW', 'A256GCM', 'JWT', 'payroll-1'],
    );
    assert.deepEqual([shown.header!.alg, shown.header!.typ], ['ES256', 'at+jwt']);
    assert.equal(shown.payload!.email, 'ada@example.com');

    const refused = await cli(['token', 'decrypt', token, '--decryption-key', 'impostor-keys/enc-private.jwk.json']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: ERR_JWE_INVALID: the token does not decrypt/);
    const usage = await cli(['token', 'decrypt', token]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--decryption-key is required/);
  });
});
