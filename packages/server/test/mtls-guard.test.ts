/**
 * The auth server's own APIs (bearerGuard: /admin here) and certificate-bound access tokens (RFC 8705): the guard
 * passes the request's TLS client certificate to the verifier, so a token bound to a certificate counts on a
 * mutual-TLS connection with that certificate and nowhere else. The server's own routes are served behind an
 * HTTPS front asking for client certificates (its Fastify routing, as a TLS listener does); clients are node:https
 * with certificates of a test PKI (openssl), tokens signed by the server's own key and bound to thumbprints
 * computed here by node's X509Certificate.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { signAccessToken } from '@tessera/core';
import { ADMIN_SCOPE, adminAudience, contextOf } from '@tessera/server/internal';
import { createTestPki, x5tOf, type CertificatePair, type TestPki } from '@tessera/testing';

import { startServer, type TestServer } from './helpers/server.js';

describe("the server's guards and certificate-bound tokens", () => {
  let t: TestServer;
  let pki: TestPki;
  let holder: CertificatePair;
  let other: CertificatePair;
  let front: Server;
  let base: string;

  before(async () => {
    t = await startServer();
    pki = await createTestPki();
    holder = await pki.issueClient('admin-robot');
    other = await pki.issueClient('another');
    front = createHttpsServer(
      { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
      (req, res) => t.server.app.routing(req, res),
    );
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });
  after(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await pki.close();
    await t.close();
  });

  const adminToken = (cnf?: Record<string, unknown>) =>
    signAccessToken(
      {
        iss: t.url,
        sub: 'admin-robot',
        aud: adminAudience(t.url),
        client_id: 'admin-robot',
        scope: ADMIN_SCOPE,
        ttl: 300,
        ...(cnf ? { claims: { cnf } } : {}),
      },
      contextOf(t.server).keys.activeKey(),
    );

  /** GET /admin/clients over the HTTPS front, presenting `client`'s certificate (none when undefined). */
  const adminGet = (token: string, client?: CertificatePair) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        `${base}/admin/clients`,
        {
          ca: pki.ca.cert,
          agent: false,
          headers: { authorization: `Bearer ${token}` },
          ...(client ? { cert: client.cert, key: client.key } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });

  it("a token bound to the caller's certificate is accepted on a connection presenting it", async () => {
    const res = await adminGet(adminToken({ 'x5t#S256': x5tOf(holder.cert) }), holder);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it('without that certificate (none, another, or over plain HTTP) it is refused: 401 invalid_token', async () => {
    const token = adminToken({ 'x5t#S256': x5tOf(holder.cert) });
    const refusal = {
      error: 'invalid_token',
      error_description: 'the access token is bound to a client certificate: present it over mutual TLS with that certificate',
    };
    for (const client of [undefined, other]) {
      const res = await adminGet(token, client);
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, refusal);
    }
    const plain = await fetch(`${t.url}/admin/clients`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(plain.status, 401);
    assert.deepEqual(await plain.json(), refusal);
  });

  it('an unbound admin token is accepted as before, with a client certificate or without', async () => {
    for (const client of [undefined, holder]) assert.equal((await adminGet(adminToken(), client)).status, 200);
  });
});
