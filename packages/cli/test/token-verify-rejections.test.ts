import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { signAccessToken } from '@tessera/core';

import {
  AUDIENCE,
  generateKeyFiles,
  ISSUER,
  leaksToken,
  privateKeyOf,
  signToken,
  tempDir,
  tessera,
  type CliResult,
} from './helpers/cli.js';

describe('token verify refuses (exit 1, "error: CODE: message" on stderr, nothing on stdout, no token echoed)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let es: string;
  let hs: string;
  let token: string;
  before(async () => {
    tmp = await tempDir();
    es = join(tmp.dir, 'es');
    hs = join(tmp.dir, 'hs');
    await generateKeyFiles('ES256', es);
    await generateKeyFiles('HS256', hs);
    token = await signToken(join(es, 'private.jwk.json'));
  });
  after(() => tmp.remove());

  function verify(args: readonly string[], input: string): Promise<CliResult> {
    return tessera(['token', 'verify', '--alg', 'ES256', '--jwks', join(es, 'jwks.json'), ...args], { input });
  }

  function assertRefused(r: CliResult, code: string, tokenUsed: string): void {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^error: ${code}: [^\\n]+\\n$`));
    assert.ok(!leaksToken(r.stderr, tokenUsed), 'stderr must not hold the token');
  }

  it('an expired token: ERR_TOKEN_EXPIRED', async () => {
    const key = await privateKeyOf(es);
    const hourAgo = Date.now() - 3_600_000;
    const expired = signAccessToken({ iss: ISSUER, sub: 'alice', aud: AUDIENCE, client_id: 'alice', ttl: 600 }, key, {
      now: () => hourAgo,
    });
    const r = await verify(['--issuer', ISSUER, '--audience', AUDIENCE], expired);
    assertRefused(r, 'ERR_TOKEN_EXPIRED', expired);
  });

  it('--clock-tolerance covers a token expired a moment ago, and no more', async () => {
    const key = await privateKeyOf(es);
    const expired = signAccessToken({ iss: ISSUER, sub: 'alice', aud: AUDIENCE, client_id: 'alice', ttl: 60 }, key, {
      now: () => Date.now() - 90_000,
    });
    const tolerant = await verify(['--issuer', ISSUER, '--audience', AUDIENCE, '--clock-tolerance', '120'], expired);
    assert.equal(tolerant.code, 0, tolerant.stderr);
    const strict = await verify(['--issuer', ISSUER, '--audience', AUDIENCE, '--clock-tolerance', '0'], expired);
    assertRefused(strict, 'ERR_TOKEN_EXPIRED', expired);
  });

  it('a token for another audience: ERR_CLAIM_INVALID', async () => {
    const r = await verify(['--issuer', ISSUER, '--audience', 'billing'], token);
    assertRefused(r, 'ERR_CLAIM_INVALID', token);
    assert.match(r.stderr, /audience/);
  });

  it('a token from another issuer: ERR_CLAIM_INVALID', async () => {
    const r = await verify(['--issuer', 'https://other.example.test', '--audience', AUDIENCE], token);
    assertRefused(r, 'ERR_CLAIM_INVALID', token);
  });

  it('a token signed by another key: ERR_KEY_NOT_FOUND with the JWKS, ERR_SIGNATURE_INVALID with the public key', async () => {
    const other = join(tmp.dir, 'other');
    await generateKeyFiles('ES256', other);
    const r1 = await tessera(
      ['token', 'verify', '--alg', 'ES256', '--jwks', join(other, 'jwks.json'), '--issuer', ISSUER, '--audience', AUDIENCE],
      { input: token },
    );
    assertRefused(r1, 'ERR_KEY_NOT_FOUND', token);
    const r2 = await tessera(
      [
        'token',
        'verify',
        '--alg',
        'ES256',
        '--public-key',
        join(other, 'public.pem'),
        '--issuer',
        ISSUER,
        '--audience',
        AUDIENCE,
      ],
      { input: token },
    );
    assertRefused(r2, 'ERR_SIGNATURE_INVALID', token);
  });

  it('a tampered payload: ERR_SIGNATURE_INVALID', async () => {
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url')}.${s}`;
    const r = await verify(['--issuer', ISSUER, '--audience', AUDIENCE], forged);
    assertRefused(r, 'ERR_SIGNATURE_INVALID', forged);
  });

  it('an algorithm outside the allowlist: ERR_ALG_NOT_ALLOWED', async () => {
    const r = await tessera(
      ['token', 'verify', '--alg', 'ES384', '--jwks', join(es, 'jwks.json'), '--issuer', ISSUER, '--audience', AUDIENCE],
      { input: token },
    );
    assertRefused(r, 'ERR_ALG_NOT_ALLOWED', token);
    const hsToken = await signToken(join(hs, 'secret.key'), ['--alg', 'HS256']);
    const r2 = await verify(['--issuer', ISSUER, '--audience', AUDIENCE], hsToken);
    assertRefused(r2, 'ERR_ALG_NOT_ALLOWED', hsToken);
  });

  it('a malformed token: ERR_TOKEN_MALFORMED, and the text is not echoed', async () => {
    const junk = 'not-a-token-but-a-long-secret-looking-string.xyz';
    const r = await verify(['--issuer', ISSUER, '--audience', AUDIENCE], junk);
    assertRefused(r, 'ERR_TOKEN_MALFORMED', junk);
    assert.ok(!r.stderr.includes('secret-looking'));
  });

  it('a wrong HMAC secret: ERR_SIGNATURE_INVALID, and neither secret nor token is printed', async () => {
    const other = join(tmp.dir, 'hs-other');
    await generateKeyFiles('HS256', other);
    const hsToken = await signToken(join(hs, 'secret.key'), ['--alg', 'HS256']);
    const r = await tessera(
      [
        'token',
        'verify',
        '--alg',
        'HS256',
        '--secret-file',
        join(other, 'secret.key'),
        '--issuer',
        ISSUER,
        '--audience',
        AUDIENCE,
      ],
      { input: hsToken },
    );
    assertRefused(r, 'ERR_SIGNATURE_INVALID', hsToken);
    for (const dir of [hs, other]) assert.ok(!r.stderr.includes((await readFile(join(dir, 'secret.key'), 'utf8')).trim()));
  });

  it('bad usage with a token on the command line does not echo it either', async () => {
    const cases: string[][] = [
      [
        'token',
        'verify',
        token,
        'extra',
        '--alg',
        'ES256',
        '--jwks',
        join(es, 'jwks.json'),
        '--issuer',
        ISSUER,
        '--audience',
        AUDIENCE,
      ],
      ['token', 'verify', `--${token}`],
      ['token', 'sign', token],
      [token],
      ['token', 'decode', token, token],
    ];
    for (const args of cases) {
      const r = await tessera(args);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(!leaksToken(r.stderr, token), `stderr for ${args.length} arguments must not hold the token: ${r.stderr}`);
    }
  });
});

describe('token verify: bad usage exits 2 with the usage on stderr', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let jwks: string;
  let pub: string;
  before(async () => {
    tmp = await tempDir();
    await generateKeyFiles('ES256', tmp.dir);
    jwks = join(tmp.dir, 'jwks.json');
    pub = join(tmp.dir, 'public.pem');
  });
  after(() => tmp.remove());

  const cases: [string, () => string[]][] = [
    ['missing --issuer', () => ['--jwks', jwks, '--audience', AUDIENCE, '--alg', 'ES256']],
    ['missing --audience', () => ['--jwks', jwks, '--issuer', ISSUER, '--alg', 'ES256']],
    ['missing --alg', () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE]],
    ['no key source', () => ['--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256']],
    [
      'two key sources',
      () => ['--jwks', jwks, '--public-key', pub, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256'],
    ],
    ['an unknown algorithm', () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256,XS999']],
    ['alg none', () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'none']],
    ['a lowercase algorithm', () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'es256']],
    ['an empty --alg entry', () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256,']],
    [
      'a negative --clock-tolerance',
      () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256', '--clock-tolerance', '-1'],
    ],
    [
      'a --jwks URL that is not http(s)',
      () => ['--jwks', 'ftp://example.test/jwks.json', '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256'],
    ],
    [
      '--secret-file without an HS algorithm',
      () => ['--secret-file', pub, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256'],
    ],
    [
      '--alg given twice (the last would silently win)',
      () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256', '--alg', 'HS256'],
    ],
    ['an unknown flag', () => ['--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256', '--insecure']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await tessera(['token', 'verify', ...args()], { input: 'x.y.z' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: ERR_USAGE: /);
      assert.match(r.stderr, /Usage: tessera token verify/);
      assert.equal(r.stdout, '');
    });
  }

  it('no token: stdin empty and no argument', async () => {
    const r = await tessera(['token', 'verify', '--jwks', jwks, '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: ERR_USAGE: no token/);
  });
});
