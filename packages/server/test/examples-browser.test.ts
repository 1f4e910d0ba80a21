/**
 * The sign-in examples of `npm start` in a real browser, Debian's Chromium driven by playwright-core:
 * - examples/spa: a user signs in to the single-page app (oauth4webapi in the page: discovery, code + PKCE through
 *   the hosted login page, the token request through CORS), the app calls its API; the admin revokes the user's
 *   browser session, and the API, following the revocation feed, refuses the app's token;
 * - examples/web: openid-client in a server-side web app: discovery, a pushed authorization request, the hosted
 *   login and consent pages, the ID token's checks (nonce, signature), userinfo, a refresh, and RP-initiated
 *   logout, which ends the session at the auth server (the next sign-in asks for the password again).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromiumSkip as skip, demoPort, launchChromium, startDemo, until } from '@tessera/testing';
import type { Browser, Page } from 'playwright-core';

import type { Json } from './helpers/server.js';

interface DemoCredentials {
  adminClient: { clientId: string; clientSecret: string; audience: string };
  user: { username: string; password: string };
}

describe('sign-in examples in the browser (npm start, examples/spa and examples/web)', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-examples-'));
  const dir = join(root, 'data');
  let demo: ChildProcess | undefined;
  let browser: Browser | undefined;
  let issuer = '';
  let spaUrl = '';
  let webUrl = '';
  let creds: DemoCredentials;
  const pageErrors: string[] = [];

  before(async () => {
    const port = await demoPort();
    const [started, launched] = await Promise.all([startDemo(port, dir), launchChromium()]);
    demo = started.child;
    browser = launched;
    issuer = `http://127.0.0.1:${port}`;
    spaUrl = `http://127.0.0.1:${port + 4}`;
    webUrl = `http://127.0.0.1:${port + 5}`;
    assert.match(started.out, new RegExp(`single-page app: +${spaUrl} `));
    assert.match(started.out, new RegExp(`web app: +${webUrl} `));
    creds = JSON.parse(readFileSync(join(dir, 'demo-credentials.json'), 'utf8')) as DemoCredentials;
  });
  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      demo.kill('SIGTERM');
      await new Promise((r) => demo!.once('exit', r));
    }
    rmSync(root, { recursive: true, force: true });
  });

  /** A page in a browser context of its own (its own cookies: a user's browser). */
  async function newPage(): Promise<Page> {
    const context = await browser!.newContext();
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return page;
  }

  /** Fills the hosted login page the browser is on. */
  async function logIn(page: Page): Promise<void> {
    await page.waitForURL(`${issuer}/authorize?**`);
    await page.fill('#username', creds.user.username);
    await page.fill('#password', creds.user.password);
    await page.click('button[type=submit]');
  }

  async function admin(method: string, path: string): Promise<{ status: number; body: Json }> {
    const basic = Buffer.from(`${creds.adminClient.clientId}:${creds.adminClient.clientSecret}`).toString('base64');
    const token = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: creds.adminClient.audience }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const res = await fetch(issuer + path, { method, headers: { authorization: `Bearer ${access_token}` } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  it('spa: signs in through the hosted page, calls its API; a revoked browser session makes the API refuse the token', async () => {
    const page = await newPage();
    await page.goto(spaUrl);
    await page.click('#sign-in');
    await logIn(page);
    await page.waitForURL(`${spaUrl}/`);
    await until('the page is signed in', async () => {
      const status = (await page.textContent('#status')) ?? '';
      assert.doesNotMatch(status, /failed|Error/, status);
      return /^Signed in/.test(status);
    });
    await page.click('#load');
    await until('the orders', async () => ((await page.textContent('#orders')) ?? '').includes('tessera tiles'));

    const users = await admin('GET', '/admin/users');
    const alice = (users.body.items as { id: string; username: string }[]).find((u) => u.username === creds.user.username)!;
    const sessions = await admin('GET', `/admin/users/${alice.id}/browser-sessions`);
    assert.equal(sessions.status, 200);
    assert.equal(sessions.body.items.length, 1, JSON.stringify(sessions.body));
    const revoked = await admin('DELETE', `/admin/browser-sessions/${sessions.body.items[0].id as string}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));

    // The API follows the revocation feed: the page's next call is refused (the page shows the RFC 6750 reason).
    await until('the API refuses the revoked token', async () => {
      await page.click('#load');
      return ((await page.textContent('#orders')) ?? '').startsWith('refused: 401');
    });
    // Its refresh token went with the session.
    await page.click('#refresh');
    await until('the refresh is refused', async () => /^Error:/.test((await page.textContent('#status')) ?? ''));
  });

  it('web: openid-client signs in with PAR, the consent page, ID token and userinfo; refreshes; logs out at the server', async () => {
    const page = await newPage();
    await page.goto(webUrl);
    await page.click('a[href="/login"]');
    await logIn(page);
    // A third-party client: the consent page, once.
    await page.waitForURL(`${issuer}/login`);
    assert.match((await page.textContent('main')) ?? '', /Web app \(demo\)/);
    await page.click('button[value=allow]');
    await page.waitForURL(`${webUrl}/`).catch(async (err: Error) => {
      throw new Error(`${err.message}\nat ${page.url()}: ${(await page.textContent('body')) ?? ''}`);
    });
    assert.equal(await page.textContent('#who'), 'Signed in as Alice Example');
    const userinfo = JSON.parse((await page.textContent('#userinfo')) ?? '{}') as Record<string, unknown>;
    assert.equal(userinfo.email, 'alice@example.com');
    assert.equal(userinfo.email_verified, true);
    const claims = JSON.parse((await page.textContent('#claims')) ?? '{}') as Record<string, unknown>;
    assert.equal(claims.iss, issuer);
    assert.equal(claims.aud, 'web-app');
    assert.deepEqual(claims.amr, ['pwd']);

    await Promise.all([page.waitForNavigation(), page.click('#refresh')]);
    await page.waitForURL(`${webUrl}/`);
    assert.equal(await page.textContent('#who'), 'Signed in as Alice Example');

    await page.click('#sign-out');
    // Through the auth server's /logout and back to the app's home page, signed out.
    await page.waitForSelector('a[href="/login"]');
    assert.equal(page.url(), `${webUrl}/`);
    assert.match((await page.textContent('main')) ?? '', /Not signed in/);
    // The auth server's session ended too: signing in again asks for the password.
    await page.click('a[href="/login"]');
    await page.waitForURL(`${issuer}/authorize?**`);
    assert.equal(await page.isVisible('#password'), true);
    assert.deepEqual(pageErrors, []);
  });
});
