/**
 * The verifier's behaviour, run through every adapter (Fastify, Express, node:http, fetch): each host
 * serves the same routes, and each case must give the same answer everywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { generateKey, signAccessToken } from '@tessera/core';
import { createVerifier, type Verifier } from '@tessera/verifier';

import { DpopHolder } from './helpers/dpop.js';
import { HOSTS, type Host, type HostResponse } from './helpers/hosts.js';
import { AUDIENCE, deadUrl, ISSUER, TestIssuer } from './helpers/issuer.js';

const issuer = new TestIssuer('ES256');
const revokedJti = 'revoked-token-id';
/** A token whose revocation lookup fails with an error that is not Tessera's (the app's own hook throws). */
const explodingJti = 'exploding-token-id';

interface Case {
  name: string;
  path: string;
  authorization: () => string | undefined;
  status: number;
  /** Expected WWW-Authenticate error code; null: a challenge without an error code. */
  error?: string | null;
  scope?: string;
  sub?: string;
}

const past = () => Date.now() - 3_600_000;
const bearer = (t: string) => `Bearer ${t}`;

const CASES: Case[] = [
  {
    name: 'a valid token reaches the handler with its principal',
    path: '/orders',
    authorization: () => bearer(issuer.token()),
    status: 200,
    sub: 'alice',
  },
  {
    name: 'the scheme is case-insensitive',
    path: '/orders',
    authorization: () => `bearer ${issuer.token()}`,
    status: 200,
    sub: 'alice',
  },
  {
    name: 'no Authorization header: 401 with a bare challenge',
    path: '/orders',
    authorization: () => undefined,
    status: 401,
    error: null,
  },
  {
    name: 'another scheme (Basic): 401 with a bare challenge',
    path: '/orders',
    authorization: () => 'Basic YWxpY2U6c2VjcmV0',
    status: 401,
    error: null,
  },
  {
    name: 'a broken Bearer header: 400 invalid_request',
    path: '/orders',
    authorization: () => 'Bearer two tokens',
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'an empty Bearer header: 400 invalid_request',
    path: '/orders',
    authorization: () => 'Bearer ',
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'an expired token: 401 invalid_token',
    path: '/orders',
    authorization: () => bearer(issuer.token({ ttl: 60 }, { now: past })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'another audience: 401 invalid_token',
    path: '/orders',
    authorization: () => bearer(issuer.token({ aud: 'billing' })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'another issuer: 401 invalid_token',
    path: '/orders',
    authorization: () => bearer(issuer.token({ iss: 'https://evil.test' })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'a token signed by an unknown key: 401 invalid_token',
    path: '/orders',
    authorization: () =>
      bearer(
        signAccessToken(
          { iss: ISSUER, sub: 'alice', aud: AUDIENCE, client_id: 'web', scope: 'orders:read', ttl: 60 },
          generateKey('ES256', { kid: issuer.key.kid }),
        ),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'alg none: 401 invalid_token',
    path: '/orders',
    authorization: () => bearer(noneToken()),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'garbage: 401 invalid_token',
    path: '/orders',
    authorization: () => bearer('abc.def.ghi'),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'a revoked token: 401 invalid_token',
    path: '/orders',
    authorization: () => bearer(issuer.token({ jti: revokedJti })),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'a missing scope: 403 insufficient_scope naming it',
    path: '/orders/write',
    authorization: () => bearer(issuer.token()),
    status: 403,
    error: 'insufficient_scope',
    scope: 'orders:write',
  },
  {
    name: 'no scope claim at all: 403',
    path: '/orders',
    authorization: () => bearer(issuer.token({ scope: undefined })),
    status: 403,
    error: 'insufficient_scope',
  },
  {
    name: 'any-of: one of the scopes suffices',
    path: '/any',
    authorization: () => bearer(issuer.token()),
    status: 200,
    sub: 'alice',
  },
  {
    name: 'any-of: none of the scopes is refused',
    path: '/any',
    authorization: () => bearer(issuer.token({ scope: 'billing:read' })),
    status: 403,
    error: 'insufficient_scope',
  },
  { name: 'a public route needs no token', path: '/public', authorization: () => undefined, status: 200 },
];

/**
 * The exact answer of each refusal, byte for byte, written out here rather than computed: every adapter
 * must send this status, these headers and this body (RFC 6750 section 3).
 */
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
/** The DPoP challenge every refusal carries beside the Bearer one (RFC 9449 section 7.1): both schemes are accepted. */
const DPOP_ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA';
const DPOP_CHALLENGE = `DPoP realm="orders-api", algs="${DPOP_ALGS}"`;
const EXACT: {
  name: string;
  path: string;
  authorization: () => string | undefined;
  status: number;
  headers: Record<string, string | null>;
  body: string;
}[] = [
  {
    name: 'a missing token',
    path: '/orders',
    authorization: () => undefined,
    status: 401,
    headers: { 'www-authenticate': `Bearer realm="orders-api", ${DPOP_CHALLENGE}`, 'retry-after': null, ...JSON_HEADERS },
    body: '{"error":"unauthorized","error_description":"a bearer token is required"}',
  },
  {
    name: 'a malformed Authorization header',
    path: '/orders',
    authorization: () => 'Bearer two tokens',
    status: 400,
    headers: {
      'www-authenticate': `Bearer realm="orders-api", error="invalid_request", error_description="the Authorization header is not a valid Bearer credential", ${DPOP_CHALLENGE}`,
      'retry-after': null,
      ...JSON_HEADERS,
    },
    body: '{"error":"invalid_request","error_description":"the Authorization header is not a valid Bearer credential"}',
  },
  {
    name: 'an expired token',
    path: '/orders',
    authorization: () => bearer(issuer.token({ ttl: 60 }, { now: past })),
    status: 401,
    headers: {
      'www-authenticate': `Bearer realm="orders-api", error="invalid_token", error_description="the access token expired", ${DPOP_CHALLENGE}`,
      'retry-after': null,
      ...JSON_HEADERS,
    },
    body: '{"error":"invalid_token","error_description":"the access token expired"}',
  },
  {
    name: 'an insufficient scope',
    path: '/orders/write',
    authorization: () => bearer(issuer.token()),
    status: 403,
    headers: {
      'www-authenticate': `Bearer realm="orders-api", error="insufficient_scope", error_description="the access token lacks the required scope", scope="orders:write", ${DPOP_CHALLENGE}`,
      'retry-after': null,
      ...JSON_HEADERS,
    },
    body: '{"error":"insufficient_scope","error_description":"the access token lacks the required scope"}',
  },
  {
    name: 'a revoked token',
    path: '/orders',
    authorization: () => bearer(issuer.token({ jti: revokedJti })),
    status: 401,
    headers: {
      'www-authenticate': `Bearer realm="orders-api", error="invalid_token", error_description="the access token is invalid", ${DPOP_CHALLENGE}`,
      'retry-after': null,
      ...JSON_HEADERS,
    },
    body: '{"error":"invalid_token","error_description":"the access token is invalid"}',
  },
];

/** The exact answer while no verification key can be fetched. */
const UNAVAILABLE = {
  status: 503,
  headers: { 'www-authenticate': null, 'retry-after': '5', ...JSON_HEADERS },
  body: '{"error":"temporarily_unavailable","error_description":"token verification is unavailable"}',
};

function assertExact(res: HostResponse, expected: { status: number; headers: Record<string, string | null>; body: string }) {
  assert.equal(res.status, expected.status, res.text);
  for (const [name, value] of Object.entries(expected.headers)) assert.equal(res.headers.get(name), value, name);
  assert.equal(res.text, expected.body);
}

function noneToken(): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ iss: ISSUER, sub: 'mallory', aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 })}.`;
}

/** Parses `Bearer k="v", ...` into its parameters. */
function challengeParams(header: string | null): Record<string, string> | undefined {
  if (header === null || !/^Bearer\b/.test(header)) return undefined;
  return Object.fromEntries([...header.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
}

/** The challenges of a WWW-Authenticate value (`Bearer ..., DPoP ...`), by scheme, each with its parameters. */
function challenges(header: string | null): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const part of (header ?? '').split(/,\s*(?=(?:Bearer|DPoP)\b)/)) {
    const scheme = /^(\w+)/.exec(part)?.[1];
    if (scheme === undefined) continue;
    out[scheme] = Object.fromEntries([...part.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
  }
  return out;
}

for (const { name, start } of HOSTS) {
  describe(`verifier behaviour through ${name}`, () => {
    let host: Host;
    let verifier: Verifier;
    before(async () => {
      verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['ES256'],
        jwks: issuer.jwks(),
        isRevoked: (p) => {
          if (p.tokenId === explodingJti) throw new Error('revocation store exploded');
          return p.tokenId === revokedJti;
        },
      });
      host = await start(verifier);
    });
    after(() => host.close());

    it("an unexpected error (not a refusal) reaches the app's own error handler, with the error itself", async () => {
      const res = await host.request('/orders', bearer(issuer.token({ jti: explodingJti })));
      assert.equal(res.status, 500, res.text);
      assert.deepEqual(JSON.parse(res.text), { error: 'app_handler', message: 'revocation store exploded' });
    });

    for (const c of CASES) {
      it(c.name, async () => {
        const auth = c.authorization();
        const res = await host.request(c.path, auth);
        assert.equal(res.status, c.status, res.text);
        if (c.sub) assert.equal(JSON.parse(res.text).sub, c.sub);
        if (c.error !== undefined) {
          const params = challengeParams(res.headers.get('www-authenticate'));
          assert.ok(params, 'a Bearer challenge is sent');
          assert.equal(params.realm, 'orders-api');
          assert.equal(params.error, c.error ?? undefined);
          if (c.scope) assert.equal(params.scope, c.scope);
          const body = JSON.parse(res.text) as Record<string, unknown>;
          if (c.error) assert.equal(body.error, c.error);
          // No internal detail: no token, no error code, no stack.
          if (auth) assert.ok(!res.text.includes(auth.slice(7)) || auth.length < 12, 'the token is not echoed');
          assert.doesNotMatch(res.text, /ERR_|at |Error/);
          // A refusal is never stored by a cache on the way (RFC 6750 section 5.2, RFC 9111), and is JSON.
          assert.equal(res.headers.get('cache-control'), 'no-store');
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        }
      });
    }

    for (const c of EXACT) {
      it(`the exact refusal of ${c.name}, the same through every adapter`, async () => {
        assertExact(await host.request(c.path, c.authorization()), c);
      });
    }

    it('the same token verifies twice (the second time from the cache) with the same principal', async () => {
      const t = bearer(issuer.token({ sub: 'bob' }));
      const a = await host.request('/orders', t);
      const b = await host.request('/orders', t);
      assert.equal(a.status, 200);
      assert.equal(b.text, a.text);
    });
  });

  describe(`DPoP (RFC 9449) through ${name}`, () => {
    let host: Host;
    let holder: DpopHolder;
    let thief: DpopHolder;
    before(async () => {
      const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], jwks: issuer.jwks() });
      host = await start(verifier);
      holder = await DpopHolder.create();
      thief = await DpopHolder.create();
    });
    after(() => host.close());

    /** A token bound to the holder's key (cnf.jkt), as the auth server issues it to a DPoP client. */
    const bound = (sub = 'alice') => issuer.token({ sub, claims: { cnf: { jkt: holder.jkt } } });
    const htu = (path = '/orders') => host.base + path;
    const call = (token: string, proof: string | undefined, path = '/orders') =>
      host.request(path, `DPoP ${token}`, proof === undefined ? {} : { dpop: proof });

    /** 401 invalid_dpop_proof under the DPoP challenge (with its algs), the Bearer challenge bare. */
    function assertProofRefused(res: HostResponse, token: string) {
      assert.equal(res.status, 401, res.text);
      const c = challenges(res.headers.get('www-authenticate'));
      assert.deepEqual(c.Bearer, { realm: 'orders-api' });
      assert.equal(c.DPoP?.error, 'invalid_dpop_proof');
      assert.equal(c.DPoP?.algs, DPOP_ALGS);
      assert.equal(JSON.parse(res.text).error, 'invalid_dpop_proof');
      assert.ok(!res.text.includes(token), 'the token is not echoed');
      assert.doesNotMatch(res.text, /ERR_|at |Error/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }

    it("the rightful holder is accepted with its key's thumbprint, again with a fresh proof (token from the cache)", async () => {
      const token = bound();
      for (let i = 0; i < 2; i++) {
        const res = await call(token, await holder.proof({ htu: htu(), token }));
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(JSON.parse(res.text), { sub: 'alice', clientId: 'web', scopes: ['orders:read'], jkt: holder.jkt });
      }
      // htu is compared without the query.
      const q = await call(token, await holder.proof({ htu: htu(), token }), '/orders?page=2');
      assert.equal(q.status, 200, q.text);
    });

    it("a token copied without its key is refused: with no proof, or with a proof by the copier's own key", async () => {
      const token = bound();
      assertProofRefused(await call(token, undefined), token);
      assertProofRefused(await call(token, await thief.proof({ htu: htu(), token })), token);
    });

    it('a replayed proof is refused, however the token is verified (cached or not)', async () => {
      const token = bound();
      const proof = await holder.proof({ htu: htu(), token });
      assert.equal((await call(token, proof)).status, 200);
      assertProofRefused(await call(token, proof), token);
      // The same jti again, in a new proof: still a replay.
      const again = await holder.proof({
        htu: htu(),
        token,
        jti: JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).jti,
      });
      assertProofRefused(await call(token, again), token);
    });

    it('a proof made for another URL or another method is refused', async () => {
      const token = bound();
      assertProofRefused(await call(token, await holder.proof({ htu: htu('/orders/write'), token })), token);
      assertProofRefused(await call(token, await holder.proof({ htu: 'https://elsewhere.example/orders', token })), token);
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), htm: 'POST', token })), token);
    });

    it('a proof made too long ago, or in the future, is refused', async () => {
      const token = bound();
      const now = Math.floor(Date.now() / 1000);
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), token, iat: now - 120 })), token);
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), token, iat: now + 120 })), token);
    });

    it("a proof whose ath is not this token's is refused (a proof made for another token, or none)", async () => {
      const token = bound();
      const other = bound('bob');
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), token: other })), token);
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), token: null })), token);
    });

    it('a proof signed by another key than its header names is refused', async () => {
      const token = bound();
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), token, signWith: thief.privateKey })), token);
    });

    it('a proof carrying a private key in its jwk is refused', async () => {
      const token = bound();
      const jwk = await holder.privateJwk();
      assertProofRefused(await call(token, await holder.proof({ htu: htu(), token, header: { jwk } })), token);
    });

    it('a proof with alg none or HS256 is refused', async () => {
      const token = bound();
      assertProofRefused(await call(token, holder.unsignedProof({ htu: htu(), token })), token);
      assertProofRefused(await call(token, holder.hmacProof({ htu: htu(), token })), token);
    });

    it('the exact refusal of a bad proof, the same through every adapter', async () => {
      const token = bound();
      assertExact(await call(token, undefined), {
        status: 401,
        headers: {
          'www-authenticate': `Bearer realm="orders-api", DPoP realm="orders-api", error="invalid_dpop_proof", error_description="the DPoP proof is invalid", algs="${DPOP_ALGS}"`,
          'dpop-nonce': null,
          ...JSON_HEADERS,
        },
        body: '{"error":"invalid_dpop_proof","error_description":"the DPoP proof is invalid"}',
      });
    });

    it('a bound token presented as a bearer token is refused (downgrade), even once verified and cached', async () => {
      const token = bound();
      assert.equal((await call(token, await holder.proof({ htu: htu(), token }))).status, 200);
      for (const authorization of [`Bearer ${token}`, `bearer ${token}`])
        assertExact(await host.request('/orders', authorization), {
          status: 401,
          headers: {
            'www-authenticate': `Bearer realm="orders-api", error="invalid_token", error_description="the access token is bound to a key: present it with the DPoP scheme and a proof", ${DPOP_CHALLENGE}`,
            ...JSON_HEADERS,
          },
          body: '{"error":"invalid_token","error_description":"the access token is bound to a key: present it with the DPoP scheme and a proof"}',
        });
    });

    it('an unbound token presented with the DPoP scheme is refused under the DPoP challenge', async () => {
      const token = issuer.token();
      const res = await call(token, await holder.proof({ htu: htu(), token }));
      assert.equal(res.status, 401, res.text);
      const c = challenges(res.headers.get('www-authenticate'));
      assert.deepEqual(c.Bearer, { realm: 'orders-api' });
      assert.equal(c.DPoP?.error, 'invalid_token');
      assert.equal(c.DPoP?.algs, DPOP_ALGS);
    });

    it('token refusals and missing scopes of a DPoP request are reported under the DPoP challenge', async () => {
      const expired = issuer.token({ ttl: 60, claims: { cnf: { jkt: holder.jkt } } }, { now: past });
      const e = await call(expired, await holder.proof({ htu: htu(), token: expired }));
      assert.equal(e.status, 401, e.text);
      assert.equal(challenges(e.headers.get('www-authenticate')).DPoP?.error, 'invalid_token');
      const token = bound();
      const s = await call(token, await holder.proof({ htu: htu('/orders/write'), token }), '/orders/write');
      assert.equal(s.status, 403, s.text);
      const c = challenges(s.headers.get('www-authenticate'));
      assert.deepEqual(c.Bearer, { realm: 'orders-api' });
      assert.equal(c.DPoP?.error, 'insufficient_scope');
      assert.equal(c.DPoP?.scope, 'orders:write');
      const m = await host.request('/orders', 'DPoP two tokens');
      assert.equal(m.status, 400, m.text);
      assert.equal(challenges(m.headers.get('www-authenticate')).DPoP?.error, 'invalid_request');
    });
  });

  describe(`DPoP behind a proxy (externalOrigin) with server nonces, through ${name}`, () => {
    const ORIGIN = 'https://api.example.com';
    let host: Host;
    let holder: DpopHolder;
    let nonce = 'nonce-1';
    before(async () => {
      const verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['ES256'],
        jwks: issuer.jwks(),
        externalOrigin: ORIGIN,
        dpopNonce: () => [nonce],
      });
      host = await start(verifier);
      holder = await DpopHolder.create();
    });
    after(() => host.close());
    const bound = () => issuer.token({ claims: { cnf: { jkt: holder.jkt } } });
    const call = (token: string, proof: string) => host.request('/orders', `DPoP ${token}`, { dpop: proof });

    it('the proof names the URL the client addressed (the external origin), not the address behind the proxy', async () => {
      const token = bound();
      const ok = await call(token, await holder.proof({ htu: `${ORIGIN}/orders`, token, nonce }));
      assert.equal(ok.status, 200, ok.text);
      const inner = await call(token, await holder.proof({ htu: `${host.base}/orders`, token, nonce }));
      assert.equal(inner.status, 401, inner.text);
      assert.equal(challenges(inner.headers.get('www-authenticate')).DPoP?.error, 'invalid_dpop_proof');
    });

    it("a proof without the server's current nonce is answered use_dpop_nonce with the nonce to use", async () => {
      const token = bound();
      const missing = await call(token, await holder.proof({ htu: `${ORIGIN}/orders`, token }));
      assertExact(missing, {
        status: 401,
        headers: {
          'www-authenticate': `Bearer realm="orders-api", DPoP realm="orders-api", error="use_dpop_nonce", error_description="the DPoP proof must carry the nonce of the DPoP-Nonce header", algs="${DPOP_ALGS}"`,
          'dpop-nonce': 'nonce-1',
          ...JSON_HEADERS,
        },
        body: '{"error":"use_dpop_nonce","error_description":"the DPoP proof must carry the nonce of the DPoP-Nonce header"}',
      });
      const retried = await call(token, await holder.proof({ htu: `${ORIGIN}/orders`, token, nonce: 'nonce-1' }));
      assert.equal(retried.status, 200, retried.text);
      // The nonce rotates: the old one is refused, and the new one handed out.
      nonce = 'nonce-2';
      const stale = await call(token, await holder.proof({ htu: `${ORIGIN}/orders`, token, nonce: 'nonce-1' }));
      assert.equal(stale.status, 401, stale.text);
      assert.equal(challenges(stale.headers.get('www-authenticate')).DPoP?.error, 'use_dpop_nonce');
      assert.equal(stale.headers.get('dpop-nonce'), 'nonce-2');
      const fresh = await call(token, await holder.proof({ htu: `${ORIGIN}/orders`, token, nonce: 'nonce-2' }));
      assert.equal(fresh.status, 200, fresh.text);
    });
  });

  describe(`${name}: keys unavailable fails closed with 503`, () => {
    let host: Host;
    let verifier: Verifier;
    before(async () => {
      verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['ES256'],
        jwksUri: await deadUrl(),
        jwksOptions: { timeoutMs: 1000 },
      });
      host = await start(verifier);
    });
    after(async () => {
      verifier.close();
      await host.close();
    });
    it('a valid token is refused with 503 while no JWKS can be fetched', async () => {
      const res = await host.request('/orders', bearer(issuer.token()));
      assertExact(res, UNAVAILABLE);
    });
  });
}
