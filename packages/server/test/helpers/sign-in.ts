import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import type { TestServer } from './server.js';

/** An answer of the browser-facing endpoints: status, headers, the body as text. */
export interface PageAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A hand-driven browser over fetch: it keeps the cookies the server sets (name -> value; Max-Age=0 removes
 * one), sends them back, and follows no redirect, so that a test sees each step of the sign-in.
 */
export class HandBrowser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly t: TestServer) {}

  get(path: string): Promise<PageAnswer> {
    return this.send(path, { method: 'GET' });
  }

  post(path: string, params: Record<string, string>): Promise<PageAnswer> {
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
  }

  private async send(
    path: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ): Promise<PageAnswer> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(this.t.url + path, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, ...(cookie ? { cookie } : {}) },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (/;\s*Max-Age=0(;|$)/i.test(set)) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1));
    }
    return { status: res.status, headers: res.headers, text: await res.text() };
  }
}

/** A PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Mustache's HTML escape undone, to compare a page's text with the value it shows. */
export const unescapeHtml = (s: string) =>
  s.replace(
    /&(lt|gt|quot|amp|#39|#x2F|#x60|#x3D);/g,
    (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', amp: '&', '#39': "'", '#x2F': '/', '#x60': '`', '#x3D': '=' })[e]!,
  );

/** The value of the hidden field `name` of a page's form. */
export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  assert.ok(m, `the page has a hidden ${name} field:\n${html}`);
  return m[1]!;
}

/** The login page's form fields (reference and anti-forgery token) with the username and password filled in. */
export function loginForm(html: string, username: string, password: string): Record<string, string> {
  return { request: hiddenField(html, 'request'), csrf: hiddenField(html, 'csrf'), username, password };
}

/** The parameters of a redirect answer's Location (302/303) to `redirectUri`. */
export function redirectParams(a: PageAnswer, redirectUri: string): URLSearchParams {
  assert.ok(a.status === 302 || a.status === 303, `expected a redirect, got ${a.status}: ${a.text}`);
  const location = a.headers.get('location') ?? '';
  assert.ok(location.startsWith(`${redirectUri}?`), `redirected to ${location}, not ${redirectUri}`);
  return new URL(location).searchParams;
}

/** The text of the page's role=alert message, if any. */
export function alertText(html: string): string | undefined {
  return /role="alert"[^>]*>([^<]*)</.exec(html)?.[1];
}

/**
 * An authorization request's path (`/authorize?...`) for a client: code, PKCE S256 with a fresh verifier, a
 * fresh state, and `extra` parameters over these.
 */
export function authorizationRequest(
  clientId: string,
  redirectUri: string,
  extra: Record<string, string> = {},
): { path: string; verifier: string; state: string } {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  return { path: `/authorize?${query}`, verifier, state };
}
