import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import { LOGIN_COOKIE, MESSAGES, SESSION_COOKIE, contextOf } from '@tessera/server/internal';
import { SteppedClock } from '@tessera/testing';

import { sample, scrape } from './helpers/metrics.js';
import { assertTokenResponse, auditEvents, login, postForm, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';
import {
  alertText,
  authorizationRequest,
  HandBrowser,
  hiddenField,
  loginForm,
  redirectParams,
  type PageAnswer,
} from './helpers/sign-in.js';

const REDIRECT = 'https://app.example.com/cb';
const PASSWORD = 'correct horse battery';
const MAX_FAILURES = 3;

/**
 * The authorization endpoint and the hosted login over HTTP, on a real server and a real SQLite file, with a
 * hand-driven browser (its own cookie jar) and a hand-driven public client (PKCE S256 computed here, the code
 * redeemed at /oauth/token): the flow end to end, single sign-on, prompt and max_age, the login form's
 * protections (anti-forgery token, shared throttle, no user enumeration, session fixation), form_post, redirect
 * URI variations refused on the error page, and the pages' headers.
 */
describe('sign-in through /authorize and the hosted login', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  let backend: ClientCreds;

  before(async () => {
    t = await startServer({
      now: clock.now,
      overrides: { loginMaxFailures: MAX_FAILURES, loginMaxFailuresPerAddress: 1_000 },
    });
    const flow = { grantTypes: ['authorization_code', 'refresh_token'], scopes: ['orders:read'], audiences: ['api'] } as const;
    const input = { grantTypes: [...flow.grantTypes], scopes: [...flow.scopes], audiences: [...flow.audiences] };
    await t.client({ ...input, id: 'spa', name: 'Orders', authMethod: 'none', redirectUris: [REDIRECT], firstParty: true });
    backend = await t.client({
      id: 'backend',
      grantTypes: ['password'],
      scopes: ['orders:read'],
      audiences: ['api'],
      firstParty: true,
    });
    await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'reader', ['orders:read'], { replace: false });
    await t.user('alice', PASSWORD, ['reader']);
  });
  after(() => t.close());

  /** An authorization request's query for the spa client, with a fresh PKCE pair and state. */
  /** An authorization request of the spa client for the scope orders:read (with `extra` over it). */
  const request = (extra: Record<string, string> = {}) =>
    authorizationRequest('spa', REDIRECT, { scope: 'orders:read', ...extra });
  const redeem = (code: string, verifier: string) =>
    postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: 'spa',
      redirect_uri: REDIRECT,
      code,
      code_verifier: verifier,
    });
  const verifications = async () => sample(await scrape(t), 'tessera_password_verifications_total') ?? 0;

  /** Signs alice (or `username`) in through a browser of its own; returns the browser and the redirect's parameters. */
  async function signIn(b = new HandBrowser(t), username = 'alice', extra: Record<string, string> = {}) {
    const r = request(extra);
    const page = await b.get(r.path);
    assert.equal(page.status, 200, page.text);
    const done = await b.post('/login', loginForm(page.text, username, PASSWORD));
    return { b, r, params: redirectParams(done, REDIRECT) };
  }

  function assertPageHeaders(a: PageAnswer): void {
    assert.match(a.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
    const csp = a.headers.get('content-security-policy') ?? '';
    for (const part of ["default-src 'none'", "style-src 'self'", "img-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"])
      assert.ok(csp.includes(part), `CSP has ${part}: ${csp}`);
    assert.ok(!csp.includes('unsafe-inline'), csp);
    assert.equal(a.headers.get('x-frame-options'), 'DENY');
    assert.equal(a.headers.get('cache-control'), 'no-store');
    assert.equal(a.headers.get('referrer-policy'), 'no-referrer');
  }

  it('signs in end to end: login page, password, code at the redirect URI with state and iss, tokens for the verifier', async () => {
    const b = new HandBrowser(t);
    const r = request();
    const page = await b.get(r.path);
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    // The form posts here, and its answer redirects to the client: browsers hold both to form-action.
    assert.match(page.headers.get('content-security-policy')!, new RegExp(`form-action 'self' ${REDIRECT};`));
    assert.match(page.text, /<html lang="en">/);
    assert.match(page.text, /<label for="username">/);
    assert.match(page.text, /<label for="password">/);
    assert.ok(page.text.includes(MESSAGES.login.intro('Orders')));
    assert.ok(b.cookies.has(LOGIN_COOKIE), 'the login key cookie is set');
    const loginCookie = page.headers.getSetCookie().find((c) => c.startsWith(`${LOGIN_COOKIE}=`))!;
    assert.match(loginCookie, /; Path=\/; Secure; HttpOnly; SameSite=Lax$/);

    const done = await b.post('/login', loginForm(page.text, 'alice', PASSWORD));
    assert.equal(done.status, 303);
    const params = redirectParams(done, REDIRECT);
    assert.equal(params.get('state'), r.state);
    assert.equal(params.get('iss'), t.url);
    const sessionCookie = done.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    assert.match(sessionCookie, /; Secure; HttpOnly; SameSite=Lax$/);

    const tokens = await redeem(params.get('code')!, r.verifier);
    assertTokenResponse(tokens);
    assert.equal(tokens.body.scope, 'orders:read');
    const claims = decodeUnverified(tokens.body.access_token!).payload;
    assert.equal(claims.sub, 'user-alice');
    assert.equal(claims.client_id, 'spa');

    const success = (await auditEvents(t, 'login.success')).filter((e) => e.client_id === 'spa');
    assert.ok(success.length >= 1, 'the hosted login is audited as login.success for its client');
  });

  it('single sign-on: a second authorization with the session cookie gets its code at once, no password verified', async () => {
    const { b } = await signIn();
    const before = await verifications();
    const r = request();
    const again = await b.get(r.path);
    assert.equal(again.status, 302);
    const params = redirectParams(again, REDIRECT);
    assert.equal(params.get('state'), r.state);
    assertTokenResponse(await redeem(params.get('code')!, r.verifier));
    assert.equal(await verifications(), before);
  });

  it('prompt=none without a session answers login_required at the redirect URI; with one, a code', async () => {
    const fresh = new HandBrowser(t);
    const r = request({ prompt: 'none' });
    const params = redirectParams(await fresh.get(r.path), REDIRECT);
    assert.equal(params.get('error'), 'login_required');
    assert.equal(params.get('state'), r.state);
    assert.equal(params.get('iss'), t.url);
    assert.equal(params.get('code'), null);

    const { b } = await signIn();
    const withSession = redirectParams(await b.get(request({ prompt: 'none' }).path), REDIRECT);
    assert.ok(withSession.get('code'));
  });

  it('prompt=login shows the login page despite a session; the new login starts a new session', async () => {
    const { b } = await signIn();
    const first = b.cookies.get(SESSION_COOKIE);
    const page = await b.get(request({ prompt: 'login' }).path);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('name="password"'));
    const done = await b.post('/login', loginForm(page.text, 'alice', PASSWORD));
    assert.ok(redirectParams(done, REDIRECT).get('code'));
    assert.notEqual(b.cookies.get(SESSION_COOKIE), first);
  });

  it('max_age: a session older than max_age asks for the password again; a younger one does not', async () => {
    const { b } = await signIn();
    clock.advance(120_000);
    assert.ok(redirectParams(await b.get(request({ max_age: '300' }).path), REDIRECT).get('code'));
    const old = await b.get(request({ max_age: '60' }).path);
    assert.equal(old.status, 200);
    assert.ok(old.text.includes('name="password"'));
    const none = redirectParams(await b.get(request({ max_age: '60', prompt: 'none' }).path), REDIRECT);
    assert.equal(none.get('error'), 'login_required');
    const bad = redirectParams(await b.get(request({ max_age: '-1' }).path), REDIRECT);
    assert.equal(bad.get('error'), 'invalid_request');
  });

  it('login_hint prefills the username field', async () => {
    const page = await new HandBrowser(t).get(request({ login_hint: 'alice' }).path);
    assert.match(page.text, /id="username"[^>]*value="alice"/);
  });

  it('login-csrf: a form without its token, with a wrong one, or with a token of another browser is refused before any password is verified', async () => {
    const victim = new HandBrowser(t);
    const page = await victim.get(request().path);
    const form = loginForm(page.text, 'alice', PASSWORD);
    const attacker = new HandBrowser(t);
    const attackerForm = loginForm((await attacker.get(request().path)).text, 'alice', PASSWORD);
    const before = await verifications();
    const withoutToken = Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'csrf'));
    const forged: Record<string, string>[] = [
      withoutToken,
      { ...form, csrf: '' },
      { ...form, csrf: hiddenField(page.text, 'csrf').replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) },
      { ...form, csrf: randomBytes(32).toString('base64url') },
      // The attacker's own pending request and its token, posted from the victim's browser (login CSRF).
      attackerForm,
      { ...form, request: attackerForm.request! },
    ];
    for (const params of forged) {
      const r = await victim.post('/login', params);
      assert.equal(r.status, 403, JSON.stringify(params));
      assertPageHeaders(r);
      assert.equal(alertText(r.text), MESSAGES.error.forgedForm);
      assert.equal(r.headers.get('location'), null);
    }
    // The right form from a browser without the login cookie.
    const cookieless = await fetch(`${t.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    assert.equal(cookieless.status, 403);
    assert.equal(await verifications(), before, 'no password was verified');
    assert.ok(redirectParams(await victim.post('/login', form), REDIRECT).get('code'), 'the genuine form still works');
  });

  it('no user enumeration: an unknown user, a wrong password and a disabled user get the same page', async () => {
    await t.user('dora', PASSWORD);
    await contextOf(t.server).store.users.update('user-dora', { disabled: true }, clock.now());
    await t.user('erin', PASSWORD);
    const attempt = async (username: string, password: string) => {
      const b = new HandBrowser(t);
      const page = await b.get(request().path);
      const r = await b.post('/login', loginForm(page.text, username, password));
      // The page without what differs by design: the echoed username and the form's one-time values.
      const text = r.text.replace(/value="[^"]*"/g, 'value=""').replace(/\?v=[^"]+/g, '');
      return { status: r.status, alert: alertText(r.text), text };
    };
    const unknown = await attempt('nobody-here', 'whatever');
    const wrong = await attempt('erin', 'not the password');
    const disabled = await attempt('dora', PASSWORD);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.alert, MESSAGES.login.badCredentials);
    assert.deepEqual(wrong, unknown);
    assert.deepEqual(disabled, unknown);
  });

  it('a missing username or password is asked for again without a password check', async () => {
    const b = new HandBrowser(t);
    const page = await b.get(request().path);
    const before = await verifications();
    const r = await b.post('/login', loginForm(page.text, 'alice', ''));
    assert.equal(r.status, 400);
    assert.equal(alertText(r.text), MESSAGES.login.missingFields);
    assert.equal(await verifications(), before);
    // The page again, with a form that still works.
    assert.ok(redirectParams(await b.post('/login', loginForm(r.text, 'alice', PASSWORD)), REDIRECT).get('code'));
  });

  it('login throttling is shared with the password grant: failures at either count for both', async () => {
    await t.user('frank', PASSWORD);
    await t.user('grace', PASSWORD);
    // frank: failures through the password grant, then the right password on the page is throttled.
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await login(t, backend, 'frank', 'wrong')).status, 400);
    const b = new HandBrowser(t);
    const page = await b.get(request().path);
    const before = await verifications();
    const throttled = await b.post('/login', loginForm(page.text, 'frank', PASSWORD));
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    assert.equal(alertText(throttled.text), MESSAGES.login.throttled(1));
    assert.equal(await verifications(), before, 'a throttled login verifies no password');

    // grace: failures on the page, then the password grant is throttled.
    for (let i = 0; i < MAX_FAILURES; i++) {
      const p = await b.get(request().path);
      assert.equal((await b.post('/login', loginForm(p.text, 'grace', 'wrong'))).status, 400);
    }
    const grant = await login(t, backend, 'grace', PASSWORD);
    assert.equal(grant.status, 429);
    assert.equal(grant.body.error, 'temporarily_unavailable');
  });

  it('session-fixation: a session id planted before the login never names the signed-in session', async () => {
    // The attacker's own live session, planted in the victim's browser.
    const { b: attacker } = await signIn();
    const planted = attacker.cookies.get(SESSION_COOKIE)!;
    const victim = new HandBrowser(t);
    victim.cookies.set(SESSION_COOKIE, planted);
    const page = await victim.get(request({ prompt: 'login' }).path);
    const done = await victim.post('/login', loginForm(page.text, 'alice', PASSWORD));
    assert.ok(redirectParams(done, REDIRECT).get('code'));
    const now = victim.cookies.get(SESSION_COOKIE);
    assert.ok(now && now !== planted, 'the session id changed at login');
    // The planted id ended with the login: it no longer signs anyone in.
    const replay = redirectParams(await attacker.get(request({ prompt: 'none' }).path), REDIRECT);
    assert.equal(replay.get('error'), 'login_required');
  });

  it('a pending request completes once: the same form posted again is refused', async () => {
    const b = new HandBrowser(t);
    const page = await b.get(request().path);
    const form = loginForm(page.text, 'alice', PASSWORD);
    assert.ok(redirectParams(await b.post('/login', form), REDIRECT).get('code'));
    const again = await b.post('/login', form);
    assert.equal(again.status, 400);
    assert.equal(alertText(again.text), MESSAGES.error.expired);
  });

  it('a pending request expires: after its lifetime the form is refused', async () => {
    const b = new HandBrowser(t);
    const page = await b.get(request().path);
    clock.advance(601_000);
    const r = await b.post('/login', loginForm(page.text, 'alice', PASSWORD));
    assert.equal(r.status, 400);
    assert.equal(alertText(r.text), MESSAGES.error.expired);
  });

  it('form_post: an auto-submitting form to the redirect URI, allowed by CSP with a nonce, with a button without JavaScript', async () => {
    const b = new HandBrowser(t);
    const r = request({ response_mode: 'form_post' });
    const page = await b.get(r.path);
    const done = await b.post('/login', loginForm(page.text, 'alice', PASSWORD));
    assert.equal(done.status, 200);
    assertPageHeaders(done);
    const csp = done.headers.get('content-security-policy')!;
    assert.match(csp, new RegExp(`form-action ${REDIRECT}(;|$)`));
    const nonce = /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.ok(done.text.includes(`<script nonce="${nonce}">`));
    assert.match(done.text, /<form method="post" action="https:&#x2F;&#x2F;app.example.com&#x2F;cb">/);
    assert.match(done.text, /<noscript>[\s\S]*<button type="submit">/);
    assert.equal(hiddenField(done.text, 'state'), r.state);
    assert.equal(
      hiddenField(done.text, 'iss')
        .replace(/&#x2F;/g, '/')
        .replace(/&#x3A;/g, ':'),
      t.url,
    );
    const code = hiddenField(done.text, 'code');
    assertTokenResponse(await redeem(code, r.verifier));
  });

  it('redirect URI variations are refused on the error page, never redirected', async () => {
    for (const redirect_uri of [
      `${REDIRECT}/`,
      'https://app.example.com/CB',
      'https://APP.example.com/cb',
      `${REDIRECT}?extra=1`,
      'https://evil.example@app.example.com/cb',
      'https://app.example.com@evil.example/cb',
      'https://app.example.com:8443/cb',
      'http://app.example.com/cb',
    ]) {
      const a = await new HandBrowser(t).get(request({ redirect_uri }).path);
      assert.equal(a.status, 400, redirect_uri);
      assert.equal(a.headers.get('location'), null);
      assertPageHeaders(a);
      assert.equal(alertText(a.text), MESSAGES.error.badRequest);
    }
    const unknown = await new HandBrowser(t).get(request({ client_id: 'nobody' }).path);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('location'), null);
  });

  it('POST /authorize takes the request as a form and answers with 303', async () => {
    const { b } = await signIn();
    const r = request();
    const form = Object.fromEntries(new URLSearchParams(r.path.slice('/authorize?'.length)));
    const a = await b.post('/authorize', form);
    assert.equal(a.status, 303);
    assert.ok(redirectParams(a, REDIRECT).get('code'));
  });

  it('session-left-behind: a new login in the same browser ends the session it replaces, with the refresh tokens bound to it', async () => {
    const { b, r, params } = await signIn();
    const first = await redeem(params.get('code')!, r.verifier);
    assertTokenResponse(first);
    const refresh = () =>
      postForm(t, '/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: first.body.refresh_token! });
    // The same browser signs in again (prompt=login: the password again): the session it had is replaced.
    await signIn(b, 'alice', { prompt: 'login' });
    const after = await refresh();
    assert.equal(after.status, 400, JSON.stringify(after.body));
    assert.equal(after.body.error, 'invalid_grant');
  });

  it('a client that must push its requests signs in through PAR: the pushed request survives the login, marked as pushed', async () => {
    await t.client({
      id: 'pushing',
      authMethod: 'none',
      grantTypes: ['authorization_code'],
      scopes: ['orders:read'],
      audiences: ['api'],
      redirectUris: [REDIRECT],
      firstParty: true,
      requirePar: true,
    });
    const r = authorizationRequest('pushing', REDIRECT, { scope: 'orders:read' });
    const params = Object.fromEntries(new URLSearchParams(r.path.slice('/authorize?'.length)));
    // Sent directly, the request is refused; pushed, it is served through the login page.
    const direct = await new HandBrowser(t).get(r.path);
    assert.equal(redirectParams(direct, REDIRECT).get('error'), 'invalid_request');
    const pushed = await postForm(t, '/oauth/par', params);
    assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    const b = new HandBrowser(t);
    const page = await b.get(
      `/authorize?${new URLSearchParams({ client_id: 'pushing', request_uri: String(pushed.body.request_uri) })}`,
    );
    assert.equal(page.status, 200, page.text);
    const done = await b.post('/login', loginForm(page.text, 'alice', PASSWORD));
    const answer = redirectParams(done, REDIRECT);
    assert.equal(answer.get('state'), params.state);
    const code = answer.get('code');
    assert.ok(code, done.text);
    const token = await postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: 'pushing',
      redirect_uri: REDIRECT,
      code,
      code_verifier: r.verifier,
    });
    assertTokenResponse(token);
  });
});
