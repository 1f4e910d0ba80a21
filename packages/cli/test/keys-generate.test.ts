import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeBase64url, importKey, parseJwks } from '@tessera/core';

import { generateKeyFiles, tempDir, tessera } from './helpers/cli.js';

const ASYMMETRIC = ['ES256', 'EdDSA', 'RS256'] as const;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('keys generate --out', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => (tmp = await tempDir()));
  after(() => tmp.remove());

  for (const alg of ASYMMETRIC) {
    it(`${alg}: writes private.jwk.json and private.pem 0600, public.pem and jwks.json; the kid agrees everywhere`, async () => {
      const dir = join(tmp.dir, alg);
      const r = await tessera(['keys', 'generate', '--alg', alg, '--out', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await mode(join(dir, 'private.jwk.json')), 0o600);
      assert.equal(await mode(join(dir, 'private.pem')), 0o600);

      const jwk = JSON.parse(await readFile(join(dir, 'private.jwk.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(jwk.alg, alg);
      assert.equal(jwk.use, 'sig');
      assert.equal(typeof jwk.kid, 'string');
      assert.equal(typeof jwk.d, 'string');
      assert.match(r.stdout, new RegExp(`kid: ${String(jwk.kid)}`));

      const pem = await readFile(join(dir, 'private.pem'), 'utf8');
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
      const fromPem = importKey(pem, { alg, kid: jwk.kid as string });
      assert.equal(fromPem.kind, 'private');
      assert.match(await readFile(join(dir, 'public.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);

      const jwks = JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8')) as { keys: Record<string, unknown>[] };
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0]!.kid, jwk.kid);
      for (const m of PRIVATE_MEMBERS) assert.equal(jwks.keys[0]![m], undefined, `jwks.json must not hold ${m}`);
      assert.equal(parseJwks(jwks).keys[0]!.alg, alg);
      await assert.rejects(stat(join(dir, 'secret.key')), { code: 'ENOENT' });
    });
  }

  it('HS256: writes private.jwk.json and secret.key (32 bytes as base64url) 0600, and no PEM or JWKS', async () => {
    const dir = join(tmp.dir, 'HS256');
    const r = await tessera(['keys', 'generate', '--alg', 'HS256', '--out', dir, '--kid', 'hmac-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await mode(join(dir, 'private.jwk.json')), 0o600);
    assert.equal(await mode(join(dir, 'secret.key')), 0o600);
    const jwk = JSON.parse(await readFile(join(dir, 'private.jwk.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([jwk.kty, jwk.alg, jwk.use, jwk.kid], ['oct', 'HS256', 'sig', 'hmac-1']);
    const text = await readFile(join(dir, 'secret.key'), 'utf8');
    assert.match(text, /^[A-Za-z0-9_-]+\n$/);
    assert.equal(decodeBase64url(text.trim())!.length, 32);
    assert.equal(text.trim(), jwk.k);
    for (const name of ['private.pem', 'public.pem', 'jwks.json'])
      await assert.rejects(stat(join(dir, name)), { code: 'ENOENT' });
  });

  for (const alg of [...ASYMMETRIC, 'HS256']) {
    it(`${alg}: refuses to overwrite an existing key directory, exit 1, files untouched`, async () => {
      const dir = join(tmp.dir, `again-${alg}`);
      await generateKeyFiles(alg, dir);
      const before = await readFile(join(dir, 'private.jwk.json'), 'utf8');
      const r = await tessera(['keys', 'generate', '--alg', alg, '--out', dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: ERR_FILE_EXISTS: .*private\.jwk\.json already exists; refusing to overwrite/);
      assert.equal(r.stdout, '');
      assert.equal(await readFile(join(dir, 'private.jwk.json'), 'utf8'), before);
    });
  }

  it('refuses when any one of the files exists, and writes none of the others', async () => {
    const dir = join(tmp.dir, 'partial');
    await mkdir(dir);
    await writeFile(join(dir, 'jwks.json'), '{"keys":[]}');
    const r = await tessera(['keys', 'generate', '--alg', 'ES256', '--out', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERR_FILE_EXISTS: .*jwks\.json already exists/);
    for (const name of ['private.jwk.json', 'private.pem', 'public.pem'])
      await assert.rejects(stat(join(dir, name)), { code: 'ENOENT' });
    assert.equal(await readFile(join(dir, 'jwks.json'), 'utf8'), '{"keys":[]}');
  });

  it('RS256 --bits 3072 makes a 3072-bit key', async () => {
    const dir = join(tmp.dir, 'rsa3072');
    await generateKeyFiles('RS256', dir, ['--bits', '3072']);
    const key = importKey(await readFile(join(dir, 'public.pem'), 'utf8'), { alg: 'RS256' });
    assert.equal(key.publicKeyObject.asymmetricKeyDetails?.modulusLength, 3072);
  });
});

describe('keys generate without --out', () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`${alg}: prints the private JWK and the public JWKS as JSON, and a note on stderr`, async () => {
      const r = await tessera(['keys', 'generate', '--alg', alg, '--kid', 'k1']);
      assert.equal(r.code, 0, r.stderr);
      const printed = JSON.parse(r.stdout) as { private_jwk: Record<string, unknown>; jwks: { keys: Record<string, unknown>[] } };
      assert.equal(printed.private_jwk.kid, 'k1');
      assert.equal(typeof printed.private_jwk.d, 'string');
      assert.equal(parseJwks(printed.jwks).keys[0]!.kid, 'k1');
      assert.match(r.stderr, /private key was printed/);
      assert.ok(!r.stderr.includes(printed.private_jwk.d as string));
    });
  }

  it('HS256: prints the secret JWK only (an HMAC secret is never put in a JWKS)', async () => {
    const r = await tessera(['keys', 'generate', '--alg', 'HS256']);
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(printed), ['private_jwk']);
    assert.equal(printed.private_jwk!.kty, 'oct');
    assert.match(r.stderr, /HMAC secret was printed/);
  });
});

describe('keys generate: bad usage exits 2', () => {
  const cases: [string, string[]][] = [
    ['no --alg', []],
    ['an algorithm an issuer does not sign with', ['--alg', 'ES384']],
    ['alg none', ['--alg', 'none']],
    ['--bits for a non-RSA key', ['--alg', 'ES256', '--bits', '2048']],
    ['--bits of a size not offered', ['--alg', 'RS256', '--bits', '1024']],
    ['an empty --kid', ['--alg', 'ES256', '--kid=']],
    ['an unknown flag', ['--alg', 'ES256', '--force']],
    ['a positional argument', ['--alg', 'ES256', 'extra']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await tessera(['keys', 'generate', ...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: ERR_USAGE: /);
      assert.match(r.stderr, /Usage: tessera keys generate/);
      assert.equal(r.stdout, '');
    });
  }
});
