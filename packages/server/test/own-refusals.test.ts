/**
 * The server's own bearer guards (admin API, /metrics, the revocation feed) refuse a request with exactly
 * the answer the verifier's adapters send (packages/verifier/test/adapters.test.ts writes the same bytes
 * out): one RFC 6750 writer, so a client sees one answer wherever it calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { adminAudience } from '@tessera/server/internal';

import { tokenOf } from './helpers/admin-api.js';
import { startServer, type TestServer } from './helpers/server.js';

/** The DPoP challenge (RFC 9449 section 7.1) beside the Bearer one: the guards take DPoP-bound tokens too. */
const dpop = (realm: string) => `DPoP realm="${realm}", algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"`;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

async function call(t: TestServer, path: string, authorization?: string) {
  const res = await fetch(t.url + path, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function assertExact(
  res: Awaited<ReturnType<typeof call>>,
  expected: { status: number; headers: Record<string, string>; body: string },
): void {
  assert.equal(res.status, expected.status, res.text);
  for (const [name, value] of Object.entries(expected.headers)) assert.equal(res.headers.get(name), value, name);
  assert.equal(res.text, expected.body);
}

describe("the server's own guards answer refusals as every verifier adapter does", () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  for (const [path, realm] of [
    ['/admin/users', 'tessera-admin'],
    ['/metrics', 'tessera-metrics'],
    ['/revocations', 'tessera-revocations'],
  ] as const) {
    it(`${path}: a missing token`, async () => {
      assertExact(await call(t, path), {
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${realm}", ${dpop(realm)}`, ...JSON_HEADERS },
        body: '{"error":"unauthorized","error_description":"a bearer token is required"}',
      });
    });

    it(`${path}: a malformed Authorization header`, async () => {
      const d = 'the Authorization header is not a valid Bearer credential';
      assertExact(await call(t, path, 'Bearer two tokens'), {
        status: 400,
        headers: {
          'www-authenticate': `Bearer realm="${realm}", error="invalid_request", error_description="${d}", ${dpop(realm)}`,
          ...JSON_HEADERS,
        },
        body: `{"error":"invalid_request","error_description":"${d}"}`,
      });
    });

    it(`${path}: an invalid token`, async () => {
      const d = 'the access token is invalid';
      assertExact(await call(t, path, 'Bearer abc.def.ghi'), {
        status: 401,
        headers: {
          'www-authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="${d}", ${dpop(realm)}`,
          ...JSON_HEADERS,
        },
        body: `{"error":"invalid_token","error_description":"${d}"}`,
      });
    });
  }

  it('/admin/users: an insufficient scope names the scope', async () => {
    const c = await t.client({
      id: 'reporting',
      grantTypes: ['client_credentials'],
      scopes: ['reports:read'],
      audiences: [adminAudience(t.url)],
    });
    const d = 'the access token lacks the required scope';
    assertExact(await call(t, '/admin/users', `Bearer ${await tokenOf(t, c)}`), {
      status: 403,
      headers: {
        'www-authenticate': `Bearer realm="tessera-admin", error="insufficient_scope", error_description="${d}", scope="tessera:admin", ${dpop('tessera-admin')}`,
        ...JSON_HEADERS,
      },
      body: `{"error":"insufficient_scope","error_description":"${d}"}`,
    });
  });
});
