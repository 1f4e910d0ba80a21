/**
 * Certificate-bound access tokens (RFC 8705, `cnf["x5t#S256"]`) on the WebSocket: the gateway attached to an
 * HTTPS server that asks for client certificates; a token bound to one counts only on a connection whose TLS
 * handshake presented it (without a DPoP proof as with one), and is refused with 3500 otherwise. Client
 * certificates of a test PKI (openssl), presented by the `ws` client; thumbprints computed here by node's
 * X509Certificate.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { createTestPki, x5tOf, type CertificatePair, type TestPki } from '@tessera/testing';

import { startGateway, type Harness } from './helpers/gateway.js';
import { Raw } from './helpers/raw.js';

const CHAT = ['chat:room:*:subscribe'];

describe('certificate-bound tokens on the WebSocket, over mutual TLS', () => {
  let pki: TestPki;
  let holder: CertificatePair;
  let other: CertificatePair;
  let h: Harness;
  let server: Server;
  let wssUrl: string;
  const raws: Raw[] = [];
  /** A connection presenting `client`'s certificate (none when undefined). */
  const raw = async (client?: CertificatePair) => {
    const r = new Raw(wssUrl, { ca: pki.ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) });
    raws.push(r);
    await r.open();
    return r;
  };

  before(async () => {
    pki = await createTestPki();
    holder = await pki.issueClient('chat-client');
    other = await pki.issueClient('another-client');
    h = await startGateway();
    server = createServer({ cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await h.gateway.attach(server);
    wssUrl = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/connection/websocket`;
  });
  after(async () => {
    for (const r of raws) r.ws.terminate();
    await h.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await pki.close();
  });

  it("the holder's connection connects and refreshes with its certificate-bound tokens", async () => {
    const bound = (ttl: number) => h.token('alice', CHAT, ttl, { cnf: { 'x5t#S256': x5tOf(holder.cert) } });
    const r = await raw(holder);
    const connected = (await r.connect(bound(60))).connect as { client: string };
    assert.match(connected.client, /^[0-9a-f-]{36}$/);
    r.send({ id: 2, refresh: { token: bound(120) } });
    assert.equal(((await r.reply(2)).refresh as { client: string }).client, connected.client);
  });

  it('the token is refused (3500) on a connection without a client certificate or with another one', async () => {
    const token = h.token('alice', CHAT, 60, { cnf: { 'x5t#S256': x5tOf(holder.cert) } });
    for (const client of [undefined, other]) {
      const r = await raw(client);
      r.send({ id: 1, connect: { token } });
      assert.equal((await r.closed).code, 3500);
    }
  });

  it("a refresh with a token bound to another client's certificate ends the connection", async () => {
    const r = await raw(holder);
    assert.ok((await r.connect(h.token('alice', CHAT, 60, { cnf: { 'x5t#S256': x5tOf(holder.cert) } }))).connect);
    r.send({ id: 2, refresh: { token: h.token('alice', CHAT, 120, { cnf: { 'x5t#S256': x5tOf(other.cert) } }) } });
    assert.equal((await r.closed).code, 3500);
  });

  it('a token not bound to a certificate connects as before, with or without a client certificate', async () => {
    for (const client of [undefined, holder]) {
      const r = await raw(client);
      assert.ok((await r.connect(h.token('bob', CHAT))).connect);
    }
  });

  it('a malformed cnf is refused', async () => {
    const r = await raw(holder);
    r.send({ id: 1, connect: { token: h.token('alice', CHAT, 60, { cnf: { 'x5t#S256': 'not-a-thumbprint' } }) } });
    assert.equal((await r.closed).code, 3500);
  });
});
