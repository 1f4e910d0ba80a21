/**
 * The client side of DPoP (RFC 9449) against a real auth server: a ServiceTokenSource with `dpopKey` sends a proof
 * with each token request and hands out tokens bound to its key (token_type DPoP, cnf.jkt), which the server's own
 * admin API accepts with a proof made by createDpopProof and refuses without one; with server nonces on, the source
 * retries once on use_dpop_nonce and remembers the nonce; DpopKey loads private JWK and PEM files and refuses keys
 * that cannot sign proofs; a token endpoint that answers with a bearer token is refused (fail closed).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { AddressInfo } from 'node:net';

import { ConfigError, decodeUnverified, generateKey } from '@tessera/core';
import { createDpopProof, DpopKey, ServiceTokenSource, TokenRequestError } from '@tessera/verifier';

import { ADMIN_SCOPE, adminAudience } from '@tessera/server/internal';

import { type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const jktOf = (token: string) => (decodeUnverified(token).payload.cnf as { jkt?: string } | undefined)?.jkt;

/** The global fetch, recording each token request's status and whether it carried a proof with a nonce. */
function recordingFetch(): { seen: { status: number; nonce: string | undefined }[]; fetch: typeof fetch } {
  const seen: { status: number; nonce: string | undefined }[] = [];
  return {
    seen,
    fetch: async (input, init) => {
      const proof = new Headers(init?.headers).get('dpop');
      assert.ok(proof, 'every token request carries a proof');
      const nonce = decodeUnverified(proof).payload.nonce as string | undefined;
      const res = await fetch(input, init);
      seen.push({ status: res.status, nonce });
      return res;
    },
  };
}

describe('ServiceTokenSource with a DPoP key against a real auth server', () => {
  let t: TestServer;
  let admin: ClientCreds;

  before(async () => {
    t = await startServer();
    admin = await t.client({
      id: 'ops',
      grantTypes: ['client_credentials'],
      scopes: [ADMIN_SCOPE],
      audiences: [adminAudience(t.url)],
    });
  });
  after(() => t.close());

  it('hands out tokens bound to its key, which the holder uses with a proof and a copy without the key cannot', async () => {
    const key = DpopKey.generate();
    const source = new ServiceTokenSource({ issuer: t.url, clientId: admin.id, clientSecret: admin.secret!, dpopKey: key });
    assert.equal(source.dpopKey, key);
    const answer = await source.requestToken({ scope: ADMIN_SCOPE });
    assert.equal(answer.token_type, 'DPoP');
    assert.equal(jktOf(answer.access_token), key.jkt);
    const token = await source.getToken({ scope: ADMIN_SCOPE });
    assert.equal(jktOf(token), key.jkt);

    const url = `${t.url}/admin/users`;
    const call = async (k: DpopKey, htu = url) =>
      (
        await fetch(url, {
          headers: {
            authorization: `DPoP ${token}`,
            dpop: createDpopProof({ key: k, method: 'GET', url: htu, accessToken: token }),
          },
        })
      ).status;
    assert.equal(await call(key), 200);
    assert.equal(await call(DpopKey.generate()), 401, "a thief's own key");
    assert.equal(await call(key, `${t.url}/admin/clients`), 401, 'a proof for another route');
    assert.equal((await fetch(url, { headers: { authorization: `DPoP ${token}` } })).status, 401, 'without a proof');
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 401, 'as a bearer token');
  });

  it('an EdDSA key works as well', async () => {
    const key = DpopKey.generate('EdDSA');
    const source = new ServiceTokenSource({ issuer: t.url, clientId: admin.id, clientSecret: admin.secret!, dpopKey: key });
    assert.equal(jktOf(await source.getToken({ scope: ADMIN_SCOPE })), key.jkt);
  });

  it('a proof is made afresh for each request: its own jti, htm and htu, ath of the token, the nonce given', () => {
    const key = DpopKey.generate();
    const a = decodeUnverified(createDpopProof({ key, method: 'POST', url: 'https://API.example.com:443/x?q=1#f' }));
    const b = decodeUnverified(
      createDpopProof({ key, method: 'GET', url: 'https://api.example.com/x', accessToken: 'tok', nonce: 'n1' }),
    );
    assert.equal(a.header.typ, 'dpop+jwt');
    assert.equal(a.header.kid, undefined);
    assert.equal((a.header.jwk as { d?: string }).d, undefined, 'never the private key');
    assert.deepEqual(
      [a.payload.htm, a.payload.htu, a.payload.ath, a.payload.nonce],
      ['POST', 'https://api.example.com/x', undefined, undefined],
    );
    assert.deepEqual(
      [b.payload.htm, b.payload.ath, b.payload.nonce],
      ['GET', 'GnZ0607njffhrEOak8P6jjyUV4TU3sn9jjARc4svHWI', 'n1'],
    );
    assert.notEqual(a.payload.jti, b.payload.jti);
    assert.throws(() => createDpopProof({ key, method: 'POST', url: 'ftp://example.com/' }), ConfigError);
  });
});

describe('ServiceTokenSource with a DPoP key, server nonces on', () => {
  let t: TestServer;
  let svc: ClientCreds;
  before(async () => {
    t = await startServer({ overrides: { dpopNonce: true } });
    svc = await t.client({ id: 'billing', grantTypes: ['client_credentials'], scopes: ['orders:read'], audiences: ['orders'] });
  });
  after(() => t.close());

  it('retries once with the nonce of a use_dpop_nonce refusal, then sends the remembered nonce at once', async () => {
    const key = DpopKey.generate();
    const rec = recordingFetch();
    const source = new ServiceTokenSource({
      issuer: t.url,
      clientId: svc.id,
      clientSecret: svc.secret!,
      dpopKey: key,
      fetch: rec.fetch,
    });
    assert.equal(jktOf(await source.getToken({ audience: 'orders' })), key.jkt);
    assert.equal(rec.seen.length, 2);
    assert.equal(rec.seen[0]!.status, 400);
    assert.equal(rec.seen[0]!.nonce, undefined);
    assert.equal(rec.seen[1]!.status, 200);
    assert.ok(rec.seen[1]!.nonce);
    const again = await source.requestToken({ audience: 'orders', scope: 'orders:read' });
    assert.equal(again.token_type, 'DPoP');
    assert.equal(rec.seen.length, 3, 'no second refusal: the nonce was remembered');
    assert.equal(rec.seen[2]!.status, 200);
  });
});

describe('DpopKey from a file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-dpop-key-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads a private JWK or PEM; refuses a public key, an HMAC secret, a missing file, without the key in the message', async () => {
    const k = generateKey('ES256');
    const expected = new DpopKey(k).jkt;
    await writeFile(join(dir, 'key.jwk'), JSON.stringify(k.toJwk({ private: true })));
    await writeFile(join(dir, 'key.pem'), k.toPem({ private: true }));
    await writeFile(join(dir, 'public.pem'), k.toPem());
    await writeFile(join(dir, 'secret.jwk'), JSON.stringify(generateKey('HS256').toJwk({ private: true })));
    assert.equal((await DpopKey.fromFile(join(dir, 'key.jwk'))).jkt, expected);
    assert.equal((await DpopKey.fromFile(join(dir, 'key.pem'))).jkt, expected);
    const secretD = String(k.toJwk({ private: true }).d);
    for (const file of ['public.pem', 'secret.jwk', 'missing.pem'])
      await assert.rejects(DpopKey.fromFile(join(dir, file)), (err: Error) => {
        assert.ok(err instanceof ConfigError, `${file}: ${err.message}`);
        assert.ok(err.message.includes(file) && !err.message.includes(secretD));
        return true;
      });
    assert.throws(
      () => new ServiceTokenSource({ issuer: 'https://a.example', clientId: 'c', clientSecret: 's', dpopKey: k as never }),
      ConfigError,
    );
  });
});

describe('a token endpoint that ignores the proof', () => {
  it('is refused: the bearer token it answers with is not handed out as a bound one', async () => {
    // Stands in for a third-party auth server without DPoP: an RFC 6749 token response of token_type Bearer.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'a.b.c', token_type: 'Bearer', expires_in: 300 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const source = new ServiceTokenSource({
        issuer: `http://127.0.0.1:${port}`,
        clientId: 'c',
        clientSecret: 's',
        dpopKey: DpopKey.generate(),
      });
      await assert.rejects(source.getToken(), (err: Error) => err instanceof TokenRequestError && /not DPoP/.test(err.message));
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
