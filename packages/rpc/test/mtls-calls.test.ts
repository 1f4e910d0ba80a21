/**
 * Certificate-bound tokens (RFC 8705, `cnf["x5t#S256"]`) over Connect and gRPC on TLS servers that ask for client
 * certificates: withAuthGate checks the token against the connection's client certificate, and the interceptor
 * behind it (which sees no TLS connection) takes the gate's word once per call. Without the gate a
 * certificate-bound token is refused (fail closed). Clients present certificates of a test PKI (openssl); tokens
 * are bound to thumbprints computed here by node's X509Certificate.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';

import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { buildJwks, generateKey, signAccessToken } from '@tessera/core';
import { REFUSAL_HEADER } from '@tessera/rpc';
import { createTestPki, x5tOf, type CertificatePair, type TestPki } from '@tessera/testing';
import { createVerifier } from '@tessera/verifier';

import { InventoryService } from './gen/inventory/v1/inventory_pb.js';
import { AUDIENCE } from './helpers/auth-server.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

const ISSUER = 'https://auth.test';
const key = generateKey('ES256');

function token(sub: string, cnf?: Record<string, unknown>): string {
  return signAccessToken(
    { iss: ISSUER, sub, aud: AUDIENCE, client_id: sub, scope: 'inventory:read', ttl: 300, ...(cnf ? { claims: { cnf } } : {}) },
    key,
  );
}

const bearer =
  (t: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set('authorization', `Bearer ${t}`);
    return next(req);
  };

/** The refusal reason of `call`, which must fail Unauthenticated. */
async function refused(call: Promise<unknown>): Promise<string | null> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.Unauthenticated, err.message);
    return err.metadata.get(REFUSAL_HEADER);
  }
  assert.fail('the call was accepted');
}

let pki: TestPki;
let holder: CertificatePair;
let other: CertificatePair;
before(async () => {
  pki = await createTestPki();
  holder = await pki.issueClient('orders');
  other = await pki.issueClient('another');
});
after(() => pki.close());

for (const gate of [true, false]) {
  describe(`certificate-bound tokens over mutual TLS (${gate ? 'with' : 'without'} withAuthGate)`, () => {
    let inv: Inventory;
    before(async () => {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: buildJwks([key]) });
      inv = await startInventory({ verifier, gate, tls: { cert: pki.server.cert, key: pki.server.key } });
    });
    after(() => inv.close());

    /** The transports, presenting `client`'s certificate (none when undefined). */
    const transports = (t: string, client?: CertificatePair): [string, Transport][] => {
      const nodeOptions = { ca: pki.ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) };
      const interceptors = [bearer(t)];
      return [
        ['Connect', createConnectTransport({ baseUrl: inv.h2, httpVersion: '2', nodeOptions, interceptors })],
        ['gRPC', createGrpcTransport({ baseUrl: inv.h2, nodeOptions, interceptors })],
        ['Connect HTTP/1.1', createConnectTransport({ baseUrl: inv.h1, httpVersion: '1.1', nodeOptions, interceptors })],
      ];
    };

    it(
      gate
        ? "the holder's certificate: accepted, calls at once too (each let in by the gate once)"
        : 'refused even with the holder certificate: the interceptor sees no TLS connection',
      async () => {
        const t = token('orders', { 'x5t#S256': x5tOf(holder.cert) });
        for (const [name, transport] of transports(t, holder)) {
          const client = createClient(InventoryService, transport);
          if (gate) {
            const answers = await Promise.all([1, 2, 3, 4].map(() => client.getStock({ sku: 'a' })));
            assert.deepEqual(
              answers.map((a) => a.caller),
              ['orders', 'orders', 'orders', 'orders'],
              name,
            );
          } else assert.equal(await refused(client.getStock({ sku: 'a' })), 'token_invalid', name);
        }
      },
    );

    it('no client certificate, or another client certificate (a copied token): refused as an invalid token', async () => {
      const t = token('orders', { 'x5t#S256': x5tOf(holder.cert) });
      for (const client of [undefined, other]) {
        for (const [name, transport] of transports(t, client)) {
          assert.equal(await refused(createClient(InventoryService, transport).getStock({ sku: 'a' })), 'token_invalid', name);
        }
      }
    });

    it('a token not bound to a certificate: accepted as before, with a client certificate or without', async () => {
      for (const client of [undefined, holder]) {
        for (const [name, transport] of transports(token('billing'), client)) {
          assert.equal((await createClient(InventoryService, transport).getStock({ sku: 'a' })).caller, 'billing', name);
        }
      }
    });
  });
}

describe('rpc-vouch-not-per-connection: the gate vouches for a certificate-bound call', () => {
  let gated: Inventory;
  let internal: Inventory;
  before(async () => {
    // One verifier, as one service builds it: an mTLS listener behind withAuthGate, and an internal plaintext one.
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: buildJwks([key]) });
    gated = await startInventory({ verifier, gate: true, tls: { cert: pki.server.cert, key: pki.server.key } });
    internal = await startInventory({ verifier, gate: false });
  });
  after(async () => {
    await gated.close();
    await internal.close();
  });

  it("a copied certificate-bound token is not let in without the certificate on the word the gate gave for the holder's call", async () => {
    const t = token('orders', { 'x5t#S256': x5tOf(holder.cert) });
    // The holder's call passes the gate (its certificate fits) but never reaches the interceptor (a body Connect
    // cannot parse): the gate's word for it is left over.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${gated.h1}/inventory.v1.InventoryService/GetStock`,
        {
          method: 'POST',
          ca: pki.ca.cert,
          cert: holder.cert,
          key: holder.key,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.end('{');
    });
    assert.notEqual(status, 401, 'the gate let the holder in');
    // The copied token, without any certificate, on the other listener of the same service.
    const transport = createConnectTransport({ baseUrl: internal.h1, httpVersion: '1.1', interceptors: [bearer(t)] });
    assert.equal(await refused(createClient(InventoryService, transport).getStock({ sku: 'a' })), 'token_invalid');
  });
});
