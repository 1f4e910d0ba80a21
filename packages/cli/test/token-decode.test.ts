import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { generateKeyFiles, ISSUER, leaksToken, signToken, tempDir, tessera } from './helpers/cli.js';

const LABEL = 'UNVERIFIED: decoded without checking the signature or claims';

describe('token decode', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let token: string;
  before(async () => {
    tmp = await tempDir();
    await generateKeyFiles('ES256', tmp.dir);
    token = await signToken(join(tmp.dir, 'private.jwk.json'), ['--scope', 'orders:read']);
  });
  after(() => tmp.remove());

  it('prints { header, payload } on stdout and the UNVERIFIED label on stderr', async () => {
    const r = await tessera(['token', 'decode', token]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `${LABEL}\n`);
    const decoded = JSON.parse(r.stdout) as { header: Record<string, unknown>; payload: Record<string, unknown> };
    assert.deepEqual(Object.keys(decoded), ['header', 'payload']);
    assert.equal(decoded.header.alg, 'ES256');
    assert.equal(decoded.header.typ, 'at+jwt');
    assert.equal(decoded.payload.iss, ISSUER);
    assert.equal(decoded.payload.scope, 'orders:read');
  });

  it('reads the token from stdin, trimming the newline', async () => {
    const r = await tessera(['token', 'decode'], { input: `  ${token}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^UNVERIFIED: /);
    assert.equal((JSON.parse(r.stdout) as { payload: { sub: string } }).payload.sub, 'alice');
  });

  it('decodes a token whose signature is wrong: nothing is checked, hence the label', async () => {
    const [h, p] = token.split('.');
    const r = await tessera(['token', 'decode', `${h}.${p}.AAAA`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /UNVERIFIED/);
  });

  it('a malformed token exits 1 with ERR_TOKEN_MALFORMED, no label, no echo', async () => {
    const [h, p] = token.split('.');
    const broken = `${h}.${p}`;
    const r = await tessera(['token', 'decode'], { input: broken });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: ERR_TOKEN_MALFORMED: /);
    assert.ok(!r.stderr.includes('UNVERIFIED'));
    assert.ok(!leaksToken(r.stderr, broken));
  });

  it('no token at all is bad usage (exit 2)', async () => {
    const r = await tessera(['token', 'decode'], { input: '\n' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: ERR_USAGE: no token/);
  });
});
