import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

import { contextOf } from '@tessera/server/internal';

import {
  assertOAuthError,
  assertTokenResponse,
  clientCredentials,
  get,
  login,
  postForm,
  postRaw,
  refresh,
  type Answer,
  type ClientCreds,
} from './helpers/oauth.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const FORM = 'application/x-www-form-urlencoded';
const PASSWORD = 'correct horse battery';

/** POSTs a body in chunks without a Content-Length (fetch always sets one for a string body). */
function chunkedPost(
  t: TestServer,
  path: string,
  headers: Record<string, string>,
  chunks: string[],
): Promise<{ status: number; cacheControl: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(t.url + path);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { ...headers, 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, cacheControl: res.headers['cache-control'], text }));
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

function claimsOf(r: Answer) {
  return decodeUnverified(r.body.access_token!);
}

describe('POST /oauth/token', () => {
  let t: TestServer;
  let svc: ClientCreds;
  let multi: ClientCreds;
  let shortLived: ClientCreds;
  let app: ClientCreds;
  let thirdParty: ClientCreds;
  let aliceId: string;

  before(async () => {
    t = await startServer();
    svc = await t.client({
      id: 'svc',
      grantTypes: ['client_credentials'],
      scopes: ['inventory:read', 'inventory:write'],
      audiences: ['inventory'],
    });
    multi = await t.client({
      id: 'multi',
      grantTypes: ['client_credentials'],
      scopes: ['x'],
      audiences: ['inventory', 'https://billing.example'],
    });
    shortLived = await t.client({
      id: 'short',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: ['inventory'],
      accessTokenTtl: 60,
    });
    app = await t.client({
      id: 'web-app',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read', 'orders:write', 'profile'],
      audiences: ['orders'],
      firstParty: true,
    });
    thirdParty = await t.client({
      id: 'partner',
      grantTypes: ['client_credentials', 'refresh_token'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    });
    assert.equal(
      (await t.admin('PUT', '/admin/roles/reader', { permissions: ['orders:read', 'profile', 'unrelated:scope'] })).status,
      200,
    );
    aliceId = await t.user('alice', PASSWORD, ['reader']);
  });
  after(() => t.close());

  describe('client_credentials', () => {
    it('issues an RFC 9068 access token that a remote-JWKS verifier accepts', async () => {
      const r = await clientCredentials(t, svc);
      assertTokenResponse(r);
      assert.equal(r.body.expires_in, 600);
      assert.equal(r.body.scope, 'inventory:read inventory:write');
      assert.equal(r.body.refresh_token, undefined, 'client_credentials issues no refresh token (RFC 6749 section 4.4.3)');

      const { header, payload } = claimsOf(r);
      assert.equal(header.typ, 'at+jwt');
      assert.equal(header.alg, 'ES256');
      const jwks = await get(t, '/.well-known/jwks.json');
      const kids = (jwks.body.keys as { kid: string }[]).map((k) => k.kid);
      assert.ok(typeof header.kid === 'string' && kids.includes(header.kid), 'kid names a published key');
      assert.equal(payload.iss, t.url);
      assert.equal(payload.sub, 'svc');
      assert.equal(payload.aud, 'inventory');
      assert.equal(payload.client_id, 'svc');
      assert.equal(payload.scope, 'inventory:read inventory:write');
      assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
      assert.equal(typeof payload.iat, 'number');
      assert.equal((payload.exp as number) - (payload.iat as number), 600, 'default TTL is 600 s');
      assert.ok(Math.abs((payload.iat as number) - Date.now() / 1000) < 5);

      const v = createVerifier({
        issuer: t.url,
        audience: 'inventory',
        algorithms: ['ES256'],
        jwksUri: `${t.url}/.well-known/jwks.json`,
      });
      try {
        const p = await v.verify(r.body.access_token!);
        assert.equal(p.sub, 'svc');
        assert.equal(p.clientId, 'svc');
        assert.deepEqual(p.scopes, ['inventory:read', 'inventory:write']);
      } finally {
        v.close();
      }
    });

    it('gives every token its own jti', async () => {
      const [a, b] = await Promise.all([clientCredentials(t, svc), clientCredentials(t, svc)]);
      assert.notEqual(claimsOf(a!).payload.jti, claimsOf(b!).payload.jti);
    });

    it('narrows to the requested scopes and refuses any the client may not have (invalid_scope)', async () => {
      const r = await clientCredentials(t, svc, { scope: 'inventory:read' });
      assertTokenResponse(r);
      assert.equal(r.body.scope, 'inventory:read');
      assert.equal(claimsOf(r).payload.scope, 'inventory:read');

      assertOAuthError(await clientCredentials(t, svc, { scope: 'inventory:read admin' }), 400, 'invalid_scope');
      assertOAuthError(await clientCredentials(t, svc, { scope: 'inventory:read  inventory:write' }), 400, 'invalid_scope');
      assertOAuthError(await clientCredentials(t, svc, { scope: 'bad"scope' }), 400, 'invalid_scope');
    });

    it('honours a per-client access token lifetime', async () => {
      const r = await clientCredentials(t, shortLived);
      assertTokenResponse(r);
      assert.equal(r.body.expires_in, 60);
      const { payload } = claimsOf(r);
      assert.equal((payload.exp as number) - (payload.iat as number), 60);
    });

    it('is unauthorized_client for a client without the grant', async () => {
      assertOAuthError(await clientCredentials(t, app), 400, 'unauthorized_client');
    });
  });

  describe('audience (RFC 8707 resource, or audience)', () => {
    it('defaults to the client’s only audience', async () => {
      assert.equal(claimsOf(await clientCredentials(t, svc)).payload.aud, 'inventory');
    });

    it('takes the requested resource or audience when the client has it', async () => {
      const byResource = await clientCredentials(t, multi, { resource: 'https://billing.example' });
      assertTokenResponse(byResource);
      assert.equal(claimsOf(byResource).payload.aud, 'https://billing.example');
      const byAudience = await clientCredentials(t, multi, { audience: 'inventory' });
      assertTokenResponse(byAudience);
      assert.equal(claimsOf(byAudience).payload.aud, 'inventory');
      const both = await clientCredentials(t, multi, { resource: 'inventory', audience: 'inventory' });
      assertTokenResponse(both);
    });

    it('is invalid_target for an audience the client may not have', async () => {
      assertOAuthError(await clientCredentials(t, svc, { resource: 'https://billing.example' }), 400, 'invalid_target');
      assertOAuthError(await clientCredentials(t, svc, { audience: 'orders' }), 400, 'invalid_target');
      assertOAuthError(await login(t, app, 'alice', PASSWORD, { resource: 'inventory' }), 400, 'invalid_target');
    });

    it('is invalid_target when a client with several audiences names none', async () => {
      assertOAuthError(await clientCredentials(t, multi), 400, 'invalid_target');
    });

    it('is invalid_request when resource and audience disagree', async () => {
      assertOAuthError(
        await clientCredentials(t, multi, { resource: 'inventory', audience: 'https://billing.example' }),
        400,
        'invalid_request',
      );
    });
  });

  describe('password', () => {
    it('logs a user in through a first-party client, scopes limited by the user’s roles', async () => {
      const r = await login(t, app, 'alice', PASSWORD);
      assertTokenResponse(r);
      assert.equal(r.body.scope, 'orders:read profile', 'client scopes ∩ role permissions');
      assert.match(r.body.refresh_token!, /^tsr_/);
      const { header, payload } = claimsOf(r);
      assert.equal(header.typ, 'at+jwt');
      assert.equal(payload.sub, aliceId);
      assert.equal(payload.client_id, 'web-app');
      assert.equal(payload.aud, 'orders');
      assert.equal(payload.scope, 'orders:read profile');
      assert.equal(typeof payload.sid, 'string');
    });

    it('is invalid_scope for a scope the client has but the user’s roles do not grant', async () => {
      assertOAuthError(await login(t, app, 'alice', PASSWORD, { scope: 'orders:write' }), 400, 'invalid_scope');
      assertOAuthError(await login(t, app, 'alice', PASSWORD, { scope: 'unrelated:scope' }), 400, 'invalid_scope');
      const narrowed = await login(t, app, 'alice', PASSWORD, { scope: 'profile' });
      assertTokenResponse(narrowed);
      assert.equal(narrowed.body.scope, 'profile');
    });

    it('is unauthorized_client for a third-party client', async () => {
      assertOAuthError(await login(t, thirdParty, 'alice', PASSWORD), 400, 'unauthorized_client');
      // A client that lost first-party status keeps its grant list but may no longer log users in.
      const demoted = await t.client({
        id: 'demoted',
        grantTypes: ['password'],
        scopes: ['profile'],
        audiences: ['orders'],
        firstParty: true,
      });
      assert.ok(await contextOf(t.server).store.clients.update('demoted', { firstParty: false }, Date.now()));
      assertOAuthError(await login(t, demoted, 'alice', PASSWORD), 400, 'unauthorized_client');
    });

    it('is invalid_grant for a wrong password or an unknown user, with one body for both', async () => {
      const wrong = await login(t, app, 'alice', 'not the password');
      assertOAuthError(wrong, 400, 'invalid_grant');
      const unknown = await login(t, app, 'nobody', 'not the password');
      assertOAuthError(unknown, 400, 'invalid_grant');
      assert.deepEqual(unknown.body, wrong.body);
    });

    it('is invalid_request without a username or password', async () => {
      assertOAuthError(
        await postForm(
          t,
          '/oauth/token',
          { grant_type: 'password', password: PASSWORD },
          { authorization: basic(app.id, app.secret!) },
        ),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await postForm(
          t,
          '/oauth/token',
          { grant_type: 'password', username: 'alice' },
          { authorization: basic(app.id, app.secret!) },
        ),
        400,
        'invalid_request',
      );
      assertOAuthError(await login(t, app, '', PASSWORD), 400, 'invalid_request');
    });

    it('answers injection-shaped usernames with invalid_grant and changes nothing', async () => {
      const usersBefore = await t.admin('GET', '/admin/users');
      const wrong = await login(t, app, 'alice', 'not the password either');
      const usernames = [
        "' OR 1=1 --",
        "alice' --",
        'admin\u0000',
        'alice\u0000',
        '%',
        '_',
        'x'.repeat(1000),
        '{"$ne":null}',
        'alice\r\nX-Injected: 1',
      ];
      const answers = await Promise.all(usernames.map((username) => login(t, app, username, PASSWORD)));
      answers.forEach((r, i) => {
        assertOAuthError(r, 400, 'invalid_grant');
        assert.deepEqual(r.body, wrong.body, `same answer as a wrong password for ${JSON.stringify(usernames[i]!.slice(0, 20))}`);
      });
      assert.deepEqual((await t.admin('GET', '/admin/users')).body, usersBefore.body, 'no user was created or changed');
      assertTokenResponse(await login(t, app, 'alice', PASSWORD));
    });
  });

  describe('refresh_token', () => {
    it('is invalid_grant for an unknown refresh token, invalid_request for none', async () => {
      assertOAuthError(await refresh(t, app, 'tsr_not-a-real-token'), 400, 'invalid_grant');
      assertOAuthError(
        await postForm(t, '/oauth/token', { grant_type: 'refresh_token' }, { authorization: basic(app.id, app.secret!) }),
        400,
        'invalid_request',
      );
    });

    it('is unauthorized_client for a client without the grant', async () => {
      const r = await login(t, app, 'alice', PASSWORD);
      assertOAuthError(await refresh(t, svc, r.body.refresh_token!), 400, 'unauthorized_client');
    });
  });

  describe('errors (RFC 6749 section 5.2)', () => {
    const auth = () => ({ authorization: basic(svc.id, svc.secret!) });

    it('is invalid_request without grant_type', async () => {
      assertOAuthError(await postForm(t, '/oauth/token', {}, auth()), 400, 'invalid_request');
      assertOAuthError(await postForm(t, '/oauth/token', { grant_type: '' }, auth()), 400, 'invalid_request');
    });

    it('is unsupported_grant_type for grants the server does not offer', async () => {
      // authorization_code is offered, to the clients registered for it only.
      assertOAuthError(
        await postForm(
          t,
          '/oauth/token',
          { grant_type: 'authorization_code', code: 'c', redirect_uri: 'https://a.example/' },
          auth(),
        ),
        400,
        'unauthorized_client',
      );
      // The JWT bearer grant is offered too, to the clients registered for it (workload-identity.test.ts).
      assertOAuthError(
        await postForm(t, '/oauth/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'x' }, auth()),
        400,
        'unauthorized_client',
      );
      for (const grant of [
        'urn:x',
        'urn:ietf:params:oauth:grant-type:saml2-bearer',
        'implicit',
        '__proto__',
        'constructor',
        'toString',
      ]) {
        assertOAuthError(await postForm(t, '/oauth/token', { grant_type: grant }, auth()), 400, 'unsupported_grant_type');
      }
    });

    it('is invalid_request for a repeated parameter', async () => {
      const h = { 'content-type': FORM, ...auth() };
      assertOAuthError(
        await postRaw(t, '/oauth/token', 'grant_type=client_credentials&scope=a&scope=b', h),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await postRaw(t, '/oauth/token', 'grant_type=client_credentials&grant_type=client_credentials', h),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await postRaw(t, '/oauth/token', 'grant_type=client_credentials&resource=inventory&resource=inventory', h),
        400,
        'invalid_request',
      );
    });

    it('accepts a form content type with a charset parameter', async () => {
      assertTokenResponse(
        await postRaw(t, '/oauth/token', 'grant_type=client_credentials', {
          'content-type': `${FORM}; charset=UTF-8`,
          ...auth(),
        }),
      );
    });

    it('answers other content types with an OAuth error, never a crash', async () => {
      const h = auth();
      const cases: [string | undefined, string, number][] = [
        ['application/json', '{"grant_type":"client_credentials"}', 400],
        ['application/json', '{"grant_type":', 400],
        ['application/json', '', 400],
        ['application/json', '[1,2]', 400],
        ['text/plain', 'grant_type=client_credentials', 415],
        [
          'multipart/form-data; boundary=x',
          '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--\r\n',
          415,
        ],
        ['application/xml', '<grant_type>client_credentials</grant_type>', 415],
        [undefined, 'grant_type=client_credentials', 415],
        ['application/x-www-form-urlencodedx', 'grant_type=client_credentials', 415],
      ];
      for (const [type, body, status] of cases) {
        const r = await postRaw(t, '/oauth/token', body, type === undefined ? h : { ...h, 'content-type': type });
        assertOAuthError(r, status, 'invalid_request');
      }
      // No body at all.
      assertOAuthError(await postRaw(t, '/oauth/token', undefined, h), 400, 'invalid_request');
    });

    it('survives malformed form encodings', async () => {
      const h = { 'content-type': FORM, ...auth() };
      for (const body of [
        '%',
        '%zz=1&grant_type=client_credentials',
        '=&&=',
        'grant_type=%E0%A4%A',
        '\u0000=\u0000',
        'a'.repeat(5000),
      ]) {
        const r = await postRaw(t, '/oauth/token', body, h);
        assert.ok(r.status === 200 || r.status === 400, `${r.status} for ${JSON.stringify(body.slice(0, 20))}`);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        if (r.status === 400) assertOAuthError(r, 400, r.body.error!);
      }
      assertOAuthError(
        await postRaw(t, '/oauth/token', `grant_type=client_credentials&scope=${'a'.repeat(5000)}`, h),
        400,
        'invalid_request',
      );
    });

    it('refuses bodies over the 16 KiB limit with 413', async () => {
      const r = await postRaw(t, '/oauth/token', `grant_type=client_credentials&pad=${'a'.repeat(17_000)}`, {
        'content-type': FORM,
        ...auth(),
      });
      assertOAuthError(r, 413, 'invalid_request');
      // Without a Content-Length (chunked), the limit holds as the body streams in.
      const chunked = await chunkedPost(
        t,
        '/oauth/token',
        { 'content-type': FORM, ...auth() },
        Array.from({ length: 20 }, () => 'a'.repeat(1024)),
      );
      assert.equal(chunked.status, 413);
      assert.equal(chunked.cacheControl, 'no-store');
      assert.equal(JSON.parse(chunked.text).error, 'invalid_request');
      // Just under the limit is parsed; the unknown parameter is ignored (RFC 6749 section 3.2).
      assertTokenResponse(
        await postRaw(t, '/oauth/token', `grant_type=client_credentials&pad=${'a'.repeat(16_000)}`, {
          'content-type': FORM,
          ...auth(),
        }),
      );
    });

    it('refuses GET and other methods', async () => {
      const r = await fetch(`${t.url}/oauth/token?grant_type=client_credentials`, { headers: auth() });
      assert.ok(r.status === 404 || r.status === 405, String(r.status));
      await r.body?.cancel();
    });

    it('is still up after all of the above', async () => {
      assert.equal((await get(t, '/healthz')).status, 200);
      assertTokenResponse(await clientCredentials(t, svc));
    });
  });
});
