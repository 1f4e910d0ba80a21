/**
 * OpenID Connect (Core 1.0, Discovery 1.0) with real clients: openid-client v6 discovers the server, redeems
 * codes with PKCE and a nonce, validates the ID tokens by its own rules and reads /userinfo; jose verifies the ID
 * tokens against the published JWKS. Codes are issued as /authorize will issue them (issueAuthorizationCode on
 * the server's context, the redirect built by authorizationResponseParams); everything else goes over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';

import {
  authorizationResponseParams,
  contextOf,
  issueAuthorizationCode,
  startBrowserSession,
  queryRedirect,
  type AuthorizationRequest,
  type ClientInput,
} from '@tessera/server/internal';

import { introspect, postForm, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'https://rp.example.com/cb';

/** openid-client's refusal whose cause (oauth4webapi's check) says `message`. */
const causedBy = (message: string) => (err: unknown) => {
  assert.equal((err as { cause?: Error }).cause?.message, message);
  return true;
};
const ID_TOKEN_TTL = 120;

describe('OpenID Connect', () => {
  let t: TestServer;
  let rs: ClientCreds;
  /** A public client with ES256 ID tokens (the server's default). */
  let spa: ClientCreds;
  /** A confidential client registered for RS256 ID tokens. */
  let web: ClientCreds;
  let alice: string;

  before(async () => {
    t = await startServer({ overrides: { idTokenTtl: ID_TOKEN_TTL } });
    rs = await t.client({ id: 'api', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    /** A client of the code flow (refresh tokens too) for the API. */
    const codeClient = (extra: Pick<ClientInput, 'id' | 'scopes'> & Partial<ClientInput>) =>
      t.client({ grantTypes: ['authorization_code', 'refresh_token'], audiences: ['api'], redirectUris: [REDIRECT], ...extra });
    spa = await codeClient({ id: 'spa', authMethod: 'none', scopes: ['openid', 'profile', 'email', 'orders:read'] });
    web = await codeClient({ id: 'web', scopes: ['openid', 'profile', 'orders:read'], idTokenSignedResponseAlg: 'RS256' });
    await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'reader', ['orders:read'], { replace: false });
    alice = await t.user('alice', 'correct horse battery', ['reader']);
    const profile = { name: 'Alice Example', given_name: 'Alice', email: 'alice@example.com', email_verified: true };
    assert.equal((await t.admin('PATCH', `/admin/users/${alice}`, profile)).status, 200);
  });
  after(() => t.close());

  /** openid-client's configuration for a client, discovered from /.well-known/openid-configuration. */
  function configFor(client: ClientCreds, idTokenAlg: string): Promise<oidc.Configuration> {
    const auth = client.secret === undefined ? oidc.None() : oidc.ClientSecretBasic(client.secret);
    return oidc.discovery(new URL(t.url), client.id, { id_token_signed_response_alg: idTokenAlg }, auth, {
      execute: [oidc.allowInsecureRequests],
    });
  }

  /**
   * The redirect back to the client after alice signs in (amr pwd): a code issued as /authorize issues it, for a
   * request with PKCE, state and nonce built by openid-client.
   */
  async function signIn(clientId: string, scopes: string[], nonce: string | undefined, userId = alice) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const ctx = contextOf(t.server);
    const request: AuthorizationRequest = {
      client: (await ctx.store.clients.get(clientId))!,
      redirectUri: REDIRECT,
      responseMode: 'query',
      state,
      scopes,
      audience: ['api'],
      codeChallenge: await oidc.calculatePKCECodeChallenge(verifier),
      ...(nonce !== undefined ? { nonce } : {}),
    };
    const user = (await ctx.store.users.getById(userId))!;
    const authTime = ctx.now() - 5_000;
    const { session } = await startBrowserSession(ctx, userId, undefined);
    const code = await issueAuthorizationCode(ctx, request, user, { id: session.id, authTime }, { amr: ['pwd'] });
    const params = authorizationResponseParams({ redirectUri: REDIRECT, responseMode: 'query', state }, t.url, { code });
    return { url: new URL(queryRedirect(REDIRECT, params)), verifier, state, authTime };
  }

  /** The public client's code redeemed at the token endpoint without openid-client (to see the raw response). */
  const redeem = (url: URL, verifier: string) =>
    postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code: url.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });

  async function jwks() {
    const metadata = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
    return createRemoteJWKSet(new URL(metadata.jwks_uri));
  }

  it('discovery: openid-client takes the metadata; both documents are one; every endpoint it names answers', async () => {
    const config = await configFor(spa, 'ES256');
    const m = config.serverMetadata();
    assert.equal(m.issuer, t.url);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.response_modes_supported, ['query', 'form_post']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.subject_types_supported, ['public']);
    assert.deepEqual(m.id_token_signing_alg_values_supported, ['ES256', 'RS256']);
    assert.deepEqual(m.scopes_supported, ['openid', 'profile', 'email', 'offline_access']);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.equal(m.require_pushed_authorization_requests, false);
    assert.equal(m.userinfo_endpoint, `${t.url}/userinfo`);
    assert.equal(m.authorization_endpoint, `${t.url}/authorize`);
    assert.equal(m.end_session_endpoint, `${t.url}/logout`);
    for (const claim of ['sub', 'auth_time', 'nonce', 'acr', 'amr', 'name', 'email', 'email_verified', 'preferred_username'])
      assert.ok(m.claims_supported?.includes(claim), claim);
    const rfc8414 = await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(rfc8414, await (await fetch(`${t.url}/.well-known/openid-configuration`)).json());
    // The endpoints the server serves itself (authorization_endpoint is the hosted login's route).
    assert.equal((await fetch(m.jwks_uri!)).status, 200);
    assert.equal((await fetch(m.userinfo_endpoint!)).status, 401);
    for (const endpoint of [m.token_endpoint!, m.revocation_endpoint!, m.introspection_endpoint!])
      assert.notEqual((await fetch(endpoint, { method: 'POST' })).status, 404, endpoint);
  });

  it('a public client redeems a code with PKCE and a nonce; openid-client validates the ES256 ID token', async () => {
    const config = await configFor(spa, 'ES256');
    const nonce = oidc.randomNonce();
    const { url, verifier, state, authTime } = await signIn('spa', ['openid', 'profile', 'orders:read'], nonce);
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    assert.equal(tokens.scope, 'openid profile orders:read');
    const claims = tokens.claims()!;
    assert.equal(claims.iss, t.url);
    assert.equal(claims.sub, alice);
    assert.equal(claims.aud, 'spa');
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.auth_time, Math.floor(authTime / 1000));
    assert.equal(claims.acr, '0', 'no assurance level claimed');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.exp - claims.iat, ID_TOKEN_TTL);
    assert.equal(claims.azp, undefined, 'one audience, the client: no azp');
    // The session of the ID token is the session of the access token.
    const access = await introspect(t, rs, tokens.access_token);
    assert.equal(access.body.active, true);
    assert.equal(claims.sid, access.body.sid);
    // Profile claims are read from /userinfo, not carried in the ID token (an access token was issued).
    for (const c of ['name', 'email', 'preferred_username']) assert.equal(claims[c], undefined, c);

    const header = decodeProtectedHeader(tokens.id_token!);
    assert.deepEqual([header.alg, header.typ], ['ES256', 'JWT']);
    const { payload } = await jwtVerify(tokens.id_token!, await jwks(), {
      issuer: t.url,
      audience: 'spa',
      algorithms: ['ES256'],
    });
    assert.equal(payload.sub, alice);
  });

  it('a client registered for RS256 gets RS256 ID tokens, signed by the RS256 key of the JWKS', async () => {
    const config = await configFor(web, 'RS256');
    const nonce = oidc.randomNonce();
    const { url, verifier, state } = await signIn('web', ['openid', 'orders:read'], nonce);
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const header = decodeProtectedHeader(tokens.id_token!);
    assert.equal(header.alg, 'RS256');
    const published = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] };
    assert.equal(published.keys.find((k) => k.kid === header.kid)?.alg, 'RS256');
    const { payload } = await jwtVerify(tokens.id_token!, await jwks(), {
      issuer: t.url,
      audience: 'web',
      algorithms: ['RS256'],
    });
    assert.equal((payload as JWTPayload & { nonce: string }).nonce, nonce);
    // The access token stays ES256: the RS256 key signs ID tokens only.
    assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
  });

  it('id-token-alg-follows-registration: an RP that expects RS256 refuses the ES256 ID token of an ES256 client', async () => {
    const config = await configFor(spa, 'RS256');
    const nonce = oidc.randomNonce();
    const { url, verifier, state } = await signIn('spa', ['openid'], nonce);
    await assert.rejects(
      oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }),
      causedBy('unexpected JWT "alg" header parameter'),
    );
  });

  it('nonce-mismatch: openid-client refuses an ID token whose nonce is not the one it sent', async () => {
    const config = await configFor(spa, 'ES256');
    const { url, verifier, state } = await signIn('spa', ['openid'], oidc.randomNonce());
    await assert.rejects(
      oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'another' }),
      causedBy('unexpected ID Token "nonce" claim value'),
    );
  });

  it('mix-up: the authorization response names its issuer (RFC 9207), so openid-client refuses one from another issuer or none', async () => {
    const config = await configFor(spa, 'ES256');
    for (const iss of ['https://attacker.example', undefined]) {
      const { url, verifier, state } = await signIn('spa', ['openid'], undefined);
      assert.equal(url.searchParams.get('iss'), t.url);
      if (iss === undefined) url.searchParams.delete('iss');
      else url.searchParams.set('iss', iss);
      await assert.rejects(oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state }));
    }
  });

  it('state-replay: a response carrying another sign-in’s state is refused by the client; its code, once used, never again', async () => {
    const config = await configFor(spa, 'ES256');
    const first = await signIn('spa', ['openid'], undefined);
    const second = await signIn('spa', ['openid'], undefined);
    await assert.rejects(
      oidc.authorizationCodeGrant(config, first.url, { pkceCodeVerifier: first.verifier, expectedState: second.state }),
    );
    await oidc.authorizationCodeGrant(config, first.url, { pkceCodeVerifier: first.verifier, expectedState: first.state });
    await assert.rejects(
      oidc.authorizationCodeGrant(config, first.url, { pkceCodeVerifier: first.verifier, expectedState: first.state }),
      (err: unknown) => (err as { error?: string }).error === 'invalid_grant',
    );
  });

  it('id-token-as-access-token: the ID token is not an access token (introspection, userinfo refuse it)', async () => {
    const config = await configFor(spa, 'ES256');
    const { url, verifier, state } = await signIn('spa', ['openid'], undefined);
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.claims()!.nonce, undefined, 'no nonce asked, none stated');
    assert.equal((await introspect(t, rs, tokens.id_token!)).body.active, false);
    const r = await fetch(`${t.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.id_token!}` } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('no openid scope, no ID token', async () => {
    const { url, verifier } = await signIn('spa', ['orders:read'], oidc.randomNonce());
    const r = await redeem(url, verifier);
    assert.equal(r.status, 200);
    assert.equal(r.body.id_token, undefined);
  });

  it('userinfo: openid-client reads sub and the claims of the granted scopes from the user record (GET and POST)', async () => {
    const config = await configFor(spa, 'ES256');
    const { url, verifier, state } = await signIn('spa', ['openid', 'profile', 'email'], undefined);
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, alice);
    const user = (await t.admin('GET', `/admin/users/${alice}`)).body;
    assert.deepEqual(info, {
      sub: alice,
      name: 'Alice Example',
      given_name: 'Alice',
      preferred_username: 'alice',
      updated_at: user.updated_at,
      email: 'alice@example.com',
      email_verified: true,
    });
    const post = await fetch(`${t.url}/userinfo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(post.status, 200);
    assert.equal(post.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await post.json(), info);

    // openid alone: the subject and nothing more.
    const bare = await signIn('spa', ['openid'], undefined);
    const only = await oidc.authorizationCodeGrant(config, bare.url, {
      pkceCodeVerifier: bare.verifier,
      expectedState: bare.state,
    });
    assert.deepEqual(await oidc.fetchUserInfo(config, only.access_token, alice), { sub: alice });
  });

  it('userinfo-insufficient-scope: a token without openid is refused with 403 insufficient_scope', async () => {
    const { url, verifier } = await signIn('spa', ['orders:read'], undefined);
    const r = await redeem(url, verifier);
    const res = await fetch(`${t.url}/userinfo`, { headers: { authorization: `Bearer ${r.body.access_token as string}` } });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer .*error="insufficient_scope"/);
    assert.equal(((await res.json()) as { error: string }).error, 'insufficient_scope');
  });

  it('userinfo-revoked-token: a revoked token, and a disabled user’s token, are refused with 401 invalid_token', async () => {
    const config = await configFor(spa, 'ES256');
    const first = await signIn('spa', ['openid', 'email'], undefined);
    const tokens = await oidc.authorizationCodeGrant(config, first.url, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
    });
    // RFC 7009 revocation by the public client itself (client_id, no secret).
    assert.equal((await postForm(t, '/oauth/revoke', { token: tokens.access_token, client_id: 'spa' })).status, 200);
    const res = await fetch(`${t.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

    const bob = await t.user('bob', 'another good passphrase', []);
    const bobsCode = await signIn('spa', ['openid'], undefined, bob);
    const bobs = await redeem(bobsCode.url, bobsCode.verifier);
    assert.equal(bobs.body.scope, 'openid', 'identity scopes need no role');
    const bearer = { authorization: `Bearer ${bobs.body.access_token as string}` };
    assert.equal((await fetch(`${t.url}/userinfo`, { headers: bearer })).status, 200);
    assert.equal((await t.admin('POST', `/admin/users/${bob}/disable`)).status, 200);
    const refused = await fetch(`${t.url}/userinfo`, { headers: bearer });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('userinfo without a token: 401 with a Bearer challenge and no error code (RFC 6750 section 3.1)', async () => {
    const res = await fetch(`${t.url}/userinfo`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="tessera"/);
  });

  it('refresh of an openid session: a new access token (userinfo still answers), no new ID token (Core 12.2)', async () => {
    const config = await configFor(spa, 'ES256');
    const { url, verifier, state } = await signIn('spa', ['openid', 'profile'], undefined);
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal(refreshed.id_token, undefined);
    assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, alice)).preferred_username, 'alice');
  });

  it('registration: id_token_signed_response_alg in RFC 7591 name, only the algorithms the server keeps keys for', async () => {
    const base = { grant_types: ['authorization_code'], redirect_uris: [REDIRECT], scope: 'openid', audiences: ['api'] };
    const ok = await t.admin('POST', '/admin/clients', { ...base, client_id: 'rp-rsa', id_token_signed_response_alg: 'RS256' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.id_token_signed_response_alg, 'RS256');
    const plain = await t.admin('POST', '/admin/clients', { ...base, client_id: 'rp-default' });
    assert.equal(plain.body.id_token_signed_response_alg, null);
    for (const alg of ['HS256', 'none', 'PS256', 'EdDSA']) {
      const r = await t.admin('POST', '/admin/clients', { ...base, client_id: `rp-${alg}`, id_token_signed_response_alg: alg });
      assert.equal(r.status, 400, alg);
    }
    const back = await t.admin('PATCH', '/admin/clients/rp-rsa', { id_token_signed_response_alg: null });
    assert.equal(back.body.id_token_signed_response_alg, null);
  });

  it('a client registered for an algorithm the server keeps no key for is refused before its code is spent', async () => {
    // Stored as an older configuration (signingAlg EdDSA) would have left it; the admin service refuses it now.
    await t.client({
      id: 'stale',
      authMethod: 'none',
      grantTypes: ['authorization_code'],
      scopes: ['openid'],
      audiences: ['api'],
      redirectUris: [REDIRECT],
      idTokenSignedResponseAlg: 'EdDSA',
    });
    const { url, verifier } = await signIn('stale', ['openid'], undefined);
    const exchange = () =>
      postForm(t, '/oauth/token', {
        grant_type: 'authorization_code',
        client_id: 'stale',
        code: url.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
    const refused = await exchange();
    assert.equal(refused.status, 500);
    assert.equal(refused.body.error, 'server_error');
    assert.equal((await t.admin('PATCH', '/admin/clients/stale', { id_token_signed_response_alg: null })).status, 200);
    const r = await exchange();
    assert.equal(r.status, 200, 'the code was not spent by the refusal');
    assert.equal(decodeProtectedHeader(r.body.id_token as string).alg, 'ES256');
  });

  it('nonce longer than 512 characters is refused by the authorization request check', async () => {
    const { checkAuthorization, parseForm } = await import('@tessera/server/internal');
    const ctx = contextOf(t.server);
    const form = (nonce: string) =>
      parseForm(
        new URLSearchParams({
          client_id: 'spa',
          redirect_uri: REDIRECT,
          response_type: 'code',
          scope: 'openid',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          nonce,
        }).toString(),
      );
    const getClient = (id: string) => ctx.store.clients.get(id);
    const ok = await checkAuthorization(form('n'.repeat(512)), getClient);
    assert.ok(ok.ok && ok.request.nonce === 'n'.repeat(512));
    const long = await checkAuthorization(form('n'.repeat(513)), getClient);
    assert.ok(!long.ok && long.error.error === 'invalid_request' && long.redirect !== undefined);
  });
});

describe('OpenID Connect in single-app mode', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ overrides: { singleApp: true, signingAlg: 'HS256' } });
  });
  after(() => t.close());

  it('offers none: no openid-configuration, no userinfo, and a client cannot be allowed openid', async () => {
    assert.equal((await fetch(`${t.url}/.well-known/openid-configuration`)).status, 404);
    assert.equal((await fetch(`${t.url}/userinfo`)).status, 404);
    const m = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(m.userinfo_endpoint, undefined);
    assert.equal(m.id_token_signing_alg_values_supported, undefined);
    const r = await t.admin('POST', '/admin/clients', {
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT],
      scope: 'openid',
      audiences: ['api'],
    });
    assert.equal(r.status, 400);
  });
});
