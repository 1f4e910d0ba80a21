import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified } from '@tessera/core';
import { MESSAGES } from '@tessera/server/internal';

import { assertTokenResponse, auditEvents, postForm } from './helpers/oauth.js';
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

const REDIRECT = 'https://partner.example.com/cb';
const PASSWORD = 'correct horse battery';

/**
 * The consent page of third-party clients over HTTP, on a real server and SQLite file: asked after the login
 * (or over a live session), Allow sends the code and is remembered per user and client, a new scope or
 * `prompt=consent` asks again, Deny answers `access_denied`, `prompt=none` answers `consent_required`, the form
 * is protected like the login form, and the admin API lists and withdraws consents.
 */
describe('consent for third-party clients', () => {
  let t: TestServer;

  before(async () => {
    t = await startServer();
    await t.client({
      id: 'partner',
      name: 'Partner Shop',
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['orders:read', 'profile'],
      audiences: ['api'],
      redirectUris: [REDIRECT],
    });
    await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'reader', ['orders:read', 'profile'], { replace: false });
    await t.user('alice', PASSWORD, ['reader']);
  });
  after(() => t.close());

  /** An authorization request of the partner client for the scope orders:read (with `extra` over it). */
  const request = (extra: Record<string, string> = {}) =>
    authorizationRequest('partner', REDIRECT, { scope: 'orders:read', ...extra });
  const isConsentPage = (a: PageAnswer) => a.status === 200 && a.text.includes('name="decision" value="allow"');
  const decide = (b: HandBrowser, page: PageAnswer, decision: string) =>
    b.post('/consent', { request: hiddenField(page.text, 'request'), csrf: hiddenField(page.text, 'csrf'), decision });

  /** A browser signed in as alice whose first authorization (scope orders:read) stopped at the consent page. */
  async function atConsent(extra: Record<string, string> = {}) {
    const b = new HandBrowser(t);
    const r = request(extra);
    const login = await b.get(r.path);
    const consent = await b.post('/login', loginForm(login.text, 'alice', PASSWORD));
    assert.ok(isConsentPage(consent), consent.text);
    return { b, r, consent };
  }
  const withdraw = () => t.admin('DELETE', '/admin/users/user-alice/consents/partner');

  it('asks after the login, in plain words; Allow sends the code, which redeems', async () => {
    const { b, r, consent } = await atConsent({ scope: 'orders:read profile' });
    assert.ok(consent.text.includes(MESSAGES.consent.intro('Partner Shop')));
    assert.ok(consent.text.includes(MESSAGES.consent.scopes.profile!));
    assert.ok(consent.text.includes('orders:read'));
    const csp = consent.headers.get('content-security-policy')!;
    assert.match(csp, new RegExp(`form-action 'self' ${REDIRECT};`));
    assert.equal(consent.headers.get('x-frame-options'), 'DENY');
    const done = await decide(b, consent, 'allow');
    const params = redirectParams(done, REDIRECT);
    assert.equal(params.get('state'), r.state);
    const tokens = await postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: 'partner',
      redirect_uri: REDIRECT,
      code: params.get('code')!,
      code_verifier: r.verifier,
    });
    assertTokenResponse(tokens);
    assert.equal(decodeUnverified(tokens.body.access_token!).payload.client_id, 'partner');
    const granted = await auditEvents(t, 'consent.granted');
    assert.ok(granted.some((e) => e.subject === 'user-alice' && e.client_id === 'partner'));
    assert.equal((await withdraw()).status, 204);
  });

  it('remembers the consent: the next sign-in is single sign-on; a new scope or prompt=consent asks again', async () => {
    const { b, consent } = await atConsent();
    redirectParams(await decide(b, consent, 'allow'), REDIRECT);
    assert.ok(redirectParams(await b.get(request().path), REDIRECT).get('code'), 'remembered');
    const wider = await b.get(request({ scope: 'orders:read profile' }).path);
    assert.ok(isConsentPage(wider), 'a scope not allowed before');
    const none = redirectParams(await b.get(request({ scope: 'orders:read profile', prompt: 'none' }).path), REDIRECT);
    assert.equal(none.get('error'), 'consent_required');
    assert.ok(isConsentPage(await b.get(request({ prompt: 'consent' }).path)), 'prompt=consent');

    const listed = await t.admin('GET', '/admin/users/user-alice/consents');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.items.map((c: { client_id: string; scopes: string[] }) => [c.client_id, c.scopes]),
      [['partner', ['orders:read']]],
    );
    assert.equal((await withdraw()).status, 204);
    assert.ok(isConsentPage(await b.get(request().path)), 'withdrawn: asked again');
    assert.equal((await withdraw()).status, 404);
    assert.equal((await auditEvents(t, 'admin.consent.revoked')).length >= 1, true);
  });

  it('Deny answers access_denied to the client and remembers nothing', async () => {
    const { b, r, consent } = await atConsent();
    const params = redirectParams(await decide(b, consent, 'deny'), REDIRECT);
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('state'), r.state);
    assert.equal(params.get('code'), null);
    assert.ok(isConsentPage(await b.get(request().path)));
    const odd = await b.get(request().path);
    assert.equal(
      redirectParams(await decide(b, odd, 'maybe'), REDIRECT).get('error'),
      'access_denied',
      'anything but allow denies',
    );
  });

  it('consent-csrf: a consent form without its token, with a wrong one, or from another browser is refused', async () => {
    const { b, consent } = await atConsent();
    const good = { request: hiddenField(consent.text, 'request'), csrf: hiddenField(consent.text, 'csrf'), decision: 'allow' };
    const other = new HandBrowser(t);
    for (const [who, params] of [
      [b, { request: good.request, decision: 'allow' }],
      [b, { ...good, csrf: randomBytes(32).toString('base64url') }],
      [other, good],
    ] as const) {
      const r = await who.post('/consent', params);
      assert.equal(r.status, 403);
      assert.equal(alertText(r.text), MESSAGES.error.forgedForm);
    }
    // The genuine form still works: the refused ones took nothing.
    assert.ok(redirectParams(await b.post('/consent', good), REDIRECT).get('code'));
    assert.equal((await withdraw()).status, 204);
  });

  it('a consent form without a live session, or posted twice, is refused', async () => {
    const { b, consent } = await atConsent();
    const form = { request: hiddenField(consent.text, 'request'), csrf: hiddenField(consent.text, 'csrf'), decision: 'allow' };
    const session = [...b.cookies].find(([k]) => k.includes('session'))!;
    b.cookies.delete(session[0]);
    assert.equal((await b.post('/consent', form)).status, 400, 'signed out meanwhile');
    b.cookies.set(session[0], session[1]);
    assert.ok(redirectParams(await b.post('/consent', form), REDIRECT).get('code'));
    const again = await b.post('/consent', form);
    assert.equal(again.status, 400);
    assert.equal(alertText(again.text), MESSAGES.error.expired);
    assert.equal((await withdraw()).status, 204);
  });

  it('reauthentication-skip: the login page asked for by prompt=login or max_age, posted to /consent instead, gets no code', async () => {
    const { b, consent } = await atConsent();
    const done = await decide(b, consent, 'allow');
    assert.ok(redirectParams(done, REDIRECT).get('code'));
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      const login = await b.get(request(extra).path);
      assert.ok(login.text.includes('name="password"'), 'the login page, not single sign-on');
      const skipped = await b.post('/consent', {
        request: hiddenField(login.text, 'request'),
        csrf: hiddenField(login.text, 'csrf'),
        decision: 'allow',
      });
      assert.equal(skipped.status, 403, JSON.stringify(extra));
      assert.equal(skipped.headers.get('location'), null);
    }
  });
});
