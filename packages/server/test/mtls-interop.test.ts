/**
 * Mutual TLS (RFC 8705) with real third-party clients: openid-client v6 (`TlsClientAuth`, discovery over HTTPS) and
 * oauth4webapi (`TlsClientAuth`) authenticate with a client certificate at Tessera's HTTPS listener and receive
 * certificate-bound access tokens; a service behind Tessera's Fastify plugin, over HTTPS asking for client
 * certificates, accepts the token on a connection with that certificate and refuses it copied to a client with
 * another one, or without one. The clients' transport is node:https with the certificate (their `customFetch`).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';

import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import { createTestPki, type CertificatePair, type TestPki } from '@tessera/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';

import { startMutualTlsServer, type TestServer } from './helpers/server.js';

/** RFC 8705 x5t#S256 of a PEM certificate, from node's fingerprint (not the server's code). */
const x5t = (pem: string) => Buffer.from(new X509Certificate(pem).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');

/** A fetch over node:https that trusts the test CA and presents `identity` (a client's customFetch). */
function tlsFetch(ca: string, identity?: CertificatePair) {
  return (url: string, options: { method: string; headers: Record<string, string>; body?: unknown }): Promise<Response> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: options.method,
          headers: options.headers,
          ca,
          agent: false,
          ...(identity ? { cert: identity.cert, key: identity.key } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
            resolve(new Response(chunks.length ? Buffer.concat(chunks) : null, { status: res.statusCode!, headers }));
          });
        },
      );
      req.on('error', reject);
      const body = options.body;
      req.end(
        body === undefined || body === null ? undefined : body instanceof URLSearchParams ? body.toString() : (body as string),
      );
    });
}

describe('mutual TLS with openid-client and oauth4webapi', () => {
  let pki: TestPki;
  let t: TestServer;
  let api: FastifyInstance;
  let ordersUrl: string;
  let holder: CertificatePair;
  let thief: CertificatePair;
  let selfSigned: CertificatePair;

  before(async () => {
    pki = await createTestPki();
    t = await startMutualTlsServer(pki);
    holder = await pki.issueClient('orders', { subject: '/O=Acme/CN=orders' });
    thief = await pki.issueClient('intruder', { subject: '/O=Acme/CN=intruder' });
    selfSigned = await pki.selfSigned('reports');
    const service = { grantTypes: ['client_credentials' as const], scopes: ['orders:read'], audiences: ['orders'] };
    await t.client({
      id: 'orders',
      ...service,
      authMethod: 'tls_client_auth',
      tlsClientAuthSubject: { kind: 'subject_dn', value: 'CN=orders,O=Acme' },
    });
    const c = new X509Certificate(selfSigned.cert);
    await t.client({
      id: 'reports',
      ...service,
      authMethod: 'self_signed_tls_client_auth',
      jwks: { keys: [{ ...c.publicKey.export({ format: 'jwk' }), x5c: [c.raw.toString('base64')] }] },
    });
    // The protected service: HTTPS asking for (not requiring) a client certificate, tokens verified locally.
    api = Fastify({ https: { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false } });
    await api.register(tesseraFastify, {
      verifier: createVerifier({
        issuer: t.url,
        audience: 'orders',
        algorithms: ['ES256'],
        jwksUri: `${t.url}/.well-known/jwks.json`,
        jwksOptions: { fetch: tlsFetch(pki.ca.cert) as never },
      }),
    });
    api.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({
      sub: req.principal?.sub,
      x5t: req.principal?.x5t,
    }));
    ordersUrl = `${await api.listen({ port: 0, host: '127.0.0.1' })}/orders`;
  });
  after(async () => {
    await api?.close();
    await t?.close();
    await pki?.close();
  });

  const callOrders = (token: string, identity?: CertificatePair) =>
    tlsFetch(pki.ca.cert, identity)(ordersUrl, { method: 'GET', headers: { authorization: `Bearer ${token}` } });

  it('openid-client (tls_client_auth, discovery over HTTPS) gets a certificate-bound token; the service takes it only with that certificate', async () => {
    const config = await oidc.discovery(new URL(t.url), 'orders', undefined, oidc.TlsClientAuth(), {
      [oidc.customFetch]: tlsFetch(pki.ca.cert, holder) as oidc.CustomFetch,
    });
    const tokens = await oidc.clientCredentialsGrant(config, { resource: 'orders', scope: 'orders:read' });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { 'x5t#S256': x5t(holder.cert) });

    const ok = await callOrders(tokens.access_token, holder);
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { sub: 'orders', x5t: x5t(holder.cert) });
    for (const identity of [thief, selfSigned, undefined]) {
      const refused = await callOrders(tokens.access_token, identity);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });

  it("openid-client is refused (invalid_client) with a certificate whose subject is not the client's", async () => {
    const config = await oidc.discovery(new URL(t.url), 'orders', undefined, oidc.TlsClientAuth(), {
      [oidc.customFetch]: tlsFetch(pki.ca.cert, thief) as oidc.CustomFetch,
    });
    // A 401 with its challenge: openid-client reports the challenge's error (RFC 6749 section 5.2).
    await assert.rejects(oidc.clientCredentialsGrant(config, { resource: 'orders' }), (err: Record<string, unknown>) => {
      assert.equal(err.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE');
      assert.equal(err.status, 401);
      const [challenge] = err.cause as { parameters: { error?: string } }[];
      assert.equal(challenge!.parameters.error, 'invalid_client');
      return true;
    });
  });

  it('oauth4webapi (self_signed_tls_client_auth) gets a token bound to its self-signed certificate', async () => {
    const fetchAs = tlsFetch(pki.ca.cert, selfSigned);
    const as = await oauth.processDiscoveryResponse(
      new URL(t.url),
      await oauth.discoveryRequest(new URL(t.url), { [oauth.customFetch]: fetchAs as never }),
    );
    const client: oauth.Client = { client_id: 'reports' };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.TlsClientAuth(),
      new URLSearchParams({ resource: 'orders', scope: 'orders:read' }),
      { [oauth.customFetch]: fetchAs as never },
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { 'x5t#S256': x5t(selfSigned.cert) });
    assert.equal((await callOrders(tokens.access_token, selfSigned)).status, 200);
    assert.equal((await callOrders(tokens.access_token, holder)).status, 401);
  });
});
