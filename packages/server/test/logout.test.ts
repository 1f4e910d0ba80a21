/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at /logout, the end_session_endpoint: the URL built
 * by openid-client from the discovered metadata, a browser session started as the hosted login starts it, the ID
 * token from a code redeemed at the token endpoint. The session ends only for a valid id_token_hint of its user or
 * a confirmation from this server's own page; the browser is redirected only to a URI registered for the hint's
 * client.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';

import {
  contextOf,
  currentBrowserSession,
  issueAuthorizationCode,
  MESSAGES,
  startBrowserSession,
  type AuthorizationRequest,
  type BrowserSession,
} from '@tessera/server/internal';

import { clientCredentials, postForm, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';
import { alertText, hiddenField, unescapeHtml } from './helpers/sign-in.js';

const REDIRECT = 'https://rp.example.com/cb';
const AFTER_LOGOUT = 'https://rp.example.com/bye';

describe('RP-initiated logout', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  let alice: string;
  let bob: string;
  let config: oidc.Configuration;
  let svc: ClientCreds;

  before(async () => {
    t = await startServer({ now: clock.now });
    const rp = { grantTypes: ['authorization_code'], scopes: ['openid'], audiences: ['api'], redirectUris: [REDIRECT] } as const;
    const input = { ...rp, grantTypes: [...rp.grantTypes], scopes: [...rp.scopes], audiences: [...rp.audiences] };
    await t.client({ ...input, redirectUris: [REDIRECT], id: 'rp', authMethod: 'none', postLogoutRedirectUris: [AFTER_LOGOUT] });
    await t.client({
      ...input,
      redirectUris: [REDIRECT],
      id: 'other',
      authMethod: 'none',
      postLogoutRedirectUris: ['https://other.example.com/bye'],
    });
    await t.client({
      ...input,
      redirectUris: [REDIRECT],
      id: 'native',
      authMethod: 'none',
      postLogoutRedirectUris: ['http://127.0.0.1/bye'],
    });
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    alice = await t.user('alice', 'correct horse battery');
    bob = await t.user('bob', 'correct horse battery');
    config = await oidc.discovery(new URL(t.url), 'rp', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  });
  after(() => t.close());

  const ctx = () => contextOf(t.server);

  /**
   * An ID token for `userId` and `clientId`, from a code redeemed at the token endpoint, issued in `session` (a
   * browser session of its own when absent).
   */
  async function idTokenOf(userId: string, clientId = 'rp', session?: Pick<BrowserSession, 'id' | 'authTime'>): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const request: AuthorizationRequest = {
      client: (await ctx().store.clients.get(clientId))!,
      redirectUri: REDIRECT,
      responseMode: 'query',
      state: undefined,
      scopes: ['openid'],
      audience: ['api'],
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    };
    const issuedIn = session ?? (await startBrowserSession(ctx(), userId, undefined)).session;
    const code = await issueAuthorizationCode(ctx(), request, (await ctx().store.users.getById(userId))!, issuedIn);
    const r = await postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.id_token as string;
  }

  /** A signed-in browser: its session id and Cookie header. */
  async function browserOf(userId: string) {
    const { id, session } = await startBrowserSession(ctx(), userId, undefined);
    return { id, session, cookie: `__Host-tessera-session=${id}` };
  }

  const signedIn = async (id: string) => (await currentBrowserSession(ctx(), id)) !== undefined;

  async function logout(url: URL | string, cookie?: string, init: RequestInit = {}) {
    const res = await fetch(url, { redirect: 'manual', ...init, headers: { ...(cookie ? { cookie } : {}), ...init.headers } });
    const answer = { status: res.status, headers: res.headers, text: await res.text() };
    if (res.status !== 303) assertHostedPage(answer);
    return answer;
  }

  /** Every page of /logout is a hosted page: HTML with the pages' CSP (no framing, forms to this server only), not cached. */
  function assertHostedPage(r: { headers: Headers; text: string }) {
    assert.match(r.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    assert.equal(
      r.headers.get('content-security-policy'),
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.match(r.text, /<link rel="stylesheet" href="[^"]*assets&#x2F;tessera\.css/);
  }

  it('the metadata names /logout; openid-client builds the URL; a valid hint ends the session and redirects with state', async () => {
    assert.equal(config.serverMetadata().end_session_endpoint, `${t.url}/logout`);
    const browser = await browserOf(alice);
    const url = oidc.buildEndSessionUrl(config, {
      id_token_hint: await idTokenOf(alice),
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 'st&te=1',
    });
    const r = await logout(url, browser.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), `${AFTER_LOGOUT}?state=st%26te%3D1`);
    assert.match(
      r.headers.get('set-cookie') ?? '',
      /^__Host-tessera-session=; Max-Age=0; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
    );
    assert.equal(await signedIn(browser.id), false, 'the session is gone from the store');
  });

  it('an expired id_token_hint of this session still ends it (its signature and issuer are what count)', async () => {
    const browser = await browserOf(alice);
    const hint = await idTokenOf(alice, 'rp', browser.session);
    // Past the ID token's lifetime (5 minutes), within the session's idle lifetime (30 minutes).
    clock.advance(10 * 60_000);
    const r = await logout(`${t.url}/logout?${new URLSearchParams({ id_token_hint: hint })}`, browser.cookie);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    assert.ok(r.text.includes(MESSAGES.loggedOut.message), r.text);
    assert.equal(await signedIn(browser.id), false);
  });

  it('stale-hint-logout: an ID token of an earlier session of the same user asks instead of ending this one', async () => {
    const stale = await idTokenOf(alice);
    clock.advance(2_000);
    const browser = await browserOf(alice);
    const r = await logout(`${t.url}/logout?${new URLSearchParams({ id_token_hint: stale })}`, browser.cookie);
    assert.equal(r.status, 200);
    assert.ok(r.text.includes(MESSAGES.logout.confirmMessage), r.text);
    assert.equal(await signedIn(browser.id), true);
  });

  it('POST works as GET', async () => {
    const browser = await browserOf(alice);
    const r = await logout(`${t.url}/logout`, browser.cookie, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id_token_hint: await idTokenOf(alice), post_logout_redirect_uri: AFTER_LOGOUT }).toString(),
    });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), AFTER_LOGOUT);
    assert.equal(await signedIn(browser.id), false);
  });

  it('a loopback post_logout_redirect_uri matches on any port, as a redirect URI does (RFC 8252 section 7.3); nothing else varies', async () => {
    const hint = await idTokenOf(alice, 'native');
    const ok = await logout(
      `${t.url}/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: 'http://127.0.0.1:5005/bye' })}`,
    );
    assert.equal(ok.status, 303, ok.text);
    assert.equal(ok.headers.get('location'), 'http://127.0.0.1:5005/bye');
    for (const uri of [
      'http://127.0.0.1:5005/bye/',
      'http://localhost:5005/bye',
      'https://127.0.0.1:5005/bye',
      'http://127.0.0.1:5005/other',
    ]) {
      const r = await logout(`${t.url}/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: uri })}`);
      assert.equal(r.status, 400, uri);
      assert.equal(r.headers.get('location'), null, uri);
    }
  });

  it('logout-open-redirect: a post_logout_redirect_uri not registered exactly for the hint’s client is refused on a page', async () => {
    const browser = await browserOf(alice);
    const hint = await idTokenOf(alice);
    for (const uri of [
      'https://evil.example.com/bye',
      `${AFTER_LOGOUT}/`,
      `${AFTER_LOGOUT}?x=1`,
      'https://RP.example.com/bye',
      'https://rp.example.com@evil.example.com/bye',
      'https://other.example.com/bye',
    ]) {
      const r = await logout(
        `${t.url}/logout?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: uri })}`,
        browser.cookie,
      );
      assert.equal(r.status, 400, uri);
      assert.equal(r.headers.get('location'), null, uri);
      assert.equal(alertText(r.text), MESSAGES.logout.refused, uri);
      assert.match(r.text, /not registered for this client/, uri);
    }
    // Without a hint, no redirect at all: the client cannot be known.
    const bare = await logout(
      `${t.url}/logout?${new URLSearchParams({ post_logout_redirect_uri: AFTER_LOGOUT })}`,
      browser.cookie,
    );
    assert.equal(bare.status, 400);
    assert.equal(bare.headers.get('location'), null);
    // A client_id that is not the hint's audience.
    const mixed = await logout(
      `${t.url}/logout?${new URLSearchParams({ id_token_hint: hint, client_id: 'other', post_logout_redirect_uri: AFTER_LOGOUT })}`,
      browser.cookie,
    );
    assert.equal(mixed.status, 400);
    assert.equal(await signedIn(browser.id), true, 'a refused request ends nothing');
  });

  it('forged-id-token-hint: a foreign key, a tampered payload, an access token or garbage is no hint', async () => {
    const browser = await browserOf(alice);
    const real = await idTokenOf(alice);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: alice, aud: 'rp', iss: t.url })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: decodeProtectedHeader(real).kid! })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const [h, p, s] = real.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: bob })).toString('base64url')}.${s}`;
    const access = (await clientCredentials(t, svc)).body.access_token!;
    for (const hint of [forged, tampered, access, 'not.a.token']) {
      const r = await logout(`${t.url}/logout?${new URLSearchParams({ id_token_hint: hint })}`, browser.cookie);
      assert.equal(r.status, 400);
      assert.equal(alertText(r.text), MESSAGES.logout.refused);
      assert.match(r.text, /id_token_hint is not valid/);
    }
    assert.equal(await signedIn(browser.id), true);
  });

  it('without a hint of the signed-in user, the user is asked; only a POST from this origin confirms (CSRF)', async () => {
    const browser = await browserOf(alice);
    const state = '"><script>alert(1)</script>';
    const asked = await logout(
      `${t.url}/logout?${new URLSearchParams({ id_token_hint: await idTokenOf(bob), post_logout_redirect_uri: AFTER_LOGOUT, state })}`,
      browser.cookie,
    );
    assert.equal(asked.status, 200);
    assert.ok(asked.text.includes(MESSAGES.logout.confirmTitle), asked.text);
    assert.equal(unescapeHtml(/<form method="post" action="([^"]*)">/.exec(asked.text)?.[1] ?? ''), `${t.url}/logout`);
    assert.ok(!asked.text.includes('<script>'), 'the carried parameters are escaped');
    assert.match(asked.text, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;&#x2F;script&gt;"/);
    assert.equal(unescapeHtml(hiddenField(asked.text, 'state')), state);
    assert.equal(unescapeHtml(hiddenField(asked.text, 'post_logout_redirect_uri')), AFTER_LOGOUT);
    assert.equal(hiddenField(asked.text, 'confirm'), 'yes');
    assert.equal(asked.headers.get('referrer-policy'), 'same-origin', 'so that the browser sends the confirmation’s Origin');
    assert.match(asked.text, /<meta name="referrer" content="same-origin">/);
    assert.equal(await signedIn(browser.id), true, 'a hint of another user ends nothing by itself');
    assert.equal((await logout(`${t.url}/logout`, browser.cookie)).status, 200);
    assert.equal(await signedIn(browser.id), true, 'nor does a bare GET (a link on any site)');

    const bobsHint = await idTokenOf(bob);
    const confirm = (origin: string) =>
      logout(`${t.url}/logout`, browser.cookie, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({
          confirm: 'yes',
          post_logout_redirect_uri: AFTER_LOGOUT,
          id_token_hint: bobsHint,
          state: 's',
        }).toString(),
      });
    const foreign = await confirm('https://evil.example.com');
    assert.equal(foreign.status, 200);
    assert.ok(foreign.text.includes(MESSAGES.logout.confirmTitle), foreign.text);
    assert.equal(await signedIn(browser.id), true);
    // An opaque origin (a sandboxed frame, a page under no-referrer) is not this server's page either.
    const opaque = await confirm('null');
    assert.ok(opaque.text.includes(MESSAGES.logout.confirmTitle), opaque.text);
    assert.equal(await signedIn(browser.id), true);
    const here = await confirm(new URL(t.url).origin);
    assert.equal(here.status, 303);
    assert.equal(here.headers.get('location'), `${AFTER_LOGOUT}?state=s`);
    assert.equal(await signedIn(browser.id), false);
  });

  it('with no session: the page says signed out (a stale cookie is cleared), or the registered redirect is followed', async () => {
    const stale = await logout(`${t.url}/logout`, `__Host-tessera-session=tsb_${'A'.repeat(43)}`);
    assert.equal(stale.status, 200);
    assert.ok(stale.text.includes(MESSAGES.loggedOut.message), stale.text);
    assert.match(stale.headers.get('set-cookie') ?? '', /Max-Age=0/);
    const r = await logout(
      `${t.url}/logout?${new URLSearchParams({ id_token_hint: await idTokenOf(alice), post_logout_redirect_uri: AFTER_LOGOUT })}`,
    );
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), AFTER_LOGOUT);
  });
});
