import assert from 'node:assert/strict';

import { basic, type TestServer } from './server.js';

/** The JSON members the OAuth endpoints answer with (token, error, introspection). */
export interface Body {
  access_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
  active?: boolean;
  [member: string]: unknown;
}

/** An HTTP answer: the raw text, and the body parsed when it is a JSON object (else empty). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Body;
}

export interface AuditItem {
  type: string;
  outcome: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  ip: string | null;
  data: Record<string, unknown>;
}

export interface ClientCreds {
  id: string;
  secret: string | undefined;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  const json: unknown = (res.headers.get('content-type') ?? '').includes('json') && text !== '' ? JSON.parse(text) : undefined;
  const body = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Body) : {};
  return { status: res.status, headers: res.headers, text, body };
}

/** POSTs a raw body with the given content type (or none), exactly as written. */
export async function postRaw(
  t: TestServer,
  path: string,
  body: string | Uint8Array | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return answer(await fetch(t.url + path, { method: 'POST', headers, body }));
}

/** POSTs an application/x-www-form-urlencoded body. */
export async function postForm(
  t: TestServer,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return postRaw(t, path, new URLSearchParams(params).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    ...headers,
  });
}

export async function get(t: TestServer, path: string): Promise<Answer> {
  return answer(await fetch(t.url + path));
}

/** POSTs a form authenticated with client_secret_basic. */
export function withBasic(t: TestServer, c: ClientCreds, path: string, params: Record<string, string>): Promise<Answer> {
  return postForm(t, path, params, { authorization: basic(c.id, c.secret!) });
}

export function clientCredentials(t: TestServer, c: ClientCreds, params: Record<string, string> = {}): Promise<Answer> {
  return withBasic(t, c, '/oauth/token', { grant_type: 'client_credentials', ...params });
}

export function login(
  t: TestServer,
  c: ClientCreds,
  username: string,
  password: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Answer> {
  return postForm(
    t,
    '/oauth/token',
    { grant_type: 'password', username, password, ...params },
    { authorization: basic(c.id, c.secret!), ...headers },
  );
}

export function refresh(
  t: TestServer,
  c: ClientCreds,
  refreshToken: string,
  params: Record<string, string> = {},
): Promise<Answer> {
  return withBasic(t, c, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...params });
}

export function introspect(t: TestServer, c: ClientCreds, token: string): Promise<Answer> {
  return withBasic(t, c, '/oauth/introspect', { token });
}

export function revoke(t: TestServer, c: ClientCreds, token: string, params: Record<string, string> = {}): Promise<Answer> {
  return withBasic(t, c, '/oauth/revoke', { token, ...params });
}

/** A 200 token response with the no-store headers of RFC 6749 section 5.1. */
export function assertTokenResponse(r: Answer): void {
  assert.equal(r.status, 200, `expected 200, got ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('pragma'), 'no-cache');
  assert.equal(r.body.token_type, 'Bearer');
  assert.equal(typeof r.body.access_token, 'string');
  assert.equal(typeof r.body.expires_in, 'number');
}

/**
 * An OAuth error response (RFC 6749 section 5.2): the status, a JSON body with exactly `error` and
 * `error_description`, `Cache-Control: no-store`, and for 401 a `WWW-Authenticate` challenge naming the error.
 */
export function assertOAuthError(r: Answer, status: number, error: string): void {
  assert.equal(r.status, status, `expected ${status} ${error}, got ${r.status} ${JSON.stringify(r.body)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(r.body.error, error);
  assert.deepEqual(Object.keys(r.body).sort(), ['error', 'error_description']);
  assert.equal(typeof r.body.error_description, 'string');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  if (status === 401)
    assert.match(r.headers.get('www-authenticate') ?? '', new RegExp(`^Basic realm="tessera", error="${error}"$`));
}

/** The audit events of one type, newest first, through the admin API. */
export async function auditEvents(t: TestServer, type: string): Promise<AuditItem[]> {
  const r = await t.admin('GET', `/admin/audit?type=${encodeURIComponent(type)}`);
  assert.equal(r.status, 200);
  return (r.body as { items: AuditItem[] }).items;
}
