/**
 * The hosted login in a real browser, Debian's Chromium driven by playwright-core: a user fills the real login
 * page and ends at the client's redirect URI with a code that the test redeems with its PKCE verifier; the
 * second sign-in is single sign-on through the session cookie, answered with form_post, whose script the
 * page's CSP allows by nonce; a third-party client's consent page is answered with Allow; the user signs out
 * on the logout confirmation page. axe-core checks the login, consent, logout confirmation, signed-out and error
 * pages for accessibility violations.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { chromiumSkip as skip, launchChromium } from '@tessera/testing';
import axe from 'axe-core';
import type { Browser, Page } from 'playwright-core';

import { MESSAGES } from '@tessera/server/internal';

import { assertTokenResponse, postForm } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';
import { pkce } from './helpers/sign-in.js';

const PASSWORD = 'correct horse battery';

describe('hosted login in the browser', { skip }, () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  /** The client: a native app's loopback redirect URI (RFC 8252: registered without a port, used with one). */
  let app: Server;
  let callback = '';
  /** What the client received: the query of a GET, the form of a POST. */
  const received: { method: string; params: URLSearchParams }[] = [];
  const problems: string[] = [];

  before(async () => {
    app = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        // The browser also asks for /favicon.ico.
        if (url.pathname === '/callback')
          received.push({
            method: req.method ?? '',
            params: req.method === 'POST' ? new URLSearchParams(body) : url.searchParams,
          });
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>app</title><p>signed in</p>');
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    callback = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
    [t, browser] = await Promise.all([startServer(), launchChromium()]);
    await t.client({
      id: 'native',
      name: 'Notes',
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: [],
      audiences: ['api'],
      redirectUris: ['http://127.0.0.1/callback'],
      firstParty: true,
    });
    await t.client({
      id: 'partner',
      name: 'Partner Notes',
      authMethod: 'none',
      grantTypes: ['authorization_code'],
      scopes: ['profile'],
      audiences: ['api'],
      redirectUris: ['http://127.0.0.1/callback'],
    });
    await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'profile', ['profile'], { replace: false });
    await t.user('alice', PASSWORD, ['profile']);
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) problems.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((r) => app?.close(r));
  });

  const authorizeUrl = (challenge: string, extra: Record<string, string> = {}) =>
    `${t.url}/authorize?${new URLSearchParams({
      client_id: 'native',
      redirect_uri: callback,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'browser-state',
      ...extra,
    })}`;
  const redeem = (code: string, verifier: string) =>
    postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: 'native',
      redirect_uri: callback,
      code,
      code_verifier: verifier,
    });

  /** axe-core's violations on the current page (run through the debugging protocol, which the page's CSP does not govern). */
  async function violations(): Promise<string[]> {
    await page.evaluate(axe.source);
    const result = (await page.evaluate('axe.run()')) as { violations: { id: string; help: string; nodes: unknown[] }[] };
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  }

  it('a user signs in on the real login page and the client gets a code it redeems', async () => {
    const { verifier, challenge } = pkce();
    await page.goto(authorizeUrl(challenge, { login_hint: 'alice' }));
    assert.equal(await page.inputValue('#username'), 'alice');
    assert.equal(await page.evaluate('document.activeElement.id'), 'password', 'focus starts where the user types');
    assert.deepEqual(await violations(), []);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    assert.ok((await page.textContent('[role=alert]'))?.includes('not correct'));
    assert.deepEqual(await violations(), [], 'the page with its error message');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.click('button[type=submit]')]);
    const got = received.at(-1)!;
    assert.equal(got.method, 'GET');
    assert.equal(got.params.get('state'), 'browser-state');
    assert.equal(got.params.get('iss'), t.url);
    assertTokenResponse(await redeem(got.params.get('code')!, verifier));
  });

  it('single sign-on answers the next authorization with form_post, posted by the page’s nonce script', async () => {
    const { verifier, challenge } = pkce();
    const before = received.length;
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(callback)),
      page.goto(authorizeUrl(challenge, { response_mode: 'form_post' })),
    ]);
    assert.equal(received.length, before + 1);
    const got = received.at(-1)!;
    assert.equal(got.method, 'POST');
    assert.equal(got.params.get('state'), 'browser-state');
    assertTokenResponse(await redeem(got.params.get('code')!, verifier));
  });

  it('a third-party client: the consent page is accessible, and Allow sends the code', async () => {
    const { verifier, challenge } = pkce();
    await page.goto(authorizeUrl(challenge, { client_id: 'partner', scope: 'profile' }));
    assert.ok((await page.textContent('h1'))?.length);
    assert.equal(await page.locator('button[value=allow]').count(), 1);
    assert.deepEqual(await violations(), []);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.click('button[value=allow]')]);
    const got = received.at(-1)!;
    const tokens = await postForm(t, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: 'partner',
      redirect_uri: callback,
      code: got.params.get('code')!,
      code_verifier: verifier,
    });
    assertTokenResponse(tokens);
    assert.equal(tokens.body.scope, 'profile');
  });

  it('sign-out: the confirmation page and the signed-out page are accessible, and the confirmation ends the session', async () => {
    await page.goto(`${t.url}/logout`);
    assert.equal(await page.locator('form[method=post] input[name=confirm][value=yes]').count(), 1);
    assert.deepEqual(await violations(), [], 'the confirmation page');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${t.url}/logout`),
      page.click('button[type=submit]'),
    ]);
    assert.equal(answer.status(), 200);
    await page.locator('form').waitFor({ state: 'detached' });
    assert.equal(await page.textContent('h1'), MESSAGES.loggedOut.title, 'no second question: the session ended');
    assert.deepEqual(await violations(), [], 'the signed-out page');
    const cookies = await page.context().cookies(t.url);
    assert.ok(!cookies.some((c) => c.name === '__Host-tessera-session'), 'the session cookie is cleared');
  });

  it('the error page is accessible, and no page broke its CSP (the form’s redirect to the client included) or threw', async () => {
    await page.goto(`${t.url}/authorize?client_id=native&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`);
    assert.ok((await page.textContent('h1'))?.length);
    assert.deepEqual(await violations(), []);
    assert.deepEqual(problems, []);
  });
});
