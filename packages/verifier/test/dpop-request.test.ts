/**
 * Verifier.verifyRequest with DPoP (RFC 9449), without a host: the proof's single use in bounded memory and on
 * the verifier's clock, the URL a proof is compared with, and where a bound token counts (only with its proof).
 * The refusals on the wire, through every adapter, are in adapters.test.ts.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

import { ConfigError, DpopNonceError, DpopProofError, TokenClaimError } from '@tessera/core';
import { createVerifier, DpopReplayError, TokenBindingError, TokenMissingError } from '@tessera/verifier';
import { authenticate } from '@tessera/verifier/node';

import { DpopHolder } from './helpers/dpop.js';
import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

const issuer = new TestIssuer('ES256');
const URL_ = 'https://api.example.com/orders';

function verifierAt(clock: { t: number }, extra: object = {}) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256'],
    jwks: issuer.jwks(),
    now: () => clock.t,
    ...extra,
  });
}

function proofRefused(reason: string) {
  return (err: unknown) => err instanceof DpopProofError && err.reason === reason;
}

describe('Verifier.verifyRequest (DPoP)', () => {
  it('remembers each proof until its iat window closes; when full, forgets expired ones and refuses rather than forget a live one', async () => {
    const holder = await DpopHolder.create();
    const clock = { t: Date.now() };
    const v = verifierAt(clock, { dpop: { maxProofs: 2 } });
    const token = issuer.token({ ttl: 3600, claims: { cnf: { jkt: holder.jkt } } }, { now: () => clock.t });
    const at = () => Math.floor(clock.t / 1000);
    const request = (dpop: string) => ({ authorization: `DPoP ${token}`, dpop, method: 'GET', url: URL_ });

    const first = await holder.proof({ htu: URL_, token, iat: at() });
    assert.equal((await v.verifyRequest(request(first))).jkt, holder.jkt);
    await assert.rejects(v.verifyRequest(request(first)), DpopReplayError);
    // 61 s later the first proof's window (60 s) has closed: the iat check refuses it, not the memory.
    clock.t += 61_000;
    await assert.rejects(v.verifyRequest(request(first)), proofRefused('iat'));
    const second = await holder.proof({ htu: URL_, token, iat: at() });
    const third = await holder.proof({ htu: URL_, token, iat: at() });
    await v.verifyRequest(request(second));
    // Full (2): the expired first proof makes room, the live second one stays remembered.
    await v.verifyRequest(request(third));
    await assert.rejects(v.verifyRequest(request(second)), DpopReplayError);
    await assert.rejects(v.verifyRequest(request(third)), DpopReplayError);
    // Full of live proofs: a new one is refused (fail closed) rather than a live one forgotten, which a replay of
    // it could then pass; once they expire there is room again.
    const fourth = await holder.proof({ htu: URL_, token, iat: at() });
    await assert.rejects(v.verifyRequest(request(fourth)), DpopReplayError);
    await assert.rejects(v.verifyRequest(request(second)), DpopReplayError);
    clock.t += 61_000;
    const fifth = await holder.proof({ htu: URL_, token, iat: at() });
    assert.equal((await v.verifyRequest(request(fifth))).jkt, holder.jkt);
  });

  it("compares htu with the request's Host and scheme, or with externalOrigin behind a proxy", async () => {
    const holder = await DpopHolder.create();
    const clock = { t: Date.now() };
    const token = issuer.token({ claims: { cnf: { jkt: holder.jkt } } });
    const direct = verifierAt(clock);
    const proof = () => holder.proof({ htu: URL_, token });
    const origin = { authorization: `DPoP ${token}`, method: 'GET', url: '/orders?x=1' };
    await direct.verifyRequest({ ...origin, dpop: await proof(), host: 'api.example.com', secure: true });
    await assert.rejects(
      direct.verifyRequest({ ...origin, dpop: await proof(), host: 'api.example.com', secure: false }),
      proofRefused('htu'),
    );
    await assert.rejects(direct.verifyRequest({ ...origin, dpop: await proof() }), proofRefused('htu'));
    const proxied = verifierAt(clock, { externalOrigin: 'https://api.example.com' });
    await proxied.verifyRequest({ ...origin, dpop: await proof(), host: '10.0.0.7:8080', secure: false });
    await proxied.verifyRequest({ ...origin, dpop: await proof(), url: 'http://10.0.0.7:8080/orders' });
    for (const externalOrigin of ['api.example.com', 'https://api.example.com/v1', 'ftp://api.example.com'])
      assert.throws(() => verifierAt(clock, { externalOrigin }), ConfigError, externalOrigin);
  });

  it('a bound token counts only with its proof; verify(token) still reads it (introspection)', async () => {
    const holder = await DpopHolder.create();
    const clock = { t: Date.now() };
    const v = verifierAt(clock);
    const token = issuer.token({ claims: { cnf: { jkt: holder.jkt } } });
    assert.equal((await v.verify(token)).jkt, holder.jkt);
    await assert.rejects(v.authorize(`Bearer ${token}`), (e) => e instanceof TokenBindingError && e.reason === 'bearer');
    assert.throws(() => v.authorizeCached(`Bearer ${token}`), TokenBindingError);
    await assert.rejects(
      v.verifyRequest({ authorization: `Bearer ${token}`, method: 'GET', url: URL_ }),
      (e) => e instanceof TokenBindingError && e.reason === 'bearer',
    );
    // Two DPoP headers: refused, even when one is right.
    const p = await holder.proof({ htu: URL_, token });
    await assert.rejects(
      v.verifyRequest({ authorization: `DPoP ${token}`, dpop: [p, p], method: 'GET', url: URL_ }),
      proofRefused('multiple'),
    );
    // A cnf.jkt that is not a string is a broken token.
    await assert.rejects(v.verify(issuer.token({ claims: { cnf: { jkt: 42 } } })), TokenClaimError);
    // With DPoP turned off, the DPoP scheme is not a credential, and a bound token is refused everywhere.
    const off = verifierAt(clock, { dpop: false });
    await assert.rejects(
      off.verifyRequest({
        authorization: `DPoP ${token}`,
        dpop: await holder.proof({ htu: URL_, token }),
        method: 'GET',
        url: URL_,
      }),
      TokenMissingError,
    );
    await assert.rejects(off.authorize(`Bearer ${token}`), TokenBindingError);
    assert.equal(off.dpopChallenge(`DPoP ${token}`), undefined);
  });

  it('provenKey: a bound token without a proof counts only on a connection that proved exactly its key, cached or not', async () => {
    const holder = await DpopHolder.create();
    const other = await DpopHolder.create();
    const clock = { t: Date.now() };
    const v = verifierAt(clock);
    const token = issuer.token({ ttl: 3600, claims: { cnf: { jkt: holder.jkt } } }, { now: () => clock.t });
    const bearer = (provenKey?: string) => ({ authorization: `Bearer ${token}`, method: 'GET', url: URL_, provenKey });
    await assert.rejects(v.verifyRequest(bearer()), TokenBindingError);
    await assert.rejects(v.verifyRequest(bearer(other.jkt)), TokenBindingError);
    assert.equal((await v.verifyRequest(bearer(holder.jkt))).jkt, holder.jkt);
    // From the cache now: the same rule.
    assert.equal(v.authorizeRequestCached(bearer(holder.jkt))?.jkt, holder.jkt);
    assert.throws(() => v.authorizeRequestCached(bearer(other.jkt)), TokenBindingError);
    assert.throws(() => v.authorizeRequestCached(bearer()), TokenBindingError);
    // It never makes an unbound token bound, nor refuses one.
    const unbound = issuer.token({ ttl: 3600 }, { now: () => clock.t });
    assert.equal(
      (await v.verifyRequest({ authorization: `Bearer ${unbound}`, method: 'GET', url: URL_, provenKey: holder.jkt })).jkt,
      undefined,
    );
  });

  it('nonces: a list or a function; a proof without a current one is refused with DpopNonceError', async () => {
    const holder = await DpopHolder.create();
    const clock = { t: Date.now() };
    const token = issuer.token({ claims: { cnf: { jkt: holder.jkt } } });
    const v = verifierAt(clock, { dpopNonce: ['n1', 'n0'] });
    const request = async (nonce?: string) => ({
      authorization: `DPoP ${token}`,
      dpop: await holder.proof({ htu: URL_, token, nonce }),
      method: 'GET',
      url: URL_,
    });
    await assert.rejects(v.verifyRequest(await request()), DpopNonceError);
    await assert.rejects(v.verifyRequest(await request('n2')), DpopNonceError);
    await v.verifyRequest(await request('n0'));
    assert.deepEqual(v.dpopChallenge(`DPoP ${token}`), { algorithms: v.dpopAlgorithms, scheme: 'DPoP', nonce: 'n1' });
    assert.throws(() => verifierAt(clock, { dpopNonce: [] }), ConfigError);
    const broken = verifierAt(clock, { dpopNonce: () => 'n1' });
    await assert.rejects(broken.verifyRequest(await request('n1')), ConfigError);
    // Its refusal is still written, with no nonce to hand out.
    assert.deepEqual(broken.dpopChallenge(`DPoP ${token}`), { algorithms: broken.dpopAlgorithms, scheme: 'DPoP' });
  });

  it('over HTTP/2 (no Host header), htu is built from the :authority the client addressed', async () => {
    const holder = await DpopHolder.create();
    const v = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks() });
    const server = createServer((req, res) => {
      void authenticate(v, req as unknown as IncomingMessage, res as unknown as ServerResponse).then((p) => {
        if (p) res.end(String(p.jkt));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = connect(origin);
    try {
      const get = (headers: Record<string, string>) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = client.request({ ':path': '/orders', ...headers });
          let status = 0;
          let body = '';
          req.on('response', (h) => (status = Number(h[':status'])));
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => resolve({ status, body }));
          req.on('error', reject);
        });
      const token = issuer.token({ claims: { cnf: { jkt: holder.jkt } } });
      const ok = await get({ authorization: `DPoP ${token}`, dpop: await holder.proof({ htu: `${origin}/orders`, token }) });
      assert.deepEqual(ok, { status: 200, body: holder.jkt });
      const other = await get({
        authorization: `DPoP ${token}`,
        dpop: await holder.proof({ htu: 'http://elsewhere.example/orders', token }),
      });
      assert.equal(other.status, 401);
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
