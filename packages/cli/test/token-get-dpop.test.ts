/**
 * `tessera token get --dpop-key FILE`, a real child process against a real auth server that requires DPoP nonces:
 * a private JWK or PEM key binds the printed token to it (cnf.jkt, token_type DPoP), after the one retry with the
 * server's nonce; an RSA PEM needs --dpop-alg; a public key, an HMAC secret or a missing file exits 1 naming the
 * file, never what it holds.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified, generateKey } from '@tessera/core';
import { createServer, type TesseraServer } from '@tessera/server';
import { contextOf, registerClient } from '@tessera/server/internal';
import { DpopKey } from '@tessera/verifier';

import { tempDir, tessera } from './helpers/cli.js';

describe('tessera token get --dpop-key', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let server: TesseraServer;
  let issuer: string;
  let secret: string;

  before(async () => {
    root = await tempDir();
    server = await createServer({ overrides: { dataDir: root.dir, port: 0, logLevel: 'silent', dpopNonce: true } });
    await server.listen();
    issuer = server.config.issuer;
    const ctx = contextOf(server);
    const r = await registerClient(
      ctx.store,
      ctx.master,
      { id: 'orders', grantTypes: ['client_credentials'], scopes: ['inventory:read'], audiences: ['inventory'] },
      ctx.now(),
    );
    secret = r.secret!;
  });
  after(async () => {
    await server.close();
    await root.remove();
  });

  const get = (extra: string[]) =>
    tessera(['token', 'get', '--issuer', issuer, '--client-id', 'orders', '--audience', 'inventory', ...extra], {
      env: { TESSERA_CLIENT_SECRET: secret },
    });

  it('a private JWK, a PEM: the printed token is bound to the key (after the nonce retry)', async () => {
    const ec = generateKey('ES256');
    const jwkFile = join(root.dir, 'dpop.jwk');
    writeFileSync(jwkFile, JSON.stringify(ec.toJwk({ private: true })));
    const r = await get(['--dpop-key', jwkFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(decodeUnverified(r.stdout.trim()).payload.cnf, { jkt: new DpopKey(ec).jkt });

    const ed = generateKey('EdDSA');
    const pemFile = join(root.dir, 'dpop.pem');
    writeFileSync(pemFile, ed.toPem({ private: true }));
    const json = await get(['--dpop-key', pemFile, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'DPoP');
    assert.deepEqual(decodeUnverified(body.access_token).payload.cnf, { jkt: new DpopKey(ed).jkt });
    assert.equal((await get([])).stdout.trim().split('.').length, 3, 'without --dpop-key: a bearer token, as before');
  });

  it('an RSA PEM names no algorithm: --dpop-alg is asked for, and then it works', async () => {
    const rsa = generateKey('PS256');
    const file = join(root.dir, 'rsa.pem');
    writeFileSync(file, rsa.toPem({ private: true }));
    const missing = await get(['--dpop-key', file]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /pass --dpop-alg/);
    const r = await get(['--dpop-key', file, '--dpop-alg', 'PS256']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(decodeUnverified(r.stdout.trim()).payload.cnf, { jkt: new DpopKey(rsa).jkt });
    const alone = await get(['--dpop-alg', 'PS256']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--dpop-alg goes with --dpop-key/);
  });

  it('a public key, an HMAC secret, a missing file: exit 1, the file named, nothing printed, no key material', async () => {
    const ec = generateKey('ES256');
    const hmac = generateKey('HS256');
    const publicFile = join(root.dir, 'public.pem');
    const hmacFile = join(root.dir, 'hmac.jwk');
    writeFileSync(publicFile, ec.toPem());
    writeFileSync(hmacFile, JSON.stringify(hmac.toJwk({ private: true })));
    const secretK = String(hmac.toJwk({ private: true }).k);
    for (const file of [publicFile, hmacFile, join(root.dir, 'missing.pem')]) {
      const r = await get(['--dpop-key', file]);
      assert.equal(r.code, 1, `${file}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(file), r.stderr);
      assert.ok(!r.stderr.includes(secretK));
    }
  });
});
