/**
 * DPoP (RFC 9449) at the auth server, over real HTTP with proofs made by jose: the token endpoint binds access tokens
 * to the proof's key (`cnf.jkt`, token_type DPoP), refuses bad, replayed and missing proofs, binds a public client's
 * refresh tokens and codes of a `dpop_jkt` request to the key, asks for server nonces when `dpopNonce` is on, and
 * reports the binding at introspection and the algorithms in discovery. Across two instances on one Redis, a proof's
 * jti is used once (skipped without redis-server, except in CI).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';

import type { AddressInfo } from 'node:net';

import { DPOP_ALGORITHMS } from '@tessera/core';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { ADMIN_SCOPE, adminAudience, checkAuthorization, contextOf, MemoryProofJtis } from '@tessera/server/internal';
import { until } from '@tessera/testing';

import { issueCode } from './helpers/code-flow.js';
import { authorizationRequest, HandBrowser, loginForm, redirectParams } from './helpers/sign-in.js';
import { RedisProcess, redisServerAvailable } from './helpers/cluster.js';
import { assertOAuthError, get, postForm, withBasic, type Answer, type ClientCreds } from './helpers/oauth.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'https://app.example.com/cb';

interface ProofKey {
  privateKey: KeyLike;
  jwk: JWK;
  jkt: string;
}

async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

/** A DPoP proof (RFC 9449 section 4.2) signed by `key`, for POST `htu` unless told otherwise. */
function proof(
  key: ProofKey,
  htu: string,
  o: { htm?: string; iat?: number; jti?: string; nonce?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT({ htm: o.htm ?? 'POST', htu, jti: o.jti ?? randomUUID(), ...(o.nonce ? { nonce: o.nonce } : {}) })
    .setProtectedHeader({ alg: o.alg ?? 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}

/** `cnf.jkt` of an access token, undefined when it is not bound. */
function jktOf(accessToken: string): string | undefined {
  return (decodeJwt(accessToken).cnf as { jkt?: string } | undefined)?.jkt;
}

function assertBound(r: Answer, key: ProofKey): void {
  assert.equal(r.status, 200, `expected 200, got ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body.token_type, 'DPoP');
  assert.equal(jktOf(r.body.access_token!), key.jkt);
}

describe('DPoP at the token endpoint', () => {
  let t: TestServer;
  let tokenUrl: string;
  let service: ClientCreds;
  let strict: ClientCreds;
  let rs: ClientCreds;
  let web: ClientCreds;
  let alice: string;
  let key: ProofKey;
  let other: ProofKey;

  before(async () => {
    t = await startServer();
    tokenUrl = `${t.url}/oauth/token`;
    const base = { grantTypes: ['client_credentials' as const], scopes: ['orders:read'], audiences: ['orders'] };
    service = await t.client({ id: 'svc', ...base });
    strict = await t.client({ id: 'strict', ...base, dpopBoundAccessTokens: true });
    rs = await t.client({ id: 'orders-api', grantTypes: ['client_credentials'], scopes: [], audiences: ['orders'] });
    const code = { grantTypes: ['authorization_code' as const, 'refresh_token' as const], scopes: [], audiences: ['orders'] };
    await t.client({ id: 'spa', authMethod: 'none', redirectUris: [REDIRECT], ...code });
    web = await t.client({ id: 'web', redirectUris: [REDIRECT], ...code });
    await t.client({ id: 'first-app', authMethod: 'none', firstParty: true, redirectUris: [REDIRECT], ...code });
    alice = await t.user('alice', 'a long enough password');
    key = await proofKey();
    other = await proofKey('EdDSA');
  });
  after(() => t.close());

  const cc = (c: ClientCreds, dpop?: string) =>
    postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(c.id, c.secret!), ...(dpop ? { dpop } : {}) },
    );

  it('a valid proof binds the access token to its key: cnf.jkt and token_type DPoP', async () => {
    const r = await cc(service, await proof(key, tokenUrl));
    assertBound(r, key);
    assert.equal(r.headers.get('dpop-nonce'), null, 'no nonce unless dpopNonce is on');
    const bearer = await cc(service);
    assert.equal(bearer.body.token_type, 'Bearer');
    assert.equal(jktOf(bearer.body.access_token!), undefined);
  });

  it('an EdDSA proof works too, and a proof of RS256 with a 2048-bit key', async () => {
    assertBound(await cc(service, await proof(other, tokenUrl, { alg: 'EdDSA' })), other);
    const rsa = await proofKey('RS256');
    assertBound(await cc(service, await proof(rsa, tokenUrl, { alg: 'RS256' })), rsa);
  });

  it('a proof used twice is refused the second time (invalid_dpop_proof), and issues nothing', async () => {
    const p = await proof(key, tokenUrl);
    assertBound(await cc(service, p), key);
    assertOAuthError(await cc(service, p), 400, 'invalid_dpop_proof');
  });

  it('dpop-proof-memory-flood: a proof sent without valid client credentials is not spent (only a client fills the memory of spent proofs)', async () => {
    const p = await proof(key, tokenUrl);
    for (let i = 0; i < 3; i++) assertOAuthError(await cc({ id: 'svc', secret: 'not the secret' }, p), 401, 'invalid_client');
    assertOAuthError(await cc({ id: 'nobody', secret: 'x' }, p), 401, 'invalid_client');
    // The same proof, now with the client's credentials: its first use.
    assertBound(await cc(service, p), key);
    assertOAuthError(await cc(service, p), 400, 'invalid_dpop_proof');
  });

  it('a memory full of live proofs refuses a new one (503 temporarily_unavailable), a replay still as a replay; it sweeps expired ones at most once a second', () => {
    const jtis = new MemoryProofJtis(2);
    const t0 = 1_000_000;
    assert.equal(jtis.use('a', t0 + 60_000, t0), 'first');
    assert.equal(jtis.use('b', t0 + 500, t0), 'first');
    assert.equal(jtis.use('a', t0 + 60_000, t0), 'replay');
    assert.equal(jtis.use('c', t0 + 60_000, t0), 'full');
    // b expired, but the last sweep was under a second ago: still full, no scan per request.
    assert.equal(jtis.use('c', t0 + 60_000, t0 + 600), 'full');
    assert.equal(jtis.use('c', t0 + 60_000, t0 + 1_000), 'first');
    assert.equal(jtis.use('a', t0 + 60_000, t0 + 1_000), 'replay');
  });

  it('a proof for another URL or method, or an old one, is refused', async () => {
    for (const p of [
      await proof(key, `${t.url}/oauth/par`),
      await proof(key, 'https://elsewhere.example.com/oauth/token'),
      await proof(key, tokenUrl, { htm: 'GET' }),
      await proof(key, tokenUrl, { iat: Math.floor(Date.now() / 1000) - 120 }),
      await proof(key, tokenUrl, { iat: Math.floor(Date.now() / 1000) + 60 }),
    ])
      assertOAuthError(await cc(service, p), 400, 'invalid_dpop_proof');
  });

  it('a header that is no compact JWS, or a JWS of another typ, is refused', async () => {
    assertOAuthError(await cc(service, 'not-a-proof'), 400, 'invalid_dpop_proof');
    const jwt = await new SignJWT({ htm: 'POST', htu: tokenUrl, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: key.jwk })
      .setIssuedAt()
      .sign(key.privateKey);
    assertOAuthError(await cc(service, jwt), 400, 'invalid_dpop_proof');
  });

  it('two DPoP headers are refused, each one valid', async () => {
    const [a, b] = [await proof(key, tokenUrl), await proof(key, tokenUrl)];
    const r = await new Promise<{ status: number; body: { error: string } }>((resolve, reject) => {
      const req = httpRequest(tokenUrl, { method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { error: string } }));
      });
      req.on('error', reject);
      req.setHeader('content-type', 'application/x-www-form-urlencoded');
      req.setHeader('authorization', basic(service.id, service.secret!));
      req.setHeader('dpop', [a, b]);
      req.end('grant_type=client_credentials');
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_dpop_proof');
  });

  it('a client registered with dpop_bound_access_tokens is refused without a proof, served with one', async () => {
    assertOAuthError(await cc(strict), 400, 'invalid_dpop_proof');
    assertBound(await cc(strict, await proof(key, tokenUrl)), key);
  });

  it('introspection reports a bound token as DPoP with its cnf', async () => {
    const bound = await cc(service, await proof(key, tokenUrl));
    const r = await withBasic(t, rs, '/oauth/introspect', { token: bound.body.access_token! });
    assert.equal(r.body.active, true);
    assert.equal(r.body.token_type, 'DPoP');
    assert.deepEqual(r.body.cnf, { jkt: key.jkt });
    const bearer = await withBasic(t, rs, '/oauth/introspect', { token: (await cc(service)).body.access_token! });
    assert.equal(bearer.body.token_type, 'Bearer');
    assert.equal(bearer.body.cnf, undefined);
  });

  it('discovery names the proof algorithms (dpop_signing_alg_values_supported)', async () => {
    const m = await get(t, '/.well-known/oauth-authorization-server');
    assert.deepEqual(m.body.dpop_signing_alg_values_supported, [...DPOP_ALGORITHMS]);
    assert.ok(DPOP_ALGORITHMS.includes('ES256') && !(DPOP_ALGORITHMS as readonly string[]).includes('HS256'));
  });

  /** A code of the client for alice, optionally bound by dpop_jkt, redeemed with the given proof. */
  async function redeem(clientId: string, dpop: string | undefined, dpopJkt?: string, auth?: string) {
    const { code, verifier } = await issueCode(t, {
      clientId,
      userId: alice,
      redirectUri: REDIRECT,
      scopes: [],
      audience: ['orders'],
      ...(dpopJkt ? { dpopJkt } : {}),
    });
    return postForm(
      t,
      '/oauth/token',
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        ...(auth ? {} : { client_id: clientId }),
      },
      { ...(auth ? { authorization: auth } : {}), ...(dpop ? { dpop } : {}) },
    );
  }
  const refreshWith = (clientId: string, token: string, dpop: string | undefined, auth?: string) =>
    postForm(
      t,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: token, ...(auth ? {} : { client_id: clientId }) },
      { ...(auth ? { authorization: auth } : {}), ...(dpop ? { dpop } : {}) },
    );

  it("a public client's refresh token is bound: refused with another key or none, unspent; served with its key", async () => {
    const first = await redeem('spa', await proof(key, tokenUrl));
    assertBound(first, key);
    const family = await contextOf(t.server).store.refreshFamilies.get(decodeJwt(first.body.access_token!).sid as string);
    assert.equal(family?.dpopJkt, key.jkt);
    const rt = first.body.refresh_token!;
    assertOAuthError(await refreshWith('spa', rt, await proof(other, tokenUrl, { alg: 'EdDSA' })), 400, 'invalid_grant');
    assertOAuthError(await refreshWith('spa', rt, undefined), 400, 'invalid_grant');
    // The refusals spent nothing: the token still refreshes with its key, and the family stays bound.
    const next = await refreshWith('spa', rt, await proof(key, tokenUrl));
    assertBound(next, key);
    const introspected = await postForm(
      t,
      '/oauth/introspect',
      { token: next.body.refresh_token! },
      { authorization: basic(web.id, web.secret!) },
    );
    assert.equal(introspected.body.active, false, "another client's refresh token is not shown");
    assertOAuthError(
      await refreshWith('spa', next.body.refresh_token!, await proof(other, tokenUrl, { alg: 'EdDSA' })),
      400,
      'invalid_grant',
    );
  });

  it("a public client's family issued without a proof is bound by its first refresh with one", async () => {
    const first = await redeem('spa', undefined);
    assert.equal(first.body.token_type, 'Bearer');
    const bound = await refreshWith('spa', first.body.refresh_token!, await proof(key, tokenUrl));
    assertBound(bound, key);
    const rt = bound.body.refresh_token!;
    assertOAuthError(await refreshWith('spa', rt, undefined), 400, 'invalid_grant');
    assertOAuthError(await refreshWith('spa', rt, await proof(other, tokenUrl, { alg: 'EdDSA' })), 400, 'invalid_grant');
    assertBound(await refreshWith('spa', rt, await proof(key, tokenUrl)), key);
  });

  it('a thief who binds a stolen family to a key of their own loses it when the client replays its old token', async () => {
    const first = await redeem('spa', undefined);
    const stolen = first.body.refresh_token!;
    const thief = await proofKey();
    const taken = await refreshWith('spa', stolen, await proof(thief, tokenUrl));
    assertBound(taken, thief);
    // The client, unaware, refreshes with its (now spent) token and no proof: reuse detected, the family revoked.
    assertOAuthError(await refreshWith('spa', stolen, undefined), 400, 'invalid_grant');
    assertOAuthError(await refreshWith('spa', taken.body.refresh_token!, await proof(thief, tokenUrl)), 400, 'invalid_grant');
    const family = await contextOf(t.server).store.refreshFamilies.get(decodeJwt(first.body.access_token!).sid as string);
    assert.notEqual(family?.revokedAt, null, 'the family is revoked');
  });

  it("a confidential client's refresh token is not bound; each refresh with a proof binds the new access token", async () => {
    const auth = basic(web.id, web.secret!);
    const first = await redeem('web', await proof(key, tokenUrl), undefined, auth);
    assertBound(first, key);
    const bearer = await refreshWith('web', first.body.refresh_token!, undefined, auth);
    assert.equal(bearer.status, 200);
    assert.equal(bearer.body.token_type, 'Bearer');
    assertBound(
      await refreshWith('web', bearer.body.refresh_token!, await proof(other, tokenUrl, { alg: 'EdDSA' }), auth),
      other,
    );
    const introspected = await withBasic(t, web, '/oauth/introspect', { token: bearer.body.refresh_token! });
    assert.equal(introspected.body.cnf, undefined);
  });

  it('a code bound by dpop_jkt is redeemed only with a proof of that key; the refused code stays unspent', async () => {
    assertOAuthError(await redeem('spa', undefined, key.jkt), 400, 'invalid_grant');
    assertOAuthError(await redeem('spa', await proof(other, tokenUrl, { alg: 'EdDSA' }), key.jkt), 400, 'invalid_grant');
    const { code, verifier } = await issueCode(t, {
      clientId: 'spa',
      userId: alice,
      redirectUri: REDIRECT,
      scopes: [],
      audience: ['orders'],
      dpopJkt: key.jkt,
    });
    const form = { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: REDIRECT, code_verifier: verifier };
    assertOAuthError(await postForm(t, '/oauth/token', form), 400, 'invalid_grant');
    assertBound(await postForm(t, '/oauth/token', form, { dpop: await proof(key, tokenUrl) }), key);
  });

  it('dpop_jkt through /authorize and the hosted login: the code it returns needs a proof of that key', async () => {
    const b = new HandBrowser(t);
    const { path, verifier } = authorizationRequest('first-app', REDIRECT, { dpop_jkt: key.jkt });
    const page = await b.get(path);
    assert.equal(page.status, 200, page.text);
    const code = redirectParams(await b.post('/login', loginForm(page.text, 'alice', 'a long enough password')), REDIRECT).get(
      'code',
    )!;
    const form = {
      grant_type: 'authorization_code',
      client_id: 'first-app',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    };
    assertOAuthError(
      await postForm(t, '/oauth/token', form, { dpop: await proof(other, tokenUrl, { alg: 'EdDSA' }) }),
      400,
      'invalid_grant',
    );
    assertBound(await postForm(t, '/oauth/token', form, { dpop: await proof(key, tokenUrl) }), key);
  });

  it('dpop_jkt at /authorize must be a JWK SHA-256 thumbprint; a valid one is kept with the request', async () => {
    const ctx = contextOf(t.server);
    const query = (dpopJkt: string) => ({
      params: new Map([
        ['client_id', 'spa'],
        ['redirect_uri', REDIRECT],
        ['response_type', 'code'],
        ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
        ['code_challenge_method', 'S256'],
        ['dpop_jkt', dpopJkt],
      ]),
      duplicates: [],
    });
    const getClient = (id: string) => ctx.store.clients.get(id);
    const bad = await checkAuthorization(query('not a thumbprint'), getClient);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.error, 'invalid_request');
    assert.ok(!bad.ok && bad.redirect !== undefined, 'answered at the redirect URI');
    const good = await checkAuthorization(query(key.jkt), getClient);
    assert.equal(good.ok && good.request.dpopJkt, key.jkt);
  });

  it("PAR with a DPoP header keeps the proof's key as dpop_jkt; a different dpop_jkt beside it is refused", async () => {
    const parUrl = `${t.url}/oauth/par`;
    const params = {
      client_id: 'spa',
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    };
    const pushed = await postForm(t, '/oauth/par', params, { dpop: await proof(key, parUrl) });
    assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    const ctx = contextOf(t.server);
    const stored = await ctx.store.authorizationRequests.get(
      ctx.master.secretDigest(pushed.body.request_uri as string),
      ctx.now(),
    );
    assert.equal(stored?.params.dpop_jkt, key.jkt);
    const mismatch = await postForm(t, '/oauth/par', { ...params, dpop_jkt: other.jkt }, { dpop: await proof(key, parUrl) });
    assertOAuthError(mismatch, 400, 'invalid_dpop_proof');
    // A proof made for the token endpoint is not one for PAR.
    assertOAuthError(await postForm(t, '/oauth/par', params, { dpop: await proof(key, tokenUrl) }), 400, 'invalid_dpop_proof');
  });
});

describe('DPoP server nonces (dpopNonce)', () => {
  let t: TestServer;
  let service: ClientCreds;
  let key: ProofKey;

  before(async () => {
    t = await startServer({ overrides: { dpopNonce: true } });
    service = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['orders'] });
    key = await proofKey();
  });
  after(() => t.close());

  const cc = (dpop: string) =>
    postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(service.id, service.secret!), dpop },
    );

  it('a proof without the nonce gets use_dpop_nonce and a DPoP-Nonce; the retry with it is served, with the next nonce', async () => {
    const tokenUrl = `${t.url}/oauth/token`;
    const refused = await cc(await proof(key, tokenUrl));
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'use_dpop_nonce');
    const nonce = refused.headers.get('dpop-nonce');
    assert.ok(nonce !== null && nonce.length >= 22, 'a nonce to retry with');
    const served = await cc(await proof(key, tokenUrl, { nonce }));
    assertBound(served, key);
    assert.ok(served.headers.get('dpop-nonce'), 'the answer carries the next nonce');
    assert.equal((await cc(await proof(key, tokenUrl, { nonce: 'made-up-nonce' }))).body.error, 'use_dpop_nonce');
  });

  it("a browser app of the client's origin may read the DPoP-Nonce header (CORS)", async () => {
    await t.client({
      id: 'spa',
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: [],
      audiences: ['orders'],
      redirectUris: [REDIRECT],
    });
    const r = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'refresh_token', client_id: 'spa', refresh_token: 'unknown' },
      { origin: 'https://app.example.com', dpop: await proof(key, `${t.url}/oauth/token`) },
    );
    assert.equal(r.body.error, 'use_dpop_nonce');
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(r.headers.get('access-control-expose-headers'), 'dpop-nonce');
    assert.ok(r.headers.get('dpop-nonce'));
  });

  it("another master key's nonce is refused: nonces are the server's own", async () => {
    const elsewhere = await startServer({ overrides: { dpopNonce: true, masterKey: randomBytes(32).toString('base64url') } });
    try {
      const tokenUrl = `${t.url}/oauth/token`;
      const theirs = (await postForm(elsewhere, '/oauth/token', { grant_type: 'client_credentials' })).headers.get('dpop-nonce');
      assert.ok(theirs);
      assert.equal((await cc(await proof(key, tokenUrl, { nonce: theirs }))).body.error, 'use_dpop_nonce');
    } finally {
      await elsewhere.close();
    }
  });
});

const redisReady = await redisServerAvailable();
const REDIS_MISSING = 'redis-server is not installed';
const redisSkip = redisReady || process.env.CI === 'true' ? false : REDIS_MISSING;
if (redisSkip) console.log(`# DPoP replay across instances skipped: ${REDIS_MISSING}`);

describe('DPoP proofs used once across instances (Redis)', { skip: redisSkip, timeout: 60_000 }, () => {
  let redis: RedisProcess;
  let a: TestServer;
  let b: TestServer;
  let onA: ClientCreds;
  let onB: ClientCreds;
  /** Both instances answer for one external URL, as behind a load balancer. */
  const issuer = 'https://auth.example.com';

  before(async () => {
    assert.ok(redisReady, `${REDIS_MISSING} (required when CI=true)`);
    redis = await RedisProcess.start();
    const overrides = { issuer, redisUrl: redis.url };
    a = await startServer({ overrides });
    b = await startServer({ overrides });
    const svc = { id: 'svc', grantTypes: ['client_credentials' as const], scopes: [], audiences: ['orders'] };
    onA = await a.client(svc);
    onB = await b.client(svc);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill();
  });

  const htu = `${issuer}/oauth/token`;
  let key: ProofKey;
  before(async () => {
    key = await proofKey();
  });
  /** A client_credentials request at the instance's own address: the issuer is the external URL the proofs name. */
  const cc = async (t: TestServer, c: ClientCreds, dpop: string): Promise<Answer> => {
    const port = (t.server.app.server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.id, c.secret!), dpop },
      body: 'grant_type=client_credentials',
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Answer['body'] };
  };

  it('a proof accepted by one instance is refused by the other; a fresh one is served there', async () => {
    // Until both instances have connected to Redis, each checks on its own (as while Redis is down).
    await until('both instances share the jti of proofs through Redis', async () => {
      const p = await proof(key, htu);
      return (await cc(a, onA, p)).status === 200 && (await cc(b, onB, p)).status === 400;
    });
    const p = await proof(key, htu);
    assertBound(await cc(a, onA, p), key);
    assertOAuthError(await cc(b, onB, p), 400, 'invalid_dpop_proof');
    const q = await proof(key, htu);
    assertBound(await cc(b, onB, q), key);
    assertOAuthError(await cc(a, onA, q), 400, 'invalid_dpop_proof');
  });

  it('while Redis is down, proofs are still accepted, and each instance still refuses one replayed to it', async () => {
    await redis.kill();
    const p = await proof(key, htu);
    assertBound(await cc(a, onA, p), key);
    assertOAuthError(await cc(a, onA, p), 400, 'invalid_dpop_proof');
  });

  it('dpop-replay-after-redis-outage: a proof an instance spent while Redis was down is still refused by that instance once Redis is back', async () => {
    // Still down (the test before killed it): the proof is spent in A's memory only.
    const p = await proof(key, htu);
    assertBound(await cc(a, onA, p), key);
    await redis.start();
    // Until A and B are back on Redis (a fresh proof spent on A is refused on B).
    await until('both instances are back on Redis', async () => {
      const q = await proof(key, htu);
      return (await cc(a, onA, q)).status === 200 && (await cc(b, onB, q)).status === 400;
    });
    // The same instance saw p: a replay to it must still be refused, whatever Redis knows.
    assertOAuthError(await cc(a, onA, p), 400, 'invalid_dpop_proof');
  });
});

describe("DPoP-bound tokens at the server's own protected routes (the admin API)", () => {
  let t: TestServer;
  let admin: ClientCreds;
  let key: ProofKey;
  before(async () => {
    t = await startServer();
    admin = await t.client({
      id: 'ops',
      grantTypes: ['client_credentials'],
      scopes: [ADMIN_SCOPE],
      audiences: [adminAudience(t.url)],
    });
    key = await proofKey();
  });
  after(() => t.close());

  it('accepts the holder with a proof for the route; refuses the token copied without the key, as Bearer, or for another route', async () => {
    const bound = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(admin.id, admin.secret!), dpop: await proof(key, `${t.url}/oauth/token`) },
    );
    assertBound(bound, key);
    const token = bound.body.access_token!;
    const call = async (headers: Record<string, string>) => (await fetch(`${t.url}/admin/users`, { headers })).status;
    const usersUrl = `${t.url}/admin/users`;
    const ath = createHash('sha256').update(token).digest('base64url');
    const routeProof = (k: ProofKey, htu = usersUrl) =>
      new SignJWT({ htm: 'GET', htu, jti: randomUUID(), ath })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: k.jwk })
        .setIssuedAt()
        .sign(k.privateKey);
    assert.equal(await call({ authorization: `DPoP ${token}`, dpop: await routeProof(key) }), 200);
    assert.equal(await call({ authorization: `Bearer ${token}` }), 401, 'a bound token as a bearer token');
    assert.equal(await call({ authorization: `DPoP ${token}` }), 401, 'without a proof');
    const thief = await proofKey();
    assert.equal(await call({ authorization: `DPoP ${token}`, dpop: await routeProof(thief) }), 401, "the thief's own key");
    assert.equal(
      await call({ authorization: `DPoP ${token}`, dpop: await routeProof(key, `${t.url}/admin/clients`) }),
      401,
      'a proof for another route',
    );
  });
});
