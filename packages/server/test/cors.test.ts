import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { basic, startServer, type TestServer } from './helpers/server.js';

/**
 * Browser apps on another origin (a single-page app signing in with the code flow) call the token and
 * revocation endpoints and read the discovery documents through CORS. Only the origins of a client's
 * registered redirect URIs may read its answers.
 */
describe('CORS for browser apps', () => {
  let t: TestServer;
  let service: { id: string; secret?: string };

  before(async () => {
    t = await startServer();
    await t.client({
      id: 'spa',
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: [],
      audiences: ['api'],
      redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1:8080/cb'],
    });
    service = await t.client({
      id: 'svc',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: ['api'],
      redirectUris: [],
    });
  });
  after(() => t.close());

  const preflight = (path: string, origin: string) =>
    fetch(t.url + path, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });

  it('answers a preflight of the token and revocation endpoints with the methods and headers allowed', async () => {
    for (const path of ['/oauth/token', '/oauth/revoke']) {
      const r = await preflight(path, 'https://app.example.com');
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.equal(r.headers.get('access-control-allow-methods'), 'POST');
      assert.match(r.headers.get('access-control-allow-headers') ?? '', /content-type/);
      assert.equal(r.headers.get('access-control-allow-credentials'), null, 'never with cookies');
    }
  });

  it("lets the client's own origin read the token endpoint's answer, refusals included", async () => {
    const r = await t.form(
      '/oauth/token',
      { grant_type: 'authorization_code', client_id: 'spa', code: 'nope', redirect_uri: 'https://app.example.com/callback' },
      { origin: 'https://app.example.com' },
    );
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
  });

  it('lets a loopback origin on any port read it, as its redirect URI matches any port', async () => {
    const r = await t.form('/oauth/revoke', { client_id: 'spa', token: 'unknown' }, { origin: 'http://127.0.0.1:5173' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://127.0.0.1:5173');
  });

  it('gives another origin nothing to read: not an origin of the client, or a client with no redirect URIs', async () => {
    const other = await t.form(
      '/oauth/token',
      { grant_type: 'authorization_code', client_id: 'spa', code: 'nope', redirect_uri: 'https://app.example.com/callback' },
      { origin: 'https://evil.example' },
    );
    assert.equal(other.status, 400);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    for (const origin of ['https://app.example.com.evil.example', 'http://app.example.com', 'null'])
      assert.equal(
        (
          await t.form(
            '/oauth/token',
            { grant_type: 'authorization_code', client_id: 'spa', code: 'x', redirect_uri: 'https://app.example.com/callback' },
            { origin },
          )
        ).headers.get('access-control-allow-origin'),
        null,
        origin,
      );
    const svc = await t.form(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      {
        authorization: basic(service.id, service.secret!),
        origin: 'https://app.example.com',
      },
    );
    assert.equal(svc.status, 200);
    assert.equal(svc.headers.get('access-control-allow-origin'), null);
  });

  it('serves the discovery metadata and the JWKS to any origin', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/.well-known/jwks.json',
    ]) {
      const r = await fetch(t.url + path, { headers: { origin: 'https://anyone.example' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const p = await preflight(path, 'https://anyone.example');
      assert.equal(p.status, 204);
      assert.equal(p.headers.get('access-control-allow-origin'), '*');
    }
  });
});
