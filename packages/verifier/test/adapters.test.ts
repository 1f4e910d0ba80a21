/**
 * The verifier's behaviour, run through every adapter (Fastify, Express, node:http, fetch): each host
 * serves the same routes, and each case must give the same answer everywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { generateKey, signAccessToken } from '@tessera/core';
import { createVerifier, type Verifier } from '@tessera/verifier';

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
    headers: { 'www-authenticate': 'Bearer realm="orders-api"', 'retry-after': null, ...JSON_HEADERS },
    body: '{"error":"unauthorized","error_description":"a bearer token is required"}',
  },
  {
    name: 'a malformed Authorization header',
    path: '/orders',
    authorization: () => 'Bearer two tokens',
    status: 400,
    headers: {
      'www-authenticate':
        'Bearer realm="orders-api", error="invalid_request", error_description="the Authorization header is not a valid Bearer credential"',
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
      'www-authenticate': 'Bearer realm="orders-api", error="invalid_token", error_description="the access token expired"',
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
      'www-authenticate':
        'Bearer realm="orders-api", error="insufficient_scope", error_description="the access token lacks the required scope", scope="orders:write"',
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
      'www-authenticate': 'Bearer realm="orders-api", error="invalid_token", error_description="the access token is invalid"',
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
