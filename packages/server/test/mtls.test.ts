/**
 * Mutual TLS (RFC 8705) at the auth server, over a real HTTPS listener (the server's own listen(), port 0) and
 * node:https clients presenting certificates of a test PKI made by openssl: tls_client_auth by subject DN and by
 * each kind of subjectAltName, self_signed_tls_client_auth by the registered x5c, their refusals (all the same
 * invalid_client), certificate-bound access tokens (`cnf.x5t#S256`, computed here from node's fingerprint256), a DPoP
 * proof winning over the certificate, a public client's refresh tokens bound to its certificate, token exchange of a
 * bound token, introspection, metadata, the admin API, and the TLS settings' start-up errors.
 */
import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { ConfigError } from '@tessera/core';
import { createServer } from '@tessera/server';
import { ADMIN_SCOPE, adminAudience, CLI_ACTOR, contextOf } from '@tessera/server/internal';
import { createTestPki, type CertificatePair, type TestPki } from '@tessera/testing';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';

import { issueCode } from './helpers/code-flow.js';
import { basic, startMutualTlsServer, startServer, type Json, type TestServer } from './helpers/server.js';

const run = promisify(execFile);

interface Answer {
  status: number;
  body: Json;
}

/** RFC 8705 x5t#S256 of a PEM certificate, from node's SHA-256 fingerprint (hex pairs) rather than the server's code. */
function x5t(pem: string): string {
  return Buffer.from(new X509Certificate(pem).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
}

/** A JWKS holding each certificate's public key and the certificate itself (`x5c`). */
function jwksOf(...pems: string[]): { keys: Record<string, unknown>[] } {
  return {
    keys: pems.map((pem) => {
      const c = new X509Certificate(pem);
      return { ...c.publicKey.export({ format: 'jwk' }), x5c: [c.raw.toString('base64')] };
    }),
  };
}

const REFUSED = { error: 'invalid_client', error_description: 'client authentication failed' };

/** A client_credentials client for the audience orders. */
const SERVICE = { grantTypes: ['client_credentials' as const], audiences: ['orders'], scopes: [] };

/** Registers `dn`, a tls_client_auth client whose certificate must have the subject CN=orders,O=Acme. */
function dnClient(t: TestServer): Promise<unknown> {
  return t.client({
    id: 'dn',
    ...SERVICE,
    authMethod: 'tls_client_auth',
    tlsClientAuthSubject: { kind: 'subject_dn', value: 'CN=orders,O=Acme' },
  });
}

describe('mutual TLS (RFC 8705) at the auth server', () => {
  let pki: TestPki;
  let foreign: TestPki;
  let t: TestServer;
  let url: string;
  const certs: Record<string, CertificatePair> = {};

  /** An HTTPS request on a connection of its own, presenting `identity` when given. */
  function call(
    method: string,
    path: string,
    o: { identity?: CertificatePair; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const body =
      o.form !== undefined ? new URLSearchParams(o.form).toString() : o.json !== undefined ? JSON.stringify(o.json) : undefined;
    const headers: Record<string, string> = {
      ...(o.form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...o.headers,
    };
    return new Promise((resolve, reject) => {
      const req = request(
        `${url}${path}`,
        { method, headers, ca: pki.ca.cert, agent: false, ...(o.identity ? { cert: o.identity.cert, key: o.identity.key } : {}) },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text === '' ? undefined : JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  const token = (form: Record<string, string>, identity?: CertificatePair, headers?: Record<string, string>) =>
    call('POST', '/oauth/token', { form, identity, headers });
  const serviceToken = (clientId: string, identity?: CertificatePair, resource = 'orders') =>
    token({ grant_type: 'client_credentials', client_id: clientId, resource }, identity);

  function assertBoundTo(r: Answer, pem: string): void {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'Bearer');
    assert.deepEqual(decodeJwt(r.body.access_token).cnf, { 'x5t#S256': x5t(pem) });
  }

  let adminToken: string | undefined;
  async function admin(method: string, path: string, json?: unknown): Promise<Answer> {
    if (adminToken === undefined) {
      const r = await token({ grant_type: 'client_credentials' }, undefined, { authorization: basic('test-admin', adminSecret) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      adminToken = r.body.access_token as string;
    }
    return call(method, path, { json, headers: { authorization: `Bearer ${adminToken}` } });
  }
  let adminSecret: string;

  before(async () => {
    [pki, foreign] = await Promise.all([createTestPki(), createTestPki()]);
    t = await startMutualTlsServer(pki);
    url = t.url;
    certs.orders = await pki.issueClient('orders', { subject: '/O=Acme/CN=orders' });
    certs.ordersOtherOrg = await pki.issueClient('orders', { subject: '/O=Other/CN=orders' });
    certs.ordersForeign = await foreign.issueClient('orders', { subject: '/O=Acme/CN=orders' });
    certs.ordersSelfSigned = await pki.selfSigned('orders', { subject: '/O=Acme/CN=orders' });
    certs.dns = await pki.issueClient('dns', { altNames: ['DNS:billing.svc.example'] });
    certs.dnsOther = await pki.issueClient('dns', { altNames: ['DNS:search.svc.example'] });
    certs.uri = await pki.issueClient('uri', { altNames: ['URI:spiffe://example.org/ns/prod/sa/reports'] });
    certs.ip = await pki.issueClient('ip', { altNames: ['IP:10.0.0.7', 'IP:fd00::7'] });
    certs.email = await pki.issueClient('email', { altNames: ['email:robot@example.com'], keyType: 'rsa' });
    certs.self = await pki.selfSigned('self');
    certs.self2 = await pki.selfSigned('self-two');
    certs.app = await pki.selfSigned('app-install-1');
    certs.app2 = await pki.selfSigned('app-install-2');
    const service = { grantTypes: ['client_credentials' as const], scopes: ['orders:read'], audiences: ['orders', 'exch'] };
    const mtls = (id: string, kind: 'subject_dn' | 'san_dns' | 'san_uri' | 'san_ip' | 'san_email', value: string) =>
      t.client({ id, ...service, authMethod: 'tls_client_auth', tlsClientAuthSubject: { kind, value } });
    await mtls('dn', 'subject_dn', 'CN=orders,O=Acme');
    await mtls('dn-spelled', 'subject_dn', ' cn = ORDERS , o=acme');
    await mtls('dn-reversed', 'subject_dn', 'O=Acme,CN=orders');
    // An escaped comma in a value, and a multi-valued RDN whose attributes come in any order.
    certs.escaped = await pki.issueClient('escaped', { subject: '/O=Acme\\, Inc/OU=ops+CN=deploy' });
    await mtls('dn-escaped', 'subject_dn', 'OU=ops+CN=deploy,O=Acme\\, Inc');
    await mtls('dn-escaped-hex', 'subject_dn', 'CN=deploy+OU=ops,O=Acme\\2C Inc');
    await mtls('dn-escaped-wrong', 'subject_dn', 'CN=deploy,O=Acme\\, Inc');
    await mtls('dns', 'san_dns', 'Billing.SVC.example');
    await mtls('uri', 'san_uri', 'spiffe://example.org/ns/prod/sa/reports');
    await mtls('ip', 'san_ip', '10.0.0.7');
    await mtls('ip6', 'san_ip', 'fd00:0:0:0:0:0:0:7');
    await mtls('email', 'san_email', 'robot@example.com');
    await t.client({
      id: 'self',
      ...service,
      authMethod: 'self_signed_tls_client_auth',
      jwks: jwksOf(certs.self.cert, certs.self2.cert),
    });
    adminSecret = (
      await t.client({
        id: 'test-admin',
        grantTypes: ['client_credentials'],
        scopes: [ADMIN_SCOPE],
        audiences: [adminAudience(url)],
      })
    ).secret!;
  });

  after(async () => {
    await t?.close();
    await pki?.close();
    await foreign?.close();
  });

  it('listens over HTTPS: the derived issuer is https, and the metadata lists the mutual-TLS methods and bound tokens', async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await call('GET', '/.well-known/oauth-authorization-server');
    assert.equal(r.status, 200);
    assert.equal(r.body.issuer, url);
    for (const m of ['token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported'])
      for (const method of ['tls_client_auth', 'self_signed_tls_client_auth'])
        assert.ok(r.body[m].includes(method), `${m} ${method}`);
    assert.equal(r.body.tls_client_certificate_bound_access_tokens, true);
  });

  it('tls_client_auth by subject DN (distinguishedNameMatch: case and spaces aside, RDN order kept)', async () => {
    assertBoundTo(await serviceToken('dn', certs.orders), certs.orders!.cert);
    assertBoundTo(await serviceToken('dn-spelled', certs.orders), certs.orders!.cert);
    const reversed = await serviceToken('dn-reversed', certs.orders);
    assert.equal(reversed.status, 401);
    assert.deepEqual(reversed.body, REFUSED);
    assertBoundTo(await serviceToken('dn-escaped', certs.escaped), certs.escaped!.cert);
    assertBoundTo(await serviceToken('dn-escaped-hex', certs.escaped), certs.escaped!.cert);
    // One attribute of the multi-valued RDN missing: another DN.
    assert.equal((await serviceToken('dn-escaped-wrong', certs.escaped)).status, 401);
  });

  it('tls_client_auth by each kind of subjectAltName: DNS, URI, IP (v4 and v6 in any spelling) and e-mail', async () => {
    assertBoundTo(await serviceToken('dns', certs.dns), certs.dns!.cert);
    assertBoundTo(await serviceToken('uri', certs.uri), certs.uri!.cert);
    assertBoundTo(await serviceToken('ip', certs.ip), certs.ip!.cert);
    assertBoundTo(await serviceToken('ip6', certs.ip), certs.ip!.cert);
    assertBoundTo(await serviceToken('email', certs.email), certs.email!.cert);
  });

  it('self_signed_tls_client_auth by any certificate of the registered jwks (x5c)', async () => {
    assertBoundTo(await serviceToken('self', certs.self), certs.self!.cert);
    assertBoundTo(await serviceToken('self', certs.self2), certs.self2!.cert);
  });

  it('refuses, with the same invalid_client: wrong DN or SAN, another CA, self-signed, no certificate, not registered, disabled', async () => {
    const cases: [string, string, CertificatePair | undefined][] = [
      ['another organisation in the DN', 'dn', certs.ordersOtherOrg],
      ['the right DN from another CA', 'dn', certs.ordersForeign],
      ['the right DN, self-signed', 'dn', certs.ordersSelfSigned],
      ['another DNS name', 'dns', certs.dnsOther],
      ['a DNS name where a URI is registered', 'uri', certs.dns],
      ['no certificate', 'dn', undefined],
      ['no certificate (self-signed client)', 'self', undefined],
      ['a self-signed certificate not in the jwks', 'self', certs.app],
      ['a CA-issued certificate for a self-signed client', 'self', certs.orders],
      ['an unknown client', 'nobody', certs.orders],
    ];
    for (const [what, clientId, identity] of cases) {
      const r = await serviceToken(clientId, identity);
      assert.equal(r.status, 401, what);
      assert.deepEqual(r.body, REFUSED, what);
    }
    await t.server.admin.clients.update(CLI_ACTOR, 'dns', { disabled: true });
    const disabled = await serviceToken('dns', certs.dns);
    assert.equal(disabled.status, 401);
    assert.deepEqual(disabled.body, REFUSED);
    await t.server.admin.clients.update(CLI_ACTOR, 'dns', { disabled: false });
    assertBoundTo(await serviceToken('dns', certs.dns), certs.dns!.cert);
  });

  it('a secret client: its tokens bound to the certificate only when registered so, which then requires one; DPoP wins', async () => {
    const base = { grantTypes: ['client_credentials' as const], scopes: ['orders:read'], audiences: ['orders'] };
    const plain = await t.client({ id: 'plain', ...base });
    const bound = await t.client({ id: 'bound', ...base, tlsClientCertificateBoundAccessTokens: true });
    const form = { grant_type: 'client_credentials' };
    const withSecret = (c: { id: string; secret: string | undefined }) => ({ authorization: basic(c.id, c.secret!) });

    const unbound = await token(form, certs.self, withSecret(plain));
    assert.equal(unbound.status, 200);
    assert.equal(decodeJwt(unbound.body.access_token).cnf, undefined);

    assertBoundTo(await token(form, certs.self, withSecret(bound)), certs.self!.cert);
    const none = await token(form, undefined, withSecret(bound));
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'invalid_request');

    // One binding per token: the DPoP proof's key, and no certificate thumbprint beside it.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = await new SignJWT({ htm: 'POST', htu: `${url}/oauth/token`, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(privateKey);
    const dpop = await token(form, certs.self, { ...withSecret(bound), dpop: proof });
    assert.equal(dpop.status, 200, JSON.stringify(dpop.body));
    assert.equal(dpop.body.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(dpop.body.access_token).cnf, { jkt: await calculateJwkThumbprint(jwk) });
  });

  it('introspection (the client authenticated by its certificate) reports the binding', async () => {
    const issued = await serviceToken('uri', certs.uri);
    const r = await call('POST', '/oauth/introspect', {
      form: { token: issued.body.access_token, client_id: 'uri' },
      identity: certs.uri,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.active, true);
    assert.equal(r.body.token_type, 'Bearer');
    assert.deepEqual(r.body.cnf, { 'x5t#S256': x5t(certs.uri!.cert) });
    const stranger = await call('POST', '/oauth/introspect', { form: { token: issued.body.access_token, client_id: 'uri' } });
    assert.equal(stranger.status, 401);
    assert.deepEqual(stranger.body, REFUSED);
  });

  it("a public client's refresh tokens are bound to its certificate: refreshed only over mutual TLS with it", async () => {
    const redirectUri = 'https://app.example.com/cb';
    await t.client({
      id: 'app',
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['orders:read'],
      audiences: ['orders'],
      redirectUris: [redirectUri],
      tlsClientCertificateBoundAccessTokens: true,
    });
    const userId = await t.user('ada', 'correct horse battery staple', []);
    const { code, verifier } = await issueCode(t, { clientId: 'app', userId, redirectUri, scopes: [], audience: ['orders'] });
    const first = await token(
      { grant_type: 'authorization_code', client_id: 'app', code, code_verifier: verifier, redirect_uri: redirectUri },
      certs.app,
    );
    assertBoundTo(first, certs.app!.cert);
    const family = await contextOf(t.server).store.refreshFamilies.get(decodeJwt(first.body.access_token).sid as string);
    assert.equal(family?.certificateThumbprint, x5t(certs.app!.cert));

    const refresh = { grant_type: 'refresh_token', client_id: 'app', refresh_token: first.body.refresh_token };
    const other = await token(refresh, certs.app2);
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_grant');
    const none = await token(refresh);
    assert.equal(none.status, 400);
    // The refusals spent nothing: the holder of the certificate refreshes with the same token.
    const again = await token(refresh, certs.app);
    assertBoundTo(again, certs.app!.cert);
    assert.notEqual(again.body.refresh_token, first.body.refresh_token);
  });

  it('a certificate-bound subject token is exchanged only over mutual TLS with that certificate, and stays bound', async () => {
    const exch = await t.client({
      id: 'exch',
      grantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    });
    const subject = await serviceToken('dn', certs.orders, 'exch');
    assert.equal(subject.status, 200);
    const form = {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subject.body.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'orders',
    };
    const headers = { authorization: basic(exch.id, exch.secret!) };
    for (const identity of [undefined, certs.ordersOtherOrg]) {
      const r = await token(form, identity, headers);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
    }
    assertBoundTo(await token(form, certs.orders, headers), certs.orders!.cert);
  });

  it('the admin API registers and changes mutual-TLS clients, exactly one subject, x5c for self-signed ones', async () => {
    const created = await admin('POST', '/admin/clients', {
      client_id: 'api-mtls',
      grant_types: ['client_credentials'],
      scope: 'orders:read',
      audiences: ['orders'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_dns: 'billing.svc.example',
      tls_client_certificate_bound_access_tokens: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.tls_client_auth_san_dns, 'billing.svc.example');
    assert.equal(created.body.tls_client_certificate_bound_access_tokens, true);
    assert.equal(created.body.client_secret, undefined);
    assertBoundTo(await serviceToken('api-mtls', certs.dns), certs.dns!.cert);

    // A new subject replaces the old: the DNS-named certificate no longer authenticates.
    const changed = await admin('PATCH', '/admin/clients/api-mtls', {
      tls_client_auth_subject_dn: 'CN=orders,O=Acme',
      tls_client_auth_san_dns: null,
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.tls_client_auth_subject_dn, 'CN=orders,O=Acme');
    assert.equal(changed.body.tls_client_auth_san_dns, undefined);
    assert.equal((await serviceToken('api-mtls', certs.dns)).status, 401);
    assertBoundTo(await serviceToken('api-mtls', certs.orders), certs.orders!.cert);

    const base = { grant_types: ['client_credentials'], audiences: ['orders'] };
    const refusals: [string, Record<string, unknown>][] = [
      ['no subject', { client_id: 'r1', ...base, token_endpoint_auth_method: 'tls_client_auth' }],
      [
        'two subjects',
        {
          client_id: 'r2',
          ...base,
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_san_dns: 'a.example',
          tls_client_auth_san_uri: 'https://a.example',
        },
      ],
      [
        'a malformed DN',
        { client_id: 'r3', ...base, token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'orders' },
      ],
      [
        'a malformed IP',
        { client_id: 'r4', ...base, token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_san_ip: '10.0.0' },
      ],
      ['a subject for another method', { client_id: 'r5', ...base, tls_client_auth_san_dns: 'a.example' }],
      ['self-signed without a jwks', { client_id: 'r6', ...base, token_endpoint_auth_method: 'self_signed_tls_client_auth' }],
      [
        'self-signed with a private key',
        {
          client_id: 'r8',
          ...base,
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          jwks: { keys: [{ ...jwksOf(certs.self!.cert).keys[0], d: 'c2VjcmV0' }] },
        },
      ],
      [
        'self-signed with a key without x5c',
        {
          client_id: 'r7',
          ...base,
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          jwks: { keys: [{ ...(new X509Certificate(certs.self!.cert).publicKey.export({ format: 'jwk' }) as object) }] },
        },
      ],
    ];
    for (const [what, body] of refusals) {
      const r = await admin('POST', '/admin/clients', body);
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    }

    const self = await admin('POST', '/admin/clients', {
      client_id: 'api-self',
      ...base,
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: jwksOf(certs.app2!.cert),
    });
    assert.equal(self.status, 201, JSON.stringify(self.body));
    assertBoundTo(await serviceToken('api-self', certs.app2), certs.app2!.cert);
    assert.equal((await serviceToken('api-self', certs.app)).status, 401);
  });
});

describe('the Client-Cert header (RFC 9440) of a TLS-terminating proxy', () => {
  let pki: TestPki;
  let foreign: TestPki;
  let dir: string;
  const servers: TestServer[] = [];
  const header = (pem: string) => `:${new X509Certificate(pem).raw.toString('base64')}:`;

  /** A plain-HTTP server behind a proxy at `trustProxy`, reading client certificates from the header. */
  async function behindProxy(trustProxy: string): Promise<TestServer> {
    const t = await startServer({ overrides: { clientCertHeader: true, trustProxy, tlsClientCa: join(dir, 'clients-ca.crt') } });
    servers.push(t);
    await dnClient(t);
    return t;
  }
  const token = (t: TestServer, clientId: string, headers: Record<string, string>) =>
    t.form('/oauth/token', { grant_type: 'client_credentials', client_id: clientId }, headers);

  before(async () => {
    [pki, foreign] = await Promise.all([createTestPki(), createTestPki()]);
    dir = mkdtempSync(join(tmpdir(), 'tessera-mtls-proxy-'));
    writeFileSync(join(dir, 'clients-ca.crt'), pki.ca.cert);
  });
  after(async () => {
    for (const t of servers) await t.close();
    await pki?.close();
    await foreign?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("from a trusted proxy: the header's certificate authenticates and binds, verified against tlsClientCa", async () => {
    const t = await behindProxy('127.0.0.1');
    const self = await pki.selfSigned('self');
    await t.client({ id: 'self', ...SERVICE, authMethod: 'self_signed_tls_client_auth', jwks: jwksOf(self.cert) });
    const orders = await pki.issueClient('orders', { subject: '/O=Acme/CN=orders' });
    const ok = await token(t, 'dn', { 'client-cert': header(orders.cert) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(decodeJwt(ok.body.access_token).cnf, { 'x5t#S256': x5t(orders.cert) });
    const selfOk = await token(t, 'self', { 'client-cert': header(self.cert) });
    assert.equal(selfOk.status, 200, JSON.stringify(selfOk.body));
    assert.deepEqual(decodeJwt(selfOk.body.access_token).cnf, { 'x5t#S256': x5t(self.cert) });
    const metadata = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Json;
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
    assert.equal(metadata.tls_client_certificate_bound_access_tokens, true);

    const refusals: [string, Record<string, string>][] = [
      ['no header', {}],
      [
        'the right DN from another CA',
        { 'client-cert': header((await foreign.issueClient('orders', { subject: '/O=Acme/CN=orders' })).cert) },
      ],
      [
        'the right DN, self-signed',
        { 'client-cert': header((await pki.selfSigned('orders', { subject: '/O=Acme/CN=orders' })).cert) },
      ],
      ['a header that is not a byte sequence', { 'client-cert': new X509Certificate(orders.cert).raw.toString('base64') }],
      ['a byte sequence that is not a certificate', { 'client-cert': ':aGVsbG8=:' }],
    ];
    for (const [what, headers] of refusals) {
      const r = await token(t, 'dn', headers);
      assert.equal(r.status, 401, what);
      assert.deepEqual(r.body, REFUSED, what);
    }
  });

  it('a certificate of an intermediate CA authenticates when that CA is in tlsClientCa, never through Client-Cert-Chain', async () => {
    // root -> intermediate -> leaf, made by openssl.
    const { f, sign } = await opensslCa(join(dir, 'chain'), '/CN=Chain Root');
    const intermediate = await sign('mid', '/CN=Chain Intermediate', 'root', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign',
    ]);
    const leaf = await sign('leaf', '/O=Acme/CN=orders', 'mid', [
      'basicConstraints=critical,CA:FALSE',
      'extendedKeyUsage=clientAuth',
    ]);
    const serverLeaf = await sign('srv', '/O=Acme/CN=orders', 'mid', [
      'basicConstraints=critical,CA:FALSE',
      'extendedKeyUsage=serverAuth',
    ]);
    // Only the root trusted: the chain header does not make the intermediate's certificate count.
    const rootOnly = await startServer({
      overrides: { clientCertHeader: true, trustProxy: '127.0.0.1', tlsClientCa: f('root.crt') },
    });
    servers.push(rootOnly);
    await dnClient(rootOnly);
    for (const [what, headers] of [
      ['without the chain', { 'client-cert': header(leaf) }],
      ['with the chain', { 'client-cert': header(leaf), 'client-cert-chain': header(intermediate) }],
    ] as [string, Record<string, string>][])
      assert.equal((await token(rootOnly, 'dn', headers)).status, 401, what);
    // The intermediate listed in tlsClientCa: its certificates authenticate, a server-only one does not.
    writeFileSync(f('cas.crt'), readFileSync(f('root.crt'), 'utf8') + intermediate);
    const t = await startServer({ overrides: { clientCertHeader: true, trustProxy: '127.0.0.1', tlsClientCa: f('cas.crt') } });
    servers.push(t);
    await dnClient(t);
    const ok = await token(t, 'dn', { 'client-cert': header(leaf) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(decodeJwt(ok.body.access_token).cnf, { 'x5t#S256': x5t(leaf) });
    assert.equal((await token(t, 'dn', { 'client-cert': header(serverLeaf) })).status, 401, 'a certificate for servers only');
  });

  it('client-cert-chain-constraints: a chain OpenSSL refuses (name constraints, a CA without keyCertSign, a path length exceeded) is refused from the header too', async () => {
    const { f, sign } = await opensslCa(join(dir, 'constrained'), '/CN=Constrained Root');
    const LEAF = ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth'];
    // A sub-CA for tenant B only (O=TenantB), issuing the DN registered for another tenant's client.
    const tenantB = await sign('tenant-b', '/O=TenantB/CN=Tenant B CA', 'root', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign',
      'nameConstraints=critical,permitted;dirName:nc',
      '[nc]',
      'O=TenantB',
    ]);
    const viaTenantB = await sign('leaf-b', '/O=Acme/CN=orders', 'tenant-b', LEAF);
    // A CA certificate not allowed to sign certificates (no keyCertSign).
    const noSign = await sign('no-sign', '/CN=Not A Signer', 'root', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,digitalSignature',
    ]);
    const viaNoSign = await sign('leaf-n', '/O=Acme/CN=orders', 'no-sign', LEAF);
    // pathlen:0 under the root, then a CA below it anyway.
    const mid0 = await sign('mid0', '/CN=Pathlen Zero', 'root', [
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      'keyUsage=critical,keyCertSign',
    ]);
    const sub = await sign('sub', '/CN=Below Pathlen Zero', 'mid0', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign',
    ]);
    const viaSub = await sign('leaf-s', '/O=Acme/CN=orders', 'sub', LEAF);

    const t = await startServer({ overrides: { clientCertHeader: true, trustProxy: '127.0.0.1', tlsClientCa: f('root.crt') } });
    servers.push(t);
    await dnClient(t);
    const cases: [string, Record<string, string>][] = [
      ['outside the name constraints of its CA', { 'client-cert': header(viaTenantB), 'client-cert-chain': header(tenantB) }],
      ['issued by a CA without keyCertSign', { 'client-cert': header(viaNoSign), 'client-cert-chain': header(noSign) }],
      ['beyond pathlen:0', { 'client-cert': header(viaSub), 'client-cert-chain': `${header(sub)}, ${header(mid0)}` }],
    ];
    const accepted: string[] = [];
    for (const [what, headers] of cases) if ((await token(t, 'dn', headers)).status === 200) accepted.push(what);
    assert.deepEqual(accepted, [], 'chains refused by X.509 path validation authenticate the client through Client-Cert');
    // A CA with name constraints cannot be trusted for the header at all: they would not be enforced there.
    writeFileSync(f('with-constrained.crt'), readFileSync(f('root.crt'), 'utf8') + tenantB);
    await assert.rejects(
      startServer({ overrides: { clientCertHeader: true, trustProxy: '127.0.0.1', tlsClientCa: f('with-constrained.crt') } }),
      (err: Error & { setting?: string }) => {
        assert.match(err.message, /name constraints/);
        assert.match(err.message, /tlsClientCa/);
        return true;
      },
    );
  });

  it('from any other peer the header is ignored', async () => {
    const t = await behindProxy('10.9.9.9');
    const orders = await pki.issueClient('orders', { subject: '/O=Acme/CN=orders' });
    const r = await token(t, 'dn', { 'client-cert': header(orders.cert) });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, REFUSED);
  });
});

describe('TLS settings', () => {
  it('a plain HTTP server offers no mutual-TLS method and no bound tokens', async () => {
    const t = await startServer();
    try {
      const r = await fetch(`${t.url}/.well-known/oauth-authorization-server`);
      const body = (await r.json()) as Json;
      assert.ok(!body.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
      assert.equal(body.tls_client_certificate_bound_access_tokens, undefined);
    } finally {
      await t.close();
    }
  });

  it('without tlsClientCa no certificate passes tls_client_auth; self-signed clients still authenticate', async () => {
    const pki = await createTestPki();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
    writeFileSync(join(dir, 'server.crt'), pki.server.cert);
    writeFileSync(join(dir, 'server.key'), pki.server.key);
    const t = await startServer({ overrides: { tlsCert: join(dir, 'server.crt'), tlsKey: join(dir, 'server.key') } });
    try {
      const issued = await pki.issueClient('orders', { subject: '/O=Acme/CN=orders' });
      const self = await pki.selfSigned('self');
      await dnClient(t);
      await t.client({ id: 'self', ...SERVICE, authMethod: 'self_signed_tls_client_auth', jwks: jwksOf(self.cert) });
      const post = (clientId: string, identity: CertificatePair) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            `${t.url}/oauth/token`,
            {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              ca: pki.ca.cert,
              agent: false,
              ...identity,
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode!));
            },
          );
          req.on('error', reject);
          req.end(new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }).toString());
        });
      assert.equal(await post('dn', issued), 401);
      assert.equal(await post('self', self), 200);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
      await pki.close();
    }
  });

  it('a missing or unreadable file, or half the pair, stops the start naming the setting', async () => {
    const pki = await createTestPki();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
    try {
      writeFileSync(join(dir, 'server.crt'), pki.server.cert);
      writeFileSync(join(dir, 'server.key'), pki.server.key);
      writeFileSync(join(dir, 'not-pem.crt'), 'hello');
      const cert = join(dir, 'server.crt');
      const key = join(dir, 'server.key');
      const cases: [Record<string, string | boolean>, string][] = [
        [{ tlsCert: join(dir, 'missing.crt'), tlsKey: key }, 'tlsCert'],
        [{ tlsCert: cert, tlsKey: join(dir, 'missing.key') }, 'tlsKey'],
        [{ tlsCert: cert, tlsKey: key, tlsClientCa: join(dir, 'missing-ca.crt') }, 'tlsClientCa'],
        [{ tlsCert: cert, tlsKey: key, tlsClientCa: join(dir, 'not-pem.crt') }, 'tlsClientCa'],
        [{ tlsCert: join(dir, 'not-pem.crt'), tlsKey: key }, 'tlsCert'],
        [{ tlsCert: cert }, 'tlsKey'],
        [{ tlsClientCa: cert }, 'tlsClientCa'],
        [{ clientCertHeader: true }, 'clientCertHeader'],
      ];
      for (const [overrides, setting] of cases) {
        await assert.rejects(
          createServer({ overrides: { dataDir: dir, port: 0, logLevel: 'silent', ...overrides } }),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError && err.option === setting, String(err));
            assert.doesNotMatch(err.message, /must be/, 'refused for what the file holds or lacks, not its type');
            return true;
          },
          JSON.stringify(overrides),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await pki.close();
    }
  });
});

/**
 * A CA of its own made by the openssl command in `work` (a root `root.crt`/`root.key`, valid 2 days, keyCertSign),
 * and `sign(base, subject, issuer, extensions)`: a certificate of a new P-256 key, signed by `issuer` (`root` or a
 * `base` signed before), with these openssl extension lines; returns its PEM. `f(name)`: a file of `work`.
 */
async function opensslCa(work: string, rootSubject: string) {
  mkdirSync(work);
  const f = (name: string) => join(work, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ext = (name: string, lines: string[]) => (writeFileSync(f(name), lines.join('\n') + '\n'), f(name));
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('root.key'),
    '-out',
    f('root.crt'),
    '-days',
    '2',
    '-subj',
    rootSubject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  let serial = 10;
  const sign = async (base: string, subject: string, issuer: string, lines: string[]) => {
    await run('openssl', ['req', '-new', ...ec, '-keyout', f(`${base}.key`), '-out', f(`${base}.csr`), '-subj', subject]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      f(`${base}.csr`),
      '-CA',
      f(`${issuer}.crt`),
      '-CAkey',
      f(`${issuer}.key`),
      '-set_serial',
      String(serial++),
      '-days',
      '2',
      '-out',
      f(`${base}.crt`),
      '-extfile',
      ext(`${base}.ext`, lines),
    ]);
    return readFileSync(f(`${base}.crt`), 'utf8');
  };
  return { f, sign };
}
