import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';

import { AUDIENCE, generateKeyFiles, ISSUER, signToken, tempDir, tessera } from './helpers/cli.js';

const VERIFY = ['token', 'verify', '--issuer', ISSUER, '--audience', AUDIENCE];

/** Every signing key form and every key source that verifies it, per algorithm. */
const ROUND_TRIPS: { alg: string; key: string; signArgs?: string[]; source: string[] }[] = [
  { alg: 'ES256', key: 'private.jwk.json', source: ['--jwks', 'jwks.json'] },
  { alg: 'ES256', key: 'private.pem', source: ['--public-key', 'public.pem'] },
  { alg: 'EdDSA', key: 'private.jwk.json', source: ['--jwks', 'jwks.json'] },
  { alg: 'EdDSA', key: 'private.pem', source: ['--public-key', 'public.pem'] },
  { alg: 'RS256', key: 'private.jwk.json', source: ['--jwks', 'jwks.json'] },
  { alg: 'RS256', key: 'private.pem', signArgs: ['--alg', 'RS256'], source: ['--public-key', 'public.pem'] },
  { alg: 'RS256', key: 'private.jwk.json', source: ['--public-key', 'jwks-entry.json'] },
  { alg: 'HS256', key: 'secret.key', signArgs: ['--alg', 'HS256'], source: ['--secret-file', 'secret.key'] },
  { alg: 'HS256', key: 'private.jwk.json', source: ['--secret-file', 'secret.key'] },
];

describe('token sign -> token verify round trip', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const dirs: Record<string, string> = {};
  before(async () => {
    tmp = await tempDir();
    for (const alg of ['ES256', 'EdDSA', 'RS256', 'HS256']) {
      dirs[alg] = join(tmp.dir, alg);
      await generateKeyFiles(alg, dirs[alg]);
    }
    // A single public JWK (the JWKS entry) for --public-key.
    const jwks = JSON.parse(await readFile(join(dirs.RS256!, 'jwks.json'), 'utf8')) as { keys: unknown[] };
    await writeFile(join(dirs.RS256!, 'jwks-entry.json'), JSON.stringify(jwks.keys[0]));
  });
  after(() => tmp.remove());

  for (const { alg, key, signArgs = [], source } of ROUND_TRIPS) {
    it(`${alg}: sign with ${key}, verify with ${source.join(' ')}`, async () => {
      const dir = dirs[alg]!;
      const token = await signToken(join(dir, key), signArgs);
      const r = await tessera([...VERIFY, '--alg', alg, source[0]!, join(dir, source[1]!)], { input: `${token}\n` });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const claims = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(claims.iss, ISSUER);
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.aud, AUDIENCE);
      assert.equal(claims.client_id, 'alice');
      assert.equal((claims.exp as number) - (claims.iat as number), 600);
      assert.equal(decodeUnverified(token).header.alg, alg);
    });
  }

  it('the token may also be the TOKEN argument', async () => {
    const token = await signToken(join(dirs.ES256!, 'private.jwk.json'));
    const r = await tessera([...VERIFY, token, '--alg', 'ES256', '--jwks', join(dirs.ES256!, 'jwks.json')]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('sets scope, several audiences, client_id, ttl, kid and extra JSON claims', async () => {
    const token = await signToken(join(dirs.ES256!, 'private.jwk.json'), [
      '--aud',
      'billing',
      '--scope',
      'orders:read orders:write',
      '--client-id',
      'web-app',
      '--ttl',
      '60',
      '--claim',
      'roles=["admin","ops"]',
      '--claim',
      'tenant="acme"',
    ]);
    const r = await tessera([...VERIFY, '--audience', 'billing', '--alg', 'ES256', '--jwks', join(dirs.ES256!, 'jwks.json')], {
      input: token,
    });
    assert.equal(r.code, 0, r.stderr);
    const claims = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(claims.aud, [AUDIENCE, 'billing']);
    assert.equal(claims.scope, 'orders:read orders:write');
    assert.equal(claims.client_id, 'web-app');
    assert.equal((claims.exp as number) - (claims.iat as number), 60);
    assert.deepEqual(claims.roles, ['admin', 'ops']);
    assert.equal(claims.tenant, 'acme');

    const withKid = await signToken(join(dirs.ES256!, 'private.pem'), ['--kid', 'rotated-2']);
    assert.equal(decodeUnverified(withKid).header.kid, 'rotated-2');
  });

  it('--alg lists several algorithms: the key is pinned to the one that fits it', async () => {
    const token = await signToken(join(dirs.EdDSA!, 'private.pem'));
    const r = await tessera([...VERIFY, '--alg', 'ES256,EdDSA,HS256', '--public-key', join(dirs.EdDSA!, 'public.pem')], {
      input: token,
    });
    assert.equal(r.code, 0, r.stderr);
  });

  it('a key that fits several algorithms of --alg is bad usage (exit 2)', async () => {
    const token = await signToken(join(dirs.RS256!, 'private.jwk.json'));
    const r = await tessera([...VERIFY, '--alg', 'RS256,PS256', '--public-key', join(dirs.RS256!, 'public.pem')], {
      input: token,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /fits several algorithms of --alg \(RS256, PS256\)/);
  });

  it('a signing key that does not name its algorithm needs --alg (exit 2)', async () => {
    for (const [alg, file] of [
      ['RS256', 'private.pem'],
      ['HS256', 'secret.key'],
    ] as const) {
      const r = await tessera([
        'token',
        'sign',
        '--key',
        join(dirs[alg]!, file),
        '--iss',
        ISSUER,
        '--sub',
        'alice',
        '--aud',
        AUDIENCE,
      ]);
      assert.equal(r.code, 2, file);
      assert.match(r.stderr, /^error: ERR_USAGE: .*pass --alg/);
      assert.equal(r.stdout, '');
    }
  });

  it('token sign refuses a public key (exit 1, ERR_KEY_INVALID)', async () => {
    const r = await tessera([
      'token',
      'sign',
      '--key',
      join(dirs.ES256!, 'public.pem'),
      '--iss',
      ISSUER,
      '--sub',
      'alice',
      '--aud',
      AUDIENCE,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: ERR_KEY_INVALID: .*holds a public key/);
  });

  it('token verify --public-key refuses a private key: a verifier gets the public half', async () => {
    const token = await signToken(join(dirs.ES256!, 'private.jwk.json'));
    const r = await tessera([...VERIFY, '--alg', 'ES256', '--public-key', join(dirs.ES256!, 'private.pem')], { input: token });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: ERR_KEY_INVALID: .*holds a private key/);
    assert.equal(r.stdout, '');
  });

  it('token sign: bad usage exits 2', async () => {
    const key = join(dirs.ES256!, 'private.jwk.json');
    const base = ['--key', key, '--iss', ISSUER, '--sub', 'alice', '--aud', AUDIENCE];
    const cases: string[][] = [
      ['--iss', ISSUER, '--sub', 'alice', '--aud', AUDIENCE], // no --key
      ['--key', key, '--sub', 'alice', '--aud', AUDIENCE], // no --iss
      ['--key', key, '--iss', ISSUER, '--aud', AUDIENCE], // no --sub
      ['--key', key, '--iss', ISSUER, '--sub', 'alice'], // no --aud
      [...base, '--ttl', '0'],
      [...base, '--ttl', '1.5'],
      [...base, '--claim', 'roles=[admin]'],
      [...base, '--claim', 'noequals'],
      [...base, '--claim', 'a=1', '--claim', 'a=2'],
      [...base, '--claim', '__proto__={"admin":true}'], // would be dropped silently by signAccessToken
      [...base, '--claim', 'exp=1'], // registered claims are set by signAccessToken (ERR_CONFIG)
      [...base, '--scope', 'a  b'],
      [...base, '--alg', 'none'],
    ];
    for (const args of cases) {
      const r = await tessera(['token', 'sign', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: (ERR_USAGE|ERR_CONFIG): /);
      assert.match(r.stderr, /Usage: tessera token sign/);
      assert.equal(r.stdout, '');
    }
  });
});
