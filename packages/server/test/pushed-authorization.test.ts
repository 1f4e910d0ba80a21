import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { generateKey, signJwt } from '@tessera/core';
import { SteppedClock } from '@tessera/testing';
import * as oidc from 'openid-client';

import {
  authorizationResponseParams,
  contextOf,
  issueAuthorizationCode,
  parseForm,
  queryRedirect,
  REQUEST_URI_PREFIX,
  resolveAuthorizationRequest,
  startBrowserSession,
  type CheckedAuthorization,
  type GrantType,
} from '@tessera/server/internal';

import { assertOAuthError, get, postForm, withBasic, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * Pushed authorization requests (RFC 9126): POST /oauth/par over HTTP on a real server, the client authenticated
 * as at the token endpoint, the request checked by the authorization request checker and kept by digest; then
 * resolveAuthorizationRequest, what /authorize calls, hands back the checked request once. openid-client's
 * buildAuthorizationUrlWithPAR pushes as a real client does.
 */
describe('pushed authorization requests', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  let portal: ClientCreds;
  let alice: string;
  const REDIRECT = 'https://app.example.com/cb';
  const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
  const CHALLENGE = challengeOf(randomBytes(32).toString('base64url'));
  const request = (extra: Record<string, string> = {}) => ({
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    scope: 'orders:read',
    state: 'st-1',
    ...extra,
  });

  before(async () => {
    t = await startServer({ now: clock.now });
    const flow = {
      grantTypes: ['authorization_code', 'refresh_token'] as GrantType[],
      scopes: ['orders:read'],
      audiences: ['api'],
      redirectUris: [REDIRECT],
    };
    await t.client({ ...flow, id: 'spa', authMethod: 'none' });
    portal = await t.client({ ...flow, id: 'portal' });
    await t.client({ ...flow, id: 'strict', authMethod: 'none', requirePar: true });
    await t.client({ id: 'machine', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'reader', ['orders:read'], { replace: false });
    alice = await t.user('alice', 'correct horse battery', ['reader']);
  });
  after(() => t.close());

  const push = (params: Record<string, string>) => postForm(t, '/oauth/par', params);
  const resolve = async (query: Record<string, string> | string): Promise<CheckedAuthorization> =>
    (
      await resolveAuthorizationRequest(
        contextOf(t.server),
        parseForm(typeof query === 'string' ? query : new URLSearchParams(query).toString()),
      )
    ).checked;
  async function resolved(query: Record<string, string>) {
    const r = await resolve(query);
    assert.ok(r.ok, r.ok ? '' : `${r.error.error}: ${r.error.description}`);
    return r.request;
  }
  function refused(r: CheckedAuthorization, error: string, redirected = false) {
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.error, error, r.error.description);
    assert.equal(r.redirect !== undefined, redirected);
  }

  it('a confidential client pushes with client_secret_basic: 201, a request_uri that is not the digest, 60 s, no-store', async () => {
    const r = await withBasic(t, portal, '/oauth/par', request());
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const uri = r.body.request_uri as string;
    assert.match(uri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    assert.ok(uri.startsWith(REQUEST_URI_PREFIX));
    assert.equal(r.body.expires_in, 60);
    const store = contextOf(t.server).store;
    assert.ok(await store.authorizationRequests.get(contextOf(t.server).master.secretDigest(uri), clock.now()));
    assert.equal(await store.authorizationRequests.get(uri.slice(REQUEST_URI_PREFIX.length), clock.now()), undefined);
    const checked = await resolved({ client_id: 'portal', request_uri: uri });
    assert.equal(checked.client.id, 'portal');
    assert.equal(checked.redirectUri, REDIRECT);
    assert.equal(checked.codeChallenge, CHALLENGE);
    assert.equal(checked.state, 'st-1');
    assert.deepEqual(checked.scopes, ['orders:read']);
    assert.deepEqual(checked.audience, ['api']);
  });

  it('a public client pushes by client_id alone (RFC 9126 section 2); the client secret of a confidential one is never stored', async () => {
    const r = await push({ client_id: 'spa', ...request() });
    assert.equal(r.status, 201, r.text);
    const row = await contextOf(t.server).store.authorizationRequests.get(
      contextOf(t.server).master.secretDigest(r.body.request_uri as string),
      clock.now(),
    );
    assert.equal(row?.clientId, 'spa');
    const poster = await t.client({
      id: 'poster',
      authMethod: 'client_secret_post',
      grantTypes: ['authorization_code'],
      scopes: ['orders:read'],
      audiences: ['api'],
      redirectUris: [REDIRECT],
    });
    const post = await push({ client_id: 'poster', client_secret: poster.secret!, ...request() });
    assert.equal(post.status, 201, post.text);
    const stored = await contextOf(t.server).store.authorizationRequests.get(
      contextOf(t.server).master.secretDigest(post.body.request_uri as string),
      clock.now(),
    );
    assert.equal(stored?.params.client_secret, undefined);
    assert.equal(stored?.params.client_id, 'poster');
  });

  it('a private_key_jwt client pushes with an assertion for the PAR endpoint, naming itself by the assertion alone', async () => {
    const key = generateKey('ES256', { kid: 'par-key' });
    await t.client({
      id: 'signer',
      authMethod: 'private_key_jwt',
      jwks: { keys: [key.publicKey().toJwk()] },
      grantTypes: ['authorization_code'],
      scopes: ['orders:read'],
      audiences: ['api'],
      redirectUris: [REDIRECT],
    });
    const assertion = (aud: string) => {
      const now = Math.floor(clock.now() / 1000);
      return signJwt({ iss: 'signer', sub: 'signer', aud, iat: now, exp: now + 60, jti: randomBytes(8).toString('hex') }, key);
    };
    const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    for (const aud of [`${t.url}/oauth/par`, t.url]) {
      const r = await push({ ...request(), client_assertion_type: JWT_BEARER, client_assertion: assertion(aud) });
      assert.equal(r.status, 201, r.text);
      assert.equal((await resolved({ client_id: 'signer', request_uri: r.body.request_uri as string })).client.id, 'signer');
    }
    const elsewhere = assertion('https://elsewhere.example');
    assertOAuthError(
      await push({ ...request(), client_assertion_type: JWT_BEARER, client_assertion: elsewhere }),
      401,
      'invalid_client',
    );
  });

  it('client authentication is the token endpoint’s: a wrong secret, an unknown client, none at all, two methods', async () => {
    assertOAuthError(await withBasic(t, { id: 'portal', secret: 'wrong' }, '/oauth/par', request()), 401, 'invalid_client');
    assertOAuthError(await push({ client_id: 'nobody', ...request() }), 401, 'invalid_client');
    assertOAuthError(await push({ client_id: 'portal', ...request() }), 401, 'invalid_client');
    assertOAuthError(await push(request()), 401, 'invalid_client');
    assertOAuthError(
      await withBasic(t, portal, '/oauth/par', { ...request(), client_secret: portal.secret! }),
      400,
      'invalid_request',
    );
    assertOAuthError(await withBasic(t, portal, '/oauth/par', { ...request(), client_id: 'spa' }), 400, 'invalid_request');
  });

  it('the pushed parameters are checked as at /authorize, and a request_uri inside a pushed request is refused', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ request_uri: `${REQUEST_URI_PREFIX}abc` }, 'invalid_request'],
      [{ code_challenge: '' }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ redirect_uri: `${REDIRECT}/` }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'orders:write' }, 'invalid_scope'],
      [{ resource: 'elsewhere' }, 'invalid_target'],
    ];
    for (const [change, error] of cases) {
      const r = await push({ client_id: 'spa', ...request(change) });
      assertOAuthError(r, r.status === 401 ? 401 : 400, error);
    }
    assertOAuthError(await postForm(t, '/oauth/par', { client_id: 'machine', ...request() }), 401, 'invalid_client');
    const machine = await t.client({ id: 'machine-2', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    assertOAuthError(await withBasic(t, machine, '/oauth/par', request()), 400, 'unauthorized_client');
    const repeated = await fetch(`${t.url}/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `client_id=spa&${new URLSearchParams(request())}&scope=orders:read`,
    });
    assert.equal(repeated.status, 400);
    assert.equal(((await repeated.json()) as { error: string }).error, 'invalid_request');
  });

  it('a request_uri works once, for the client that pushed it only, and other query parameters are ignored', async () => {
    const uri = (await push({ client_id: 'spa', ...request() })).body.request_uri as string;
    // Another client's id: refused, and the request is not spent.
    refused(await resolve({ client_id: 'portal', request_uri: uri }), 'invalid_request_uri');
    refused(await resolve({ request_uri: uri }), 'invalid_request');
    const checked = await resolved({
      client_id: 'spa',
      request_uri: uri,
      redirect_uri: 'https://evil.example/cb',
      scope: 'orders:write',
      state: 'forged',
      code_challenge: 'x'.repeat(43),
    });
    assert.equal(checked.redirectUri, REDIRECT);
    assert.equal(checked.state, 'st-1');
    assert.equal(checked.codeChallenge, CHALLENGE);
    assert.deepEqual(checked.scopes, ['orders:read']);
    refused(await resolve({ client_id: 'spa', request_uri: uri }), 'invalid_request_uri');
    refused(await resolve({ client_id: 'spa', request_uri: 'urn:ietf:params:oauth:request_uri:unknown' }), 'invalid_request_uri');
    refused(await resolve({ client_id: 'spa', request_uri: 'https://app.example.com/request.jwt' }), 'invalid_request_uri');
    refused(await resolve(`client_id=spa&request_uri=${encodeURIComponent(uri)}&request_uri=x`), 'invalid_request');
  });

  it('a pushed request expires after pushedRequestTtl, and of concurrent uses exactly one resolves', async () => {
    const late = (await push({ client_id: 'spa', ...request() })).body.request_uri as string;
    clock.advance(60_000);
    refused(await resolve({ client_id: 'spa', request_uri: late }), 'invalid_request_uri');
    const raced = (await push({ client_id: 'spa', ...request() })).body.request_uri as string;
    const results = await Promise.all(Array.from({ length: 6 }, () => resolve({ client_id: 'spa', request_uri: raced })));
    assert.equal(results.filter((r) => r.ok).length, 1);
  });

  it('a client that requires PAR is refused at /authorize without it (back at its redirect URI) and served with it', async () => {
    refused(await resolve({ client_id: 'strict', ...request() }), 'invalid_request', true);
    const uri = (await push({ client_id: 'strict', ...request() })).body.request_uri as string;
    assert.equal((await resolved({ client_id: 'strict', request_uri: uri })).client.id, 'strict');
    // A request without request_uri goes through the same checker as before.
    assert.equal((await resolved({ client_id: 'spa', ...request() })).client.id, 'spa');
  });

  it('a pushed request is checked again when used: a client disabled since the push is refused', async () => {
    const uri = (await push({ client_id: 'spa', ...request() })).body.request_uri as string;
    await t.server.admin.clients.setDisabled({ actor: 'test', ip: 'local' }, 'spa', true);
    try {
      refused(await resolve({ client_id: 'spa', request_uri: uri }), 'invalid_client');
    } finally {
      await t.server.admin.clients.setDisabled({ actor: 'test', ip: 'local' }, 'spa', false);
    }
  });

  it('another method than POST is answered 405 (RFC 9126 section 2.3)', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await fetch(`${t.url}/oauth/par`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'OPTIONS, POST');
    }
  });

  it('pushedRequestTtl sets the lifetime the answer states and the store keeps', async () => {
    const short = await startServer({ now: clock.now, overrides: { pushedRequestTtl: 5 } });
    try {
      await short.client({
        id: 'spa',
        authMethod: 'none',
        grantTypes: ['authorization_code'],
        scopes: ['orders:read'],
        audiences: ['api'],
        redirectUris: [REDIRECT],
      });
      const r = await postForm(short, '/oauth/par', { client_id: 'spa', ...request() });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.expires_in, 5);
      const row = await contextOf(short.server).store.authorizationRequests.get(
        contextOf(short.server).master.secretDigest(r.body.request_uri as string),
        clock.now(),
      );
      assert.equal(row!.expiresAt - row!.createdAt, 5_000);
    } finally {
      await short.close();
    }
  });

  it('the metadata names the PAR endpoint (RFC 9126 section 5)', async () => {
    const r = await get(t, '/.well-known/oauth-authorization-server');
    assert.equal(r.body.pushed_authorization_request_endpoint, `${t.url}/oauth/par`);
    assert.equal(r.body.require_pushed_authorization_requests, false);
  });

  it('interop: openid-client pushes with buildAuthorizationUrlWithPAR, the code it gets is redeemed and refreshed', async () => {
    const discovered = await oidc.discovery(new URL(t.url), 'portal', portal.secret!, oidc.ClientSecretBasic(portal.secret!), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    // The authorization endpoint's path, as the /authorize route will serve it (not in this branch's metadata yet).
    const config = new oidc.Configuration(
      {
        ...(Object.fromEntries(
          Object.entries(discovered.serverMetadata()).filter(([, v]) => typeof v !== 'function'),
        ) as oidc.ServerMetadata),
        authorization_endpoint: `${t.url}/authorize`,
      },
      'portal',
      portal.secret!,
      oidc.ClientSecretBasic(portal.secret!),
    );
    oidc.allowInsecureRequests(config);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT,
      scope: 'orders:read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const checked = await resolved(Object.fromEntries(url.searchParams));
    assert.equal(checked.state, state);
    // The user signs in (what the hosted login does) and the code goes back to the client with state and iss.
    const ctx = contextOf(t.server);
    const { session } = await startBrowserSession(ctx, alice, undefined);
    const code = await issueAuthorizationCode(ctx, checked, (await ctx.store.users.getById(alice))!, session);
    const callback = new URL(queryRedirect(REDIRECT, authorizationResponseParams(checked, ctx.config.issuer, { code })));
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.scope, 'orders:read');
    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.equal(refreshed.scope, 'orders:read');
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  });
});
