/**
 * Certificate-bound access tokens (RFC 8705), the checking side: a token whose `cnf["x5t#S256"]` names a client
 * certificate counts only on a request whose mutual-TLS peer certificate has that thumbprint. Real HTTPS servers
 * on port 0 asking for client certificates (node:https, Express and Fastify over https), real node:https clients
 * presenting certificates of a test PKI (openssl), tokens bound to a thumbprint computed here by node's
 * X509Certificate (not by the code under test).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { boundCertificateThumbprint, TokenClaimError } from '@tessera/core';
import { createVerifier, TokenBindingError, type Principal, type Verifier } from '@tessera/verifier';
import { createTestPki, x5tOf, type CertificatePair, type TestPki } from '@tessera/testing';

import { DpopHolder } from './helpers/dpop.js';
import { HOSTS, viaHttps, type Host, type HostResponse, type HostTls } from './helpers/hosts.js';
import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

const issuer = new TestIssuer('ES256');

const boundTo = (pem: string, extra: Record<string, unknown> = {}) =>
  issuer.token({ claims: { cnf: { 'x5t#S256': x5tOf(pem), ...extra } } });
const bearer = (t: string) => `Bearer ${t}`;

const CERTIFICATE_REFUSAL = 'the access token is bound to a client certificate: present it over mutual TLS with that certificate';

/** 401 invalid_token under the Bearer challenge, with this description. */
function assertInvalidToken(res: HostResponse, description = CERTIFICATE_REFUSAL): void {
  assert.equal(res.status, 401, res.text);
  assert.deepEqual(JSON.parse(res.text), { error: 'invalid_token', error_description: description });
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.ok(
    challenge.startsWith(`Bearer realm="orders-api", error="invalid_token", error_description="${description}"`),
    challenge,
  );
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

let pki: TestPki;
let tls: HostTls;
/** The client the tokens are bound to, another client of the same CA, and a self-signed client. */
let holder: CertificatePair;
let other: CertificatePair;
let selfSigned: CertificatePair;

before(async () => {
  pki = await createTestPki();
  tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert };
  holder = await pki.issueClient('orders-client');
  other = await pki.issueClient('another-client');
  selfSigned = await pki.selfSigned('self-signed-client');
});
after(() => pki.close());

/** A verifier recording the Principal of each verification (the revocation hook sees it, cached or not). */
function recordingVerifier(seen: Principal[]): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256'],
    jwks: issuer.jwks(),
    isRevoked: (p) => {
      seen.push(p);
      return false;
    },
  });
}

for (const { name, start } of HOSTS.filter((h) => h.name !== 'fetch')) {
  describe(`certificate-bound tokens (RFC 8705) over mutual TLS through ${name}`, () => {
    let host: Host;
    const seen: Principal[] = [];
    before(async () => {
      host = await start(recordingVerifier(seen), tls);
    });
    after(() => host.close());

    const get = (token: string, client?: CertificatePair, path = '/orders') =>
      viaHttps(host.base, path, tls, { authorization: bearer(token), client });

    it("the holder's certificate is accepted, the token's thumbprint in the principal", async () => {
      const res = await get(boundTo(holder.cert), holder);
      assert.equal(res.status, 200, res.text);
      const body = JSON.parse(res.text) as { sub: string; x5t: string };
      assert.equal(body.sub, 'alice');
      assert.equal(body.x5t, x5tOf(holder.cert));
    });

    it('a self-signed client certificate binds a token as well (no CA needed: the thumbprint binds)', async () => {
      const res = await get(boundTo(selfSigned.cert), selfSigned);
      assert.equal(res.status, 200, res.text);
      assert.equal(JSON.parse(res.text).x5t, x5tOf(selfSigned.cert));
    });

    it('without a client certificate the token is refused: 401 invalid_token', async () => {
      assertInvalidToken(await get(boundTo(holder.cert)));
    });

    it("a token copied to another client is refused: that client's own certificate, of the same CA or self-signed", async () => {
      const token = boundTo(holder.cert);
      assertInvalidToken(await get(token, other));
      assertInvalidToken(await get(token, selfSigned));
    });

    it('a token not bound to a certificate is accepted as before, with a client certificate or without', async () => {
      for (const client of [holder, undefined]) {
        const res = await get(issuer.token({ sub: 'carol' }), client);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(JSON.parse(res.text), { sub: 'carol', clientId: 'web', scopes: ['orders:read'] });
      }
    });

    it('a token whose cnf or x5t#S256 is malformed is refused as invalid, even with the certificate it tries to name', async () => {
      const thumbprint = x5tOf(holder.cert);
      const malformed: unknown[] = [
        'x5t',
        null,
        [{ 'x5t#S256': thumbprint }],
        { 'x5t#S256': 42 },
        { 'x5t#S256': thumbprint.slice(1) },
        { 'x5t#S256': `${thumbprint}=` },
        { 'x5t#S256': `${thumbprint.slice(0, 42)}+` },
        { 'x5t#S256': Buffer.from(thumbprint, 'base64url').toString('hex') },
      ];
      for (const cnf of malformed) {
        const res = await get(issuer.token({ claims: { cnf } }), holder);
        assertInvalidToken(res, 'the access token is invalid');
      }
    });

    it('from the cache: a second request is answered from the verified-token cache, and another certificate is still refused there', async () => {
      const token = boundTo(holder.cert, {});
      const from = seen.length;
      assert.equal((await get(token, holder)).status, 200);
      assert.equal((await get(token, holder)).status, 200);
      assertInvalidToken(await get(token, other));
      assertInvalidToken(await get(token));
      // One verification, its Principal reused from the cache by the three requests after it.
      const principals = seen.slice(from);
      assert.equal(principals.length, 4);
      for (const p of principals) assert.equal(p, principals[0]);
    });

    it('a token bound to a certificate and to a DPoP key needs both: the certificate and a proof of the key', async () => {
      const key = await DpopHolder.create();
      const token = boundTo(holder.cert, { jkt: key.jkt });
      const url = `${host.base}/orders`;
      const dpop = async (client?: CertificatePair) =>
        viaHttps(host.base, '/orders', tls, {
          authorization: `DPoP ${token}`,
          headers: { dpop: await key.proof({ htu: url, token }) },
          client,
        });
      const ok = await dpop(holder);
      assert.equal(ok.status, 200, ok.text);
      const body = JSON.parse(ok.text) as { jkt: string; x5t: string };
      assert.deepEqual([body.jkt, body.x5t], [key.jkt, x5tOf(holder.cert)]);
      // The proof without the certificate, the certificate without the proof (as a bearer token).
      for (const refused of [await dpop(), await dpop(other)]) {
        assert.equal(refused.status, 401, refused.text);
        assert.deepEqual(JSON.parse(refused.text), { error: 'invalid_token', error_description: CERTIFICATE_REFUSAL });
      }
      assertInvalidToken(
        await get(token, holder),
        'the access token is bound to a key: present it with the DPoP scheme and a proof',
      );
    });
  });
}

for (const { name, start } of HOSTS) {
  describe(`certificate-bound tokens without TLS through ${name}`, () => {
    let host: Host;
    before(async () => {
      host = await start(recordingVerifier([]));
    });
    after(() => host.close());

    it('a certificate-bound token is refused (no peer certificate), an unbound one accepted', async () => {
      assertInvalidToken(await host.request('/orders', bearer(boundTo(holder.cert))));
      const res = await host.request('/orders', bearer(issuer.token()));
      assert.equal(res.status, 200, res.text);
    });
  });
}

describe('Verifier and certificate-bound tokens, without a host', () => {
  const der = () => new X509Certificate(holder.cert).raw;
  const request = (token: string, certificate?: Uint8Array | (() => Uint8Array | undefined)) => ({
    authorization: bearer(token),
    method: 'GET',
    url: 'https://api.example.com/orders',
    certificate,
  });
  const refused = (reason: TokenBindingError['reason']) => (e: unknown) => e instanceof TokenBindingError && e.reason === reason;

  it('authorize (a header, no request) refuses a certificate-bound token, cached or not', async () => {
    const v = recordingVerifier([]);
    const token = boundTo(holder.cert);
    await assert.rejects(v.authorize(bearer(token)), refused('certificate'));
    assert.equal((await v.authorizeRequest(request(token, der()))).x5t, x5tOf(holder.cert));
    assert.throws(() => v.authorizeCached(bearer(token)), refused('certificate'));
    await assert.rejects(v.authorize(bearer(token)), refused('certificate'));
    assert.equal(v.authorizeRequestCached(request(token, der()))?.x5t, x5tOf(holder.cert));
  });

  it('the certificate is read only for a certificate-bound token, on the full and on the cached path', async () => {
    const v = recordingVerifier([]);
    let reads = 0;
    const certificate = () => {
      reads++;
      return der();
    };
    const unbound = issuer.token();
    await v.authorizeRequest(request(unbound, certificate));
    assert.ok(v.authorizeRequestCached(request(unbound, certificate)));
    assert.equal(reads, 0);
    const bound = boundTo(holder.cert);
    await v.authorizeRequest(request(bound, certificate));
    assert.ok(v.authorizeRequestCached(request(bound, certificate)));
    assert.equal(reads, 2);
  });

  it('a certificate the client did not present, an empty one, or another one is refused', async () => {
    const v = recordingVerifier([]);
    const token = boundTo(holder.cert);
    const another = new X509Certificate(other.cert).raw;
    for (const certificate of [undefined, () => undefined, new Uint8Array(0), another, () => another]) {
      await assert.rejects(v.authorizeRequest(request(token, certificate)), refused('certificate'));
    }
  });

  it('verify leaves the binding to its caller: the Principal names the certificate', async () => {
    const v = recordingVerifier([]);
    assert.equal((await v.verify(boundTo(holder.cert))).x5t, x5tOf(holder.cert));
    assert.equal((await v.verify(issuer.token())).x5t, undefined);
  });

  it("core's boundCertificateThumbprint: the thumbprint, none, or a TokenClaimError for a malformed cnf", () => {
    const thumbprint = x5tOf(holder.cert);
    assert.equal(boundCertificateThumbprint({ cnf: { 'x5t#S256': thumbprint } }), thumbprint);
    assert.equal(boundCertificateThumbprint({}), undefined);
    assert.equal(boundCertificateThumbprint({ cnf: { jkt: 'abc' } }), undefined);
    for (const cnf of ['x', null, 7, [], { 'x5t#S256': '' }, { 'x5t#S256': thumbprint + 'A' }, { 'x5t#S256': ['a'] }]) {
      assert.throws(
        () => boundCertificateThumbprint({ cnf }),
        (e: unknown) => e instanceof TokenClaimError && e.claim === 'cnf',
        JSON.stringify(cnf),
      );
    }
  });
});
