/** alg "none" (RFC 7518 section 3.6): an unsigned token must never verify, whatever the flags. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { AUDIENCE, generateKeyFiles, ISSUER, tempDir, tessera } from '../helpers/cli.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('attack: alg none', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
    await generateKeyFiles('ES256', tmp.dir);
  });
  after(() => tmp.remove());

  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: ISSUER, sub: 'mallory', aud: AUDIENCE, exp: now + 600, iat: now, client_id: 'mallory' };

  for (const alg of ['none', 'None', 'NONE']) {
    it(`a token with alg "${alg}" and no signature is refused: ERR_ALG_NOT_ALLOWED`, async () => {
      const token = `${b64({ alg, typ: 'at+jwt' })}.${b64(claims)}.`;
      const r = await tessera(
        ['token', 'verify', '--jwks', join(tmp.dir, 'jwks.json'), '--issuer', ISSUER, '--audience', AUDIENCE, '--alg', 'ES256'],
        {
          input: token,
        },
      );
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: ERR_ALG_NOT_ALLOWED: /);
    });
  }

  it('"none" cannot be allowed: --alg none is bad usage (exit 2)', async () => {
    const r = await tessera(
      [
        'token',
        'verify',
        '--jwks',
        join(tmp.dir, 'jwks.json'),
        '--issuer',
        ISSUER,
        '--audience',
        AUDIENCE,
        '--alg',
        'ES256,none',
      ],
      {
        input: `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`,
      },
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: ERR_USAGE: --alg must be one of/);
  });
});
