import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ConfigError } from '@tessera/core';
import { MESSAGES, Pages } from '@tessera/server/internal';
import { settingRefusals } from '@tessera/testing';

import { startServer, type TestServer } from './helpers/server.js';
import { alertText, HandBrowser, hiddenField, loginForm, pkce, unescapeHtml as unescape } from './helpers/sign-in.js';

const REDIRECT = 'https://app.example.com/cb';
const HOSTILE_NAME = `<script>alert("name")</script>&'`;
const HOSTILE_STATE = `"><script>alert('state')</script><a href="`;
const HOSTILE_HINT = `"><img src=x onerror=alert(1)>`;
const refuses = settingRefusals(ConfigError);

/** A first-party public client of the authorization code flow. */
const browserApp = (id: string, name: string) => ({
  id,
  name,
  authMethod: 'none' as const,
  grantTypes: ['authorization_code' as const],
  scopes: [],
  audiences: ['api'],
  redirectUris: [REDIRECT],
  firstParty: true,
});

/**
 * The hosted pages themselves: every interpolated value escaped (hostile client names, state and login
 * hints), the stylesheet and logo served cacheable, the templates and the logo replaced by configuration, and
 * bad template or logo settings refused at start-up naming the setting.
 */
describe('hosted pages', () => {
  let t: TestServer;
  const own = mkdtempSync(join(tmpdir(), 'tessera-pages-'));

  before(async () => {
    t = await startServer();
    await t.client(browserApp('hostile', HOSTILE_NAME));
    await t.user('alice', 'correct horse battery');
  });
  after(async () => {
    await t.close();
    rmSync(own, { recursive: true, force: true });
  });

  const authorize = (extra: Record<string, string>) =>
    `/authorize?${new URLSearchParams({
      client_id: 'hostile',
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
      ...extra,
    })}`;

  it('escapes a hostile client name and login hint on the login page', async () => {
    const page = await new HandBrowser(t).get(authorize({ login_hint: HOSTILE_HINT }));
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes('<script>'), page.text);
    assert.ok(!page.text.includes('<img src=x'), page.text);
    assert.ok(page.text.includes('&lt;script&gt;alert(&quot;name&quot;)&lt;&#x2F;script&gt;&amp;&#39;'), page.text);
    const value = /id="username"[^>]*value="([^"]*)"/.exec(page.text)?.[1];
    assert.equal(unescape(value!), HOSTILE_HINT);
  });

  it('escapes a hostile state in the form_post page, which still posts it back exactly', async () => {
    const b = new HandBrowser(t);
    const page = await b.get(authorize({ state: HOSTILE_STATE, response_mode: 'form_post' }));
    const done = await b.post('/login', loginForm(page.text, 'alice', 'correct horse battery'));
    assert.equal(done.status, 200);
    assert.equal((done.text.match(/<script/g) ?? []).length, 1, 'only the page’s own script');
    assert.equal(unescape(hiddenField(done.text, 'state')), HOSTILE_STATE);
  });

  it('escapes a hostile logout parameter carried into the sign-out confirmation’s hidden fields', async () => {
    const b = new HandBrowser(t);
    const login = await b.get(authorize({}));
    const done = await b.post('/login', loginForm(login.text, 'alice', 'correct horse battery'));
    assert.equal(done.status, 303, done.text);
    const page = await b.get(`/logout?${new URLSearchParams({ client_id: HOSTILE_HINT, state: HOSTILE_STATE })}`);
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes('<script>') && !page.text.includes('<img src=x'), page.text);
    assert.equal(unescape(hiddenField(page.text, 'state')), HOSTILE_STATE);
    assert.equal(unescape(hiddenField(page.text, 'client_id')), HOSTILE_HINT);
    assert.equal(hiddenField(page.text, 'confirm'), 'yes');
    assert.match(page.headers.get('content-security-policy')!, /form-action 'self'; frame-ancestors 'none'/);
    assert.equal(page.headers.get('referrer-policy'), 'same-origin');
  });

  it('escapes every value on the consent, error, logged-out and logout confirmation pages (Pages)', () => {
    const pages = new Pages({ pageTemplatesDir: undefined, pageLogoFile: undefined });
    const html = pages.error('https://id.example.com', '<b>message</b>', '<script>details</script>');
    assert.ok(!html.includes('<b>') && !html.includes('<script>'), html);
    assert.ok(html.includes('&lt;script&gt;details&lt;&#x2F;script&gt;'));
    const consent = pages.consent('https://id.example.com', {
      clientName: HOSTILE_NAME,
      username: '<b>alice</b>',
      scopes: ['<script>scope</script>'],
      request: '"><script>',
      csrf: 'x',
    });
    assert.ok(!consent.includes('<script>') && !consent.includes('<b>'), consent);
    assert.ok(consent.includes('&lt;script&gt;scope&lt;&#x2F;script&gt;'), consent);
    const out = pages.loggedOut('https://id.example.com"><script>');
    assert.ok(!out.includes('"><script>'), out);
    assert.ok(out.includes(MESSAGES.loggedOut.message));
    assert.match(out, /<html lang="en">/);
    assert.match(out, /<meta name="referrer" content="no-referrer">/, 'the other pages send no referrer at all');
    const confirm = pages.logoutConfirm('https://id.example.com', [
      ['state', HOSTILE_STATE],
      ['client_id', HOSTILE_NAME],
    ]);
    assert.ok(!confirm.includes('<script>'), confirm);
    assert.equal(unescape(hiddenField(confirm, 'state')), HOSTILE_STATE);
    assert.equal(unescape(hiddenField(confirm, 'client_id')), HOSTILE_NAME);
    assert.ok(confirm.includes(MESSAGES.logout.confirmMessage), confirm);
  });

  it('serves one stylesheet and the logo, cacheable, revalidated by ETag', async () => {
    const page = await new HandBrowser(t).get(authorize({}));
    const css = /<link rel="stylesheet" href="([^"]+)">/.exec(page.text)?.[1];
    assert.ok(css && unescape(css).startsWith(`${t.url}/assets/tessera.css?v=`), css);
    assert.equal((page.text.match(/<link rel="stylesheet"/g) ?? []).length, 1);
    for (const [path, type] of [
      ['/assets/tessera.css', /^text\/css/],
      ['/assets/logo', /^image\/svg\+xml/],
    ] as const) {
      const r = await fetch(t.url + path);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, type);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=86400');
      const etag = r.headers.get('etag')!;
      const again = await fetch(t.url + path, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    }
  });

  it('uses the operator’s templates, stylesheet and logo from pageTemplatesDir and pageLogoFile', async () => {
    const dir = join(own, 'templates');
    mkdirSync(dir);
    writeFileSync(join(dir, 'login.html'), '<h1 id="own">Our login: {{intro}}</h1><p role="alert">{{error}}</p>');
    writeFileSync(join(dir, 'tessera.css'), 'body { color: #000; }');
    const logo = join(own, 'logo.png');
    writeFileSync(logo, Buffer.from('89504e470d0a1a0a', 'hex'));
    const custom = await startServer({ overrides: { pageTemplatesDir: dir, pageLogoFile: logo } });
    try {
      await custom.client(browserApp('app', 'Shop'));
      const page = await new HandBrowser(custom).get(authorize({ client_id: 'app' }));
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(`<h1 id="own">Our login: ${MESSAGES.login.intro('Shop')}</h1>`), page.text);
      assert.match(page.text, /<html lang="en">/, 'the built-in layout still wraps it');
      assert.equal(await (await fetch(`${custom.url}/assets/tessera.css`)).text(), 'body { color: #000; }');
      const png = await fetch(`${custom.url}/assets/logo`);
      assert.equal(png.headers.get('content-type'), 'image/png');
      // The error page stays built in.
      const error = await new HandBrowser(custom).get('/authorize?client_id=nobody');
      assert.equal(alertText(error.text), MESSAGES.error.badRequest);
    } finally {
      await custom.close();
    }
  });

  it('refuses a bad template, a missing folder and a logo of another type, naming the setting', async () => {
    const bad = mkdtempSync(join(own, 'bad-'));
    writeFileSync(join(bad, 'error.html'), '{{#message}} never closed');
    refuses(
      () => new Pages({ pageTemplatesDir: bad, pageLogoFile: undefined }),
      'pageTemplatesDir',
      /error\.html is not a valid template/,
    );
    refuses(
      () => new Pages({ pageTemplatesDir: join(own, 'nowhere'), pageLogoFile: undefined }),
      'pageTemplatesDir',
      /not a folder/,
    );
    const exe = join(own, 'logo.exe');
    writeFileSync(exe, 'MZ');
    refuses(() => new Pages({ pageTemplatesDir: undefined, pageLogoFile: exe }), 'pageLogoFile', /must end in one of/);
    refuses(() => new Pages({ pageTemplatesDir: undefined, pageLogoFile: join(own, 'none.png') }), 'pageLogoFile', /not a file/);
    await assert.rejects(
      startServer({ dir: mkdtempSync(join(own, 'server-')), overrides: { pageTemplatesDir: bad } }),
      (err: unknown) => err instanceof ConfigError && err.option === 'pageTemplatesDir',
    );
  });
});
