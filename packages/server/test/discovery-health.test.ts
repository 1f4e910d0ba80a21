import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified, parseJwks } from '@tessera/core';

import { assertTokenResponse, clientCredentials, get, login, postForm, type ClientCreds } from './helpers/oauth.js';
import { sample, scrape } from './helpers/metrics.js';
import { startServer, type TestServer } from './helpers/server.js';

describe('discovery, health and metrics', () => {
  let t: TestServer;
  let svc: ClientCreds;

  before(async () => {
    t = await startServer();
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
  });
  after(() => t.close());

  describe('GET /.well-known/jwks.json', () => {
    it('publishes the public signing keys with a cache lifetime', async () => {
      const r = await get(t, '/.well-known/jwks.json');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/jwk-set\+json/);
      assert.match(r.headers.get('cache-control') ?? '', /(^|[ ,])max-age=300($|[ ,])/);
      const keys = r.body.keys as Record<string, unknown>[];
      assert.ok(Array.isArray(keys) && keys.length >= 1);
      // The ES256 keys of access tokens (and ID tokens), and the RS256 keys kept for the ID tokens of clients that ask.
      assert.deepEqual(new Set(keys.map((k) => `${k.kty as string} ${k.alg as string}`)), new Set(['EC ES256', 'RSA RS256']));
      for (const k of keys) {
        assert.equal(typeof k.kid, 'string');
        for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[m], undefined, 'no private key material');
      }
      assert.ok(parseJwks(r.body, { algorithms: ['ES256'] }).size >= 1);
      // The key that signs access tokens is in the set.
      const token = await clientCredentials(t, svc);
      assert.ok(keys.some((k) => k.kid === decodeUnverified(token.body.access_token!).header.kid));
    });
  });

  describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
    it('describes the server, its issuer equal to the URL it is served from', async () => {
      const r = await get(t, '/.well-known/oauth-authorization-server');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      const m = r.body;
      assert.equal(m.issuer, t.url);
      assert.equal(m.token_endpoint, `${t.url}/oauth/token`);
      assert.equal(m.jwks_uri, `${t.url}/.well-known/jwks.json`);
      assert.equal(m.revocation_endpoint, `${t.url}/oauth/revoke`);
      assert.equal(m.introspection_endpoint, `${t.url}/oauth/introspect`);
      assert.deepEqual(m.grant_types_supported, [
        'authorization_code',
        'client_credentials',
        'password',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ]);
      assert.ok(Array.isArray(m.response_types_supported), 'response_types_supported is REQUIRED');
      // Public clients (none) name themselves at the token and revocation endpoints, never at introspection.
      for (const field of ['token_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported'])
        assert.deepEqual(m[field], ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'], field);
      assert.deepEqual(m.introspection_endpoint_auth_methods_supported, [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ]);
      assert.ok((m.token_endpoint_auth_signing_alg_values_supported as string[]).includes('ES256'));
      assert.ok(!(m.token_endpoint_auth_signing_alg_values_supported as string[]).includes('none'));
      assert.deepEqual(m.access_token_signing_alg_values_supported, ['ES256']);
      // Every advertised endpoint exists.
      assert.equal((await get(t, new URL(m.jwks_uri as string).pathname)).status, 200);
      for (const endpoint of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
        assert.equal((await postForm(t, new URL(m[endpoint] as string).pathname, {})).status !== 404, true, endpoint);
      }
    });
  });

  describe('health', () => {
    it('answers /healthz and /readyz with 200', async () => {
      const live = await get(t, '/healthz');
      assert.equal(live.status, 200);
      assert.deepEqual(live.body, { status: 'ok' });
      const ready = await get(t, '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
    });

    it('answers unknown paths with a JSON 404', async () => {
      const r = await get(t, '/nope');
      assert.equal(r.status, 404);
      assert.equal(r.body.error, 'not_found');
    });
  });

  describe('GET /metrics', () => {
    it('exposes token, latency, login-failure and signing-key metrics in Prometheus text', async () => {
      const app = await t.client({ id: 'app', grantTypes: ['password'], scopes: [], audiences: ['api'], firstParty: true });
      assertTokenResponse(await clientCredentials(t, svc));
      await clientCredentials(t, svc, { scope: 'nope' });
      await postForm(t, '/oauth/token', { grant_type: 'urn:x' });
      await login(t, app, 'nobody', 'wrong password');

      const text = await scrape(t);
      assert.match(text, /^# TYPE tessera_tokens_issued_total counter$/m);
      assert.ok(sample(text, 'tessera_tokens_issued_total', { grant: 'client_credentials', outcome: 'success' })! >= 1);
      assert.equal(sample(text, 'tessera_tokens_issued_total', { grant: 'client_credentials', outcome: 'invalid_scope' }), 1);
      assert.equal(sample(text, 'tessera_tokens_issued_total', { grant: 'password', outcome: 'invalid_grant' }), 1);
      assert.equal(
        sample(text, 'tessera_tokens_issued_total', { grant: 'unknown', outcome: 'invalid_client' }),
        1,
        'unknown grant types share one label',
      );
      assert.ok(!text.includes('urn:x'), 'no label value taken from the request');

      assert.match(text, /^# TYPE tessera_token_request_duration_seconds histogram$/m);
      assert.ok(sample(text, 'tessera_token_request_duration_seconds_count', { grant: 'client_credentials' })! >= 2);
      assert.ok(sample(text, 'tessera_token_request_duration_seconds_bucket', { grant: 'client_credentials', le: '+Inf' })! >= 2);

      assert.match(text, /^# TYPE tessera_login_failures_total counter$/m);
      assert.equal(sample(text, 'tessera_login_failures_total', { reason: 'invalid_credentials' }), 1);
      assert.equal(sample(text, 'tessera_password_verifications_total'), 1);

      assert.match(text, /^# TYPE tessera_signing_keys gauge$/m);
      assert.equal(sample(text, 'tessera_signing_keys', { state: 'active', alg: 'ES256' }), 1);
      assert.equal(sample(text, 'tessera_signing_keys', { state: 'active', alg: 'RS256' }), 1);
      for (const state of ['next', 'retired', 'removed'])
        assert.notEqual(sample(text, 'tessera_signing_keys', { state }), undefined, state);
    });
  });
});

describe('metrics on a listener of their own (metricsPort)', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ overrides: { metricsPort: 0, metricsHost: '127.0.0.1' } });
  });
  after(() => t.close());

  it('serves /metrics there without a token, and not on the main port', async () => {
    const url = t.server.metricsUrl!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, t.url);
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^# TYPE tessera_login_failures_total counter$/m);
    assert.equal((await fetch(`${url}/other`)).status, 404);
    const main = await get(t, '/metrics');
    assert.equal(main.status, 404);
    assert.ok(!main.text.includes('tessera_'));
  });
});
