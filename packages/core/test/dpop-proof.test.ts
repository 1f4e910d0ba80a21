/**
 * DPoP proofs (RFC 9449 section 4.3), made with jose as a client makes them, checked by DpopProofVerifier:
 * accepted for the request they were made for, refused for every rule they break (the attack suite's cases:
 * wrong htu/htm, stale iat, wrong ath, other key, private key in jwk, alg none / HS256, proof for another token,
 * nonce missing). Single use of the jti is the caller's and tested where it is kept.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, describe, it } from 'node:test';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { accessTokenHash, DpopNonceError, DpopProofError, DpopProofVerifier, normalizeHtu } from '@tessera/core';

const NOW = 1_700_000_000;
const URL_ = 'https://api.example.com/orders';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';

describe('DpopProofVerifier', () => {
  let privateKey: KeyLike;
  let jwk: JWK;
  let jkt: string;
  let other: { privateKey: KeyLike; jwk: JWK };
  const verifier = new DpopProofVerifier({ now: () => NOW * 1000 });

  before(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwk = await exportJWK(pair.publicKey);
    jkt = await calculateJwkThumbprint(jwk, 'sha256');
    const o = await generateKeyPair('ES256');
    other = { privateKey: o.privateKey, jwk: await exportJWK(o.publicKey) };
  });

  const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = privateKey) =>
    new SignJWT({ jti: crypto.randomUUID(), htm: 'GET', htu: URL_, iat: NOW, ath: accessTokenHash(TOKEN), ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
      .sign(key);
  const request = { method: 'GET', url: URL_, accessToken: TOKEN };
  function refused(fn: () => unknown, reason: string | RegExp): void {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof DpopProofError, `DpopProofError, got ${String(err)}`);
      if (typeof reason === 'string') assert.equal(err.reason, reason);
      else assert.match(err.reason, reason);
      return true;
    });
  }

  it('accepts the proof made for this request and token, and names its key', async () => {
    const p = verifier.verifyProof(await proof(), { ...request, jkt });
    assert.equal(p.jkt, jkt);
    assert.equal(p.iat, NOW);
    // htu compared normalized, without query and fragment.
    const q = await proof({ htu: 'HTTPS://API.example.com:443/%6frders' });
    assert.equal(verifier.verifyProof(q, { ...request, url: `${URL_}?page=2#x` }).jkt, jkt);
    // At the token endpoint there is no access token yet: ath is not asked for.
    const t = await proof({ htm: 'POST', htu: 'https://auth.example.com/oauth/token', ath: undefined });
    assert.equal(verifier.verifyProof(t, { method: 'POST', url: 'https://auth.example.com/oauth/token' }).jkt, jkt);
  });

  it('refuses a proof for another method, another URL, or made too long ago or in the future', async () => {
    const wrongMethod = await proof({ htm: 'POST' });
    refused(() => verifier.verifyProof(wrongMethod, request), 'htm');
    refused(() => verifier.verifyProof(wrongMethod, { ...request, method: 'post' }), 'htm');
    refused(() => verifier.verifyProof(wrongMethod, { ...request }), 'htm');
    const otherPath = await proof({ htu: 'https://api.example.com/orders/1' });
    refused(() => verifier.verifyProof(otherPath, request), 'htu');
    const otherHost = await proof({ htu: 'https://evil.example.com/orders' });
    refused(() => verifier.verifyProof(otherHost, request), 'htu');
    const http = await proof({ htu: 'http://api.example.com/orders' });
    refused(() => verifier.verifyProof(http, request), 'htu');
    {
      const p = await proof({ iat: NOW - 61 });
      refused(() => verifier.verifyProof(p, request), 'iat');
    }
    {
      const p = await proof({ iat: NOW + 6 });
      refused(() => verifier.verifyProof(p, request), 'iat');
    }
    {
      const p = await proof({ iat: String(NOW) });
      refused(() => verifier.verifyProof(p, request), 'iat');
    }
  });

  it('refuses a proof for another access token, or without ath, and one signed by a key the token is not bound to', async () => {
    const forOther = await proof({ ath: accessTokenHash('another.token.value') });
    refused(() => verifier.verifyProof(forOther, request), 'ath');
    {
      const p = await proof({ ath: undefined });
      refused(() => verifier.verifyProof(p, request), 'ath');
    }
    const otherKey = await proof({}, { jwk: other.jwk }, other.privateKey);
    refused(() => verifier.verifyProof(otherKey, { ...request, jkt }), 'jkt');
    // The header's key is not the one that signed: the signature fails.
    const mismatch = await proof({}, { jwk }, other.privateKey);
    refused(() => verifier.verifyProof(mismatch, request), 'ERR_SIGNATURE_INVALID');
  });

  it('refuses alg none, HS256, a private key in jwk, a missing jwk, another typ, and a bad jti', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { jti: 'j-1', htm: 'GET', htu: URL_, iat: NOW, ath: accessTokenHash(TOKEN) };
    refused(
      () => verifier.verifyProof(`${b64({ alg: 'none', typ: 'dpop+jwt', jwk })}.${b64(claims)}.`, request),
      'ERR_ALG_NOT_ALLOWED',
    );
    const hsInput = `${b64({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${b64(claims)}`;
    const hs = `${hsInput}.${createHmac('sha256', 'secret').update(hsInput).digest('base64url')}`;
    refused(() => verifier.verifyProof(hs, request), 'ERR_ALG_NOT_ALLOWED');
    const full = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(full.privateKey);
    const withPrivate = await proof({}, { jwk: privateJwk }, full.privateKey);
    refused(() => verifier.verifyProof(withPrivate, request), 'jwk');
    {
      const p = await proof({}, { jwk: undefined });
      refused(() => verifier.verifyProof(p, request), 'jwk');
    }
    {
      const p = await proof({}, { typ: 'JWT' });
      refused(() => verifier.verifyProof(p, request), 'ERR_TOKEN_TYPE');
    }
    {
      const p = await proof({ jti: '' });
      refused(() => verifier.verifyProof(p, request), 'jti');
    }
    {
      const p = await proof({ jti: 'x'.repeat(257) });
      refused(() => verifier.verifyProof(p, request), 'jti');
    }
    refused(() => verifier.verifyProof('not.a.proof', request), /ERR_TOKEN_MALFORMED/);
  });

  it('asks for the current nonce when the server requires one', async () => {
    const none = await proof();
    assert.throws(() => verifier.verifyProof(none, { ...request, nonces: ['n-2'] }), DpopNonceError);
    const stale = await proof({ nonce: 'n-1' });
    assert.throws(() => verifier.verifyProof(stale, { ...request, nonces: ['n-2', 'n-3'] }), DpopNonceError);
    assert.equal(verifier.verifyProof(await proof({ nonce: 'n-3' }), { ...request, nonces: ['n-2', 'n-3'] }).jkt, jkt);
  });
});

describe('normalizeHtu', () => {
  it('compares scheme, host, port and path as RFC 3986 normalizes them; nothing else is an htu', () => {
    assert.equal(normalizeHtu('HTTPS://Api.Example.COM:443/a/%7euser/%2f?q#f'), 'https://api.example.com/a/~user/%2F');
    assert.equal(normalizeHtu('http://h:8080'), 'http://h:8080/');
    assert.equal(normalizeHtu('ftp://h/x'), undefined);
    assert.equal(normalizeHtu('https://user:pw@h/x'), undefined);
    assert.equal(normalizeHtu('not a url'), undefined);
  });
});
