/**
 * The chat of `npm start` (examples/chat) in a real browser, Debian's Chromium driven by playwright-core: two
 * users log in on the page and read each other; an admin revokes one of them through the auth server's admin
 * API; that user's page shows the disconnect at once, the other's stays connected and can still send.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromiumSkip as skip, demoPort, launchChromium, startDemo } from '@tessera/testing';
import type { Browser, Page } from 'playwright-core';

interface DemoCredentials {
  adminClient: { clientId: string; clientSecret: string; audience: string };
  user: { username: string; password: string };
  chatUser: { username: string; password: string };
}

describe('chat in the browser (npm start, examples/chat)', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-chat-'));
  const dir = join(root, 'data');
  let demo: ChildProcess | undefined;
  let browser: Browser | undefined;
  let issuer = '';
  let chatUrl = '';
  let creds: DemoCredentials;
  const pageErrors: string[] = [];
  let alice: Page;
  let bob: Page;

  before(async () => {
    const port = await demoPort();
    const [started, launched] = await Promise.all([startDemo(port, dir), launchChromium()]);
    demo = started.child;
    browser = launched;
    issuer = `http://127.0.0.1:${port}`;
    chatUrl = `http://127.0.0.1:${port + 3}`;
    assert.match(started.out, new RegExp(`chat: +${chatUrl} `));
    creds = JSON.parse(readFileSync(join(dir, 'demo-credentials.json'), 'utf8')) as DemoCredentials;
    alice = await openPage(browser);
    bob = await openPage(browser);
  });
  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      demo.kill('SIGTERM');
      await new Promise((r) => demo!.once('exit', r));
    }
    rmSync(root, { recursive: true, force: true });
  });

  /** A page in a browser context of its own (its own cookies): one user. */
  async function openPage(b: Browser): Promise<Page> {
    const context = await b.newContext();
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(chatUrl);
    return page;
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#login button');
    await page.locator('#status[data-state="connected"]').waitFor();
    assert.equal(await page.textContent('#me'), username);
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#text', text);
    await page.click('#send button');
  }

  /** Waits for the message `text` on `page` and returns who it is shown as from. */
  async function seen(page: Page, text: string): Promise<string> {
    const li = page.locator('#messages li', { hasText: text });
    await li.waitFor();
    assert.equal(await li.count(), 1, `"${text}" shown once`);
    return (await li.locator('.user').textContent()) ?? '';
  }

  it('a wrong password is refused with a clear message and no session', async () => {
    await bob.fill('#username', creds.chatUser.username);
    await bob.fill('#password', 'not the password');
    await bob.click('#login button');
    await bob.locator('#login-error', { hasText: 'wrong username or password' }).waitFor();
    assert.equal(await bob.isHidden('#chat'), true);
    assert.deepEqual(await bob.context().cookies(), []);
  });

  it('two users log in; the refresh token stays on the server behind an httpOnly SameSite=Strict cookie', async () => {
    await logIn(alice, creds.user.username, creds.user.password);
    await logIn(bob, creds.chatUser.username, creds.chatUser.password);
    for (const page of [alice, bob]) {
      const cookies = await page.context().cookies();
      assert.deepEqual(
        cookies.map((c) => [c.name, c.httpOnly, c.sameSite]),
        [['chat_session', true, 'Strict']],
      );
    }
    await alice.locator('#online', { hasText: 'online: alice, bob' }).waitFor();
  });

  it('each sees the other one’s message, under their name', async () => {
    await say(alice, 'hello from alice');
    assert.equal(await seen(bob, 'hello from alice'), 'alice');
    assert.equal(await seen(alice, 'hello from alice'), 'alice');
    await say(bob, 'hi alice, bob here <b>not bold</b>');
    assert.equal(await seen(alice, 'hi alice, bob here <b>not bold</b>'), 'bob');
    // User text is text: the markup in it was not parsed.
    assert.equal(await alice.locator('#messages li .text b').count(), 0);
  });

  it('an admin revokes bob: his page shows the disconnect, alice stays connected and can still send', async () => {
    const tokenRes = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization:
          'Basic ' + Buffer.from(`${creds.adminClient.clientId}:${creds.adminClient.clientSecret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: creds.adminClient.audience }),
    });
    assert.equal(tokenRes.status, 200);
    const admin = { authorization: `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}` };
    const users = (await (await fetch(`${issuer}/admin/users`, { headers: admin })).json()) as {
      items: { id: string; username: string }[];
    };
    const bobId = users.items.find((u) => u.username === creds.chatUser.username)?.id;
    assert.ok(bobId, JSON.stringify(users));

    const revoked = await fetch(`${issuer}/admin/revoke`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: bobId }),
    });
    assert.equal(revoked.status, 200);

    const status = bob.locator('#status[data-state="disconnected"]');
    await status.waitFor({ timeout: 5_000 });
    assert.match((await status.textContent()) ?? '', /^disconnected: token revoked \(code 3500\)$/);
    assert.equal(await bob.isDisabled('#text'), true);

    assert.equal(await alice.getAttribute('#status', 'data-state'), 'connected');
    await alice.locator('#online', { hasText: /^online: alice$/ }).waitFor();
    await say(alice, 'still here after the cut-off');
    assert.equal(await seen(alice, 'still here after the cut-off'), 'alice');
    assert.equal(await alice.getAttribute('#status', 'data-state'), 'connected');
  });

  it('bob’s session at the chat server ended too: a reload shows the login form', async () => {
    await bob.reload();
    await bob.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await bob.isHidden('#chat'), true);
    assert.deepEqual(pageErrors, []);
  });
});
