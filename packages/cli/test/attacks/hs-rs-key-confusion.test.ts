/**
 * HS/RS key confusion (CVE-2015-9235 and its kin): the attacker signs an HS256 token using the issuer's
 * public RSA key, as published, as the HMAC secret. A verifier that lets the token's alg choose how to use
 * the key accepts it. Every key source of the CLI pins each key to one algorithm, so it never does.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { importKey, importSecret, signAccessToken } from '@tessera/core';

import { AUDIENCE, generateKeyFiles, ISSUER, tempDir, tessera, type CliResult } from '../helpers/cli.js';

describe('attack: HS256 token signed with the RS256 public key as HMAC secret', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let forged: string;
  before(async () => {
    tmp = await tempDir();
    await generateKeyFiles('RS256', tmp.dir);
    const publicPem = await readFile(join(tmp.dir, 'public.pem'));
    const rsaKid = importKey(
      await readFile(join(tmp.dir, 'jwks.json'), 'utf8').then(
        (t) => (JSON.parse(t) as { keys: Record<string, unknown>[] }).keys[0]!,
      ),
    ).kid;
    const secret = importSecret(publicPem, { alg: 'HS256', kid: rsaKid });
    forged = signAccessToken({ iss: ISSUER, sub: 'mallory', aud: AUDIENCE, client_id: 'mallory', ttl: 600 }, secret);
  });
  after(() => tmp.remove());

  const verify = (args: readonly string[]): Promise<CliResult> =>
    tessera(['token', 'verify', '--issuer', ISSUER, '--audience', AUDIENCE, ...args], { input: forged });

  function assertRefused(r: CliResult, code: RegExp): void {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, code);
  }

  it('--public-key with --alg RS256: ERR_ALG_NOT_ALLOWED', async () => {
    assertRefused(await verify(['--public-key', join(tmp.dir, 'public.pem'), '--alg', 'RS256']), /^error: ERR_ALG_NOT_ALLOWED: /);
  });

  it('--public-key even with HS256 allowed too: the RSA key stays pinned to RS256 (ERR_ALG_KEY_MISMATCH)', async () => {
    assertRefused(
      await verify(['--public-key', join(tmp.dir, 'public.pem'), '--alg', 'RS256,HS256']),
      /^error: ERR_ALG_KEY_MISMATCH: /,
    );
  });

  it('--jwks with HS256 allowed too: the kid finds the RSA key, pinned to RS256 (ERR_ALG_KEY_MISMATCH)', async () => {
    assertRefused(await verify(['--jwks', join(tmp.dir, 'jwks.json'), '--alg', 'RS256,HS256']), /^error: ERR_ALG_KEY_MISMATCH: /);
  });

  it('--secret-file given the public PEM: not a secret file, refused before any token is read', async () => {
    assertRefused(
      await verify(['--secret-file', join(tmp.dir, 'public.pem'), '--alg', 'HS256']),
      /^error: ERR_KEY_INVALID: .*not a secret file/,
    );
  });
});
