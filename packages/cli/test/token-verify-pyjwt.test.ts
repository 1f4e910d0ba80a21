/**
 * A seed-style PyJWT token, `jwt.encode({"user_id": 777}, key, algorithm="RS256")` with Debian's PyJWT
 * (header `{"alg":"RS256","typ":"JWT"}`: no kid; claims: user_id only, so no iss, aud, exp, sub, iat or
 * jti), signed with a key made by `ssh-keygen -t rsa -b 4096 -m pem` and verified against its OpenSSH
 * `.pub` file: refused under the default profile for its typ, accepted through createVerifier and through
 * `tessera token verify` only under a profile that names each relaxation.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { TokenTypeError } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

import { tempDir, tessera } from './helpers/cli.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const ENCODE = 'import jwt, sys; print(jwt.encode({"user_id": 777}, open(sys.argv[1]).read(), algorithm="RS256"))';
const pyjwt = spawnSync(PYTHON, ['-c', 'import jwt'], { stdio: 'ignore' }).status === 0;

/** The profile a PyJWT token needs: every relaxation by name. */
const PROFILE = {
  typ: ['JWT'],
  optionalClaims: ['sub', 'iat', 'jti'] as const,
  ignoreIssuer: true,
  ignoreAudience: true,
  allowMissingExp: true,
};
const FLAGS = ['--typ', 'JWT', '--optional-claim', 'sub', '--optional-claim', 'iat', '--optional-claim', 'jti'];
const FLAGS_ALL = [...FLAGS, '--any-issuer', '--any-audience', '--allow-no-exp'];

describe(
  'PyJWT default output, verified against an ssh-keygen .pub',
  { skip: !pyjwt && !process.env.CI && 'PyJWT not installed' },
  () => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    let pub: string;
    let token: string;
    before(async () => {
      tmp = await tempDir();
      const file = join(tmp.dir, 'id_rsa');
      await run('ssh-keygen', ['-t', 'rsa', '-b', '4096', '-m', 'pem', '-N', '', '-f', file, '-q']);
      pub = `${file}.pub`;
      token = (await run(PYTHON, ['-c', ENCODE, file])).stdout.trim();
    });
    after(() => tmp.remove());

    it("the token is PyJWT's default shape", () => {
      const [h, p] = token.split('.') as [string, string];
      assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'RS256', typ: 'JWT' });
      assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url').toString()), { user_id: 777 });
    });

    it('createVerifier: refused by default for its typ (ERR_TOKEN_TYPE), accepted under the named profile', async () => {
      const publicKey = await readFile(pub, 'utf8');
      const strict = createVerifier({ issuer: 'https://auth.example.com', audience: 'orders', algorithms: ['RS256'], publicKey });
      await assert.rejects(
        strict.verify(token),
        (e: unknown) => e instanceof TokenTypeError && e.code === 'ERR_TOKEN_TYPE' && /unexpected typ/.test(e.message),
      );
      const relaxed = createVerifier({
        algorithms: ['RS256'],
        publicKey,
        profile: { ...PROFILE, optionalClaims: [...PROFILE.optionalClaims] },
      });
      const p = await relaxed.verify(token);
      assert.equal(p.claims.user_id, 777);
      assert.equal(p.sub, undefined);
      assert.equal(p.expiresAt, Infinity);
      // Without allowMissingExp, the token is refused for its missing exp, named.
      const noExp = { ...PROFILE, allowMissingExp: false };
      const almost = createVerifier({
        algorithms: ['RS256'],
        publicKey,
        profile: { ...noExp, optionalClaims: [...PROFILE.optionalClaims] },
      });
      await assert.rejects(almost.verify(token), { code: 'ERR_CLAIM_INVALID', claim: 'exp', reason: 'missing' });
    });

    it('tessera token verify: refused by default with the reason; accepted with the profile flags; --allow-no-exp is needed', async () => {
      const strict = await tessera(
        [
          'token',
          'verify',
          '--public-key',
          pub,
          '--alg',
          'RS256',
          '--issuer',
          'https://auth.example.com',
          '--audience',
          'orders',
        ],
        {
          input: token,
        },
      );
      assert.equal(strict.code, 1);
      assert.equal(strict.stdout, '');
      assert.equal(strict.stderr, 'error: ERR_TOKEN_TYPE: unexpected typ\n');

      const ok = await tessera(['token', 'verify', '--public-key', pub, '--alg', 'RS256', ...FLAGS_ALL], { input: token });
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), { user_id: 777 });

      const noExp = await tessera(
        ['token', 'verify', '--public-key', pub, '--alg', 'RS256', ...FLAGS, '--any-issuer', '--any-audience'],
        {
          input: token,
        },
      );
      assert.equal(noExp.code, 1);
      assert.equal(noExp.stderr, 'error: ERR_CLAIM_INVALID: claim exp is required\n');
    });

    it('bad profile flags are usage errors (exit 2) naming the flag that exists', async () => {
      const exp = await tessera(
        ['token', 'verify', '--public-key', pub, '--alg', 'RS256', '--any-issuer', '--any-audience', '--optional-claim', 'exp'],
        {
          input: token,
        },
      );
      assert.equal(exp.code, 2);
      assert.match(exp.stderr, /--optional-claim exp: use --allow-no-exp/);
      const both = await tessera(
        ['token', 'verify', '--public-key', pub, '--alg', 'RS256', '--issuer', 'x', '--any-issuer', '--any-audience'],
        {
          input: token,
        },
      );
      assert.equal(both.code, 2);
      assert.match(both.stderr, /give --issuer or --any-issuer, not both/);
    });
  },
);
