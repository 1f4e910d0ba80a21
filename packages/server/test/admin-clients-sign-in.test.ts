import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startServer, type TestServer } from './helpers/server.js';

/**
 * Client registration for the authorization code flow through the admin API: redirect URIs (RFC 8252 rules),
 * post-logout redirect URIs, public clients (token_endpoint_auth_method none), first-party, require-PAR.
 */
describe('admin API: clients of the authorization code flow', () => {
  let t: TestServer;

  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  const app = (id: string, extra: Record<string, unknown> = {}) => ({
    client_id: id,
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    scope: 'profile',
    audiences: ['api'],
    redirect_uris: ['https://app.example.com/callback'],
    ...extra,
  });
  const ids = async () =>
    ((await t.admin('GET', '/admin/clients')).body.items as { client_id: string }[]).map((c) => c.client_id);

  it('registers a public first-party client: no secret, its redirect URIs shown as registered', async () => {
    const r = await t.admin(
      'POST',
      '/admin/clients',
      app('spa', {
        first_party: true,
        redirect_uris: [
          'https://app.example.com/callback',
          'http://127.0.0.1/cb',
          'http://[::1]:8080/cb',
          'com.example.app:/oauth',
        ],
        post_logout_redirect_uris: ['https://app.example.com/'],
        require_pushed_authorization_requests: true,
      }),
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.client_secret, undefined);
    const shown = (await t.admin('GET', '/admin/clients/spa')).body;
    assert.equal(shown.token_endpoint_auth_method, 'none');
    assert.deepEqual(shown.secrets, []);
    assert.deepEqual(shown.redirect_uris, [
      'https://app.example.com/callback',
      'http://127.0.0.1/cb',
      'http://[::1]:8080/cb',
      'com.example.app:/oauth',
    ]);
    assert.deepEqual(shown.post_logout_redirect_uris, ['https://app.example.com/']);
    assert.equal(shown.require_pushed_authorization_requests, true);
    assert.equal(shown.first_party, true);
  });

  it('registers a confidential third-party client of the flow with a secret', async () => {
    const r = await t.admin('POST', '/admin/clients', app('portal', { token_endpoint_auth_method: 'client_secret_basic' }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(typeof r.body.client_secret, 'string');
    assert.equal(r.body.first_party, false);
    assert.equal(r.body.require_pushed_authorization_requests, false);
  });

  it('dpop_bound_access_tokens (RFC 9449 section 5.2): off by default, set at registration, changed by PATCH', async () => {
    const r = await t.admin('POST', '/admin/clients', app('bound-app', { dpop_bound_access_tokens: true }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.dpop_bound_access_tokens, true);
    assert.equal((await t.admin('GET', '/admin/clients/bound-app')).body.dpop_bound_access_tokens, true);
    const patched = await t.admin('PATCH', '/admin/clients/bound-app', { dpop_bound_access_tokens: false });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal((await t.admin('GET', '/admin/clients/bound-app')).body.dpop_bound_access_tokens, false);
    assert.equal((await t.admin('POST', '/admin/clients', app('plain-app'))).body.dpop_bound_access_tokens, false);
    const wrong = await t.admin('POST', '/admin/clients', app('typed-app', { dpop_bound_access_tokens: 'yes' }));
    assert.equal(wrong.status, 400);
    assert.equal((await t.admin('GET', '/admin/clients/typed-app')).status, 404);
  });

  it('refuses each redirect URI the rules forbid, naming the URI and the rule, and stores nothing', async () => {
    const bad: [string, RegExp][] = [
      ['/callback', /absolute/],
      ['https://app.example.com/cb#frag', /fragment/],
      ['https://*.example.com/cb', /wildcard/],
      ['https://app.example.com/*', /wildcard/],
      ['http://app.example.com/cb', /loopback/],
      ['http://localhost:3000/cb', /loopback/],
      ['https://user:pw@app.example.com/cb', /userinfo/],
      ['javascript:alert(1)', /private-use scheme/],
      ['data:text/html,hi', /private-use scheme/],
      ['file:///etc/passwd', /private-use scheme/],
      ['myapp:/cb', /private-use scheme/],
      ['com.example.app://evil.example.org/cb', /no host/],
      ['https://APP.example.com/cb', /normal form: https:\/\/app\.example\.com\/cb/],
      ['https://app.example.com', /normal form: https:\/\/app\.example\.com\//],
      ['https://app.example.com:443/cb', /normal form/],
      [`https://app.example.com/${'a'.repeat(2000)}`, /characters|must NOT have more/],
    ];
    for (const [i, [uri, why]] of bad.entries()) {
      const r = await t.admin('POST', '/admin/clients', app(`bad${i}`, { redirect_uris: [uri] }));
      assert.equal(r.status, 400, uri);
      assert.equal(r.body.error, 'invalid_request', uri);
      assert.match(r.body.error_description, why, uri);
      const logout = await t.admin('POST', '/admin/clients', app(`badl${i}`, { post_logout_redirect_uris: [uri] }));
      assert.equal(logout.status, 400, `post-logout ${uri}`);
    }
    assert.ok(!(await ids()).some((id) => id.startsWith('bad')));
  });

  it('refuses a public client with a grant only confidential clients may use, a secret method change, a secret rotation', async () => {
    for (const grant of ['client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:token-exchange']) {
      const r = await t.admin(
        'POST',
        '/admin/clients',
        app(`pub-${grant.length}`, { grant_types: ['authorization_code', grant], first_party: true }),
      );
      assert.equal(r.status, 400, grant);
      assert.match(r.body.error_description, /public client may use only/);
    }
    await t.admin('POST', '/admin/clients', app('mobile'));
    const patched = await t.admin('PATCH', '/admin/clients/mobile', { token_endpoint_auth_method: 'client_secret_post' });
    assert.equal(patched.status, 400);
    assert.match(patched.body.error_description, /public or confidential/);
    const rotated = await t.admin('POST', '/admin/clients/mobile/rotate-secret', {});
    assert.equal(rotated.status, 400);
    assert.equal((await t.admin('GET', '/admin/clients/mobile')).body.token_endpoint_auth_method, 'none');
    assert.deepEqual((await t.admin('GET', '/admin/clients/mobile')).body.secrets, []);
    const confidential = await t.admin('PATCH', '/admin/clients/portal', { token_endpoint_auth_method: 'none' });
    assert.equal(confidential.status, 400);
  });

  it('redirect URIs go with the authorization_code grant, both ways', async () => {
    const without = await t.admin('POST', '/admin/clients', app('nouris', { redirect_uris: [] }));
    assert.equal(without.status, 400);
    assert.match(without.body.error_description, /at least one redirect URI/);
    const service = {
      client_id: 'svc',
      grant_types: ['client_credentials'],
      audiences: ['api'],
      redirect_uris: ['https://svc.example.com/cb'],
    };
    assert.equal((await t.admin('POST', '/admin/clients', service)).status, 400);
    const par = { ...service, redirect_uris: [], require_pushed_authorization_requests: true };
    assert.equal((await t.admin('POST', '/admin/clients', par)).status, 400);
    assert.ok(!(await ids()).some((id) => id === 'nouris' || id === 'svc'));
  });

  it('PATCH replaces the redirect URIs (checked like at registration), and cannot empty them', async () => {
    await t.admin('POST', '/admin/clients', app('web'));
    const r = await t.admin('PATCH', '/admin/clients/web', {
      redirect_uris: ['https://web.example.com/a', 'https://web.example.com/a', 'https://web.example.com/b'],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.redirect_uris, ['https://web.example.com/a', 'https://web.example.com/b']);
    assert.equal((await t.admin('PATCH', '/admin/clients/web', { redirect_uris: ['http://web.example.com/a'] })).status, 400);
    assert.equal((await t.admin('PATCH', '/admin/clients/web', { redirect_uris: [] })).status, 400);
    assert.deepEqual((await t.admin('GET', '/admin/clients/web')).body.redirect_uris, [
      'https://web.example.com/a',
      'https://web.example.com/b',
    ]);
  });
});
