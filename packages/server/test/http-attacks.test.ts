/**
 * Attacks on the HTTP layer of the auth server: bodies the admin API must not half-understand (repeated JSON
 * members, bytes that are not UTF-8), errors of the framework leaking to clients, credentials in URLs, and
 * responses without their security headers. Every answer is checked as a client sees it, over real HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID, sign } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { encodeBase64url, generateKey } from '@tessera/core';

import { adminAs, ownAdminClient, tokenOf } from './helpers/admin-api.js';
import { basic, startServer, type TestServer } from './helpers/server.js';
import { metricsToken } from './helpers/metrics.js';
import { feedClient, feedToken, openStream } from './helpers/revocations.js';
import type { ClientCreds } from './helpers/oauth.js';

const FORM = 'application/x-www-form-urlencoded';

/** Sends `bytes` on a new connection exactly as written; resolves with all the server answered before it closed. */
function raw(t: TestServer, bytes: string | Buffer): Promise<string> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
      // One answer is enough: a keep-alive connection would otherwise stay open.
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head));
      if (head !== -1 && length && text.length >= head + 4 + Number(length[1])) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(bytes);
  });
}

/** The status, headers (lower-cased names) and body of a raw HTTP/1.1 answer. */
function parseRaw(text: string): { status: number; headers: Map<string, string>; body: string } {
  const head = text.indexOf('\r\n\r\n');
  assert.ok(head !== -1, `no HTTP answer in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, head).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(head + 4) };
}

/** Tessera's error format: `{error, error_description}` and nothing of Fastify's (no code, message, stack). */
function assertTesseraError(
  status: number,
  headers: { get(name: string): string | null | undefined },
  text: string,
  want: number,
  error: string,
): void {
  assert.equal(status, want, `status ${status}: ${text}`);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], text);
  assert.equal(body.error, error, text);
  assert.equal(typeof body.error_description, 'string');
  assert.doesNotMatch(text, /FST_|statusCode|"message"|stack|at .*\.js/, text);
  assert.equal(headers.get('cache-control'), 'no-store');
  assertSecurityHeaders(headers);
}

function assertSecurityHeaders(headers: { get(name: string): string | null | undefined }, what = ''): void {
  assert.equal(headers.get('x-content-type-options'), 'nosniff', `nosniff ${what}`);
  assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, `CSP ${what}`);
  assert.equal(headers.get('x-frame-options'), 'DENY', `X-Frame-Options ${what}`);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', `Referrer-Policy ${what}`);
}

async function call(t: TestServer, method: string, path: string, init: RequestInit = {}) {
  const res = await fetch(t.url + path, { ...init, method });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('HTTP attacks on the auth server', () => {
  let t: TestServer;
  let adminToken: string;
  let svc: ClientCreds;

  before(async () => {
    t = await startServer();
    adminToken = await tokenOf(t, await ownAdminClient(t, 'http-admin'));
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['a'], audiences: ['api'] });
  });
  after(() => t.close());

  const admin = (method: string, path: string, body: string | Buffer, type = 'application/json') =>
    call(t, method, path, { headers: { authorization: `Bearer ${adminToken}`, 'content-type': type }, body });

  describe('admin API bodies', () => {
    it('duplicate-json-keys: a repeated member name is refused with 400 and nothing is created', async () => {
      for (const body of [
        '{"username":"dup-a","password":"correct horse battery","username":"dup-b"}',
        // The repeat spelled with an escape, which JSON.parse would take as the same name.
        '{"username":"dup-a","password":"correct horse battery","user\\u006eame":"dup-b"}',
        '{"username":"dup-a","password":"correct horse battery","roles":[],"roles":["admin"]}',
      ]) {
        const r = await admin('POST', '/admin/users', body);
        assertTesseraError(r.status, r.headers, r.text, 400, 'invalid_request');
      }
      const r = await admin('PUT', '/admin/roles/dup-role', '{"permissions":["a"],"permissions":["b"]}');
      assertTesseraError(r.status, r.headers, r.text, 400, 'invalid_request');
      const users = await adminAs(t, adminToken, 'GET', '/admin/users');
      assert.equal(JSON.stringify(users.body).includes('dup-'), false, 'no user was created');
      const roles = await adminAs(t, adminToken, 'GET', '/admin/roles');
      assert.equal(JSON.stringify(roles.body).includes('dup-role'), false, 'no role was created');
    });

    it('invalid-utf8-json: bytes that are not UTF-8 are refused with 400, never stored as U+FFFD', async () => {
      for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80] /* a lone surrogate */, [0xc0, 0xaf] /* overlong '/' */]) {
        const body = Buffer.concat([
          Buffer.from('{"username":"utf8-'),
          Buffer.from(bad),
          Buffer.from('","password":"correct horse battery"}'),
        ]);
        const r = await admin('POST', '/admin/users', body);
        assertTesseraError(r.status, r.headers, r.text, 400, 'invalid_request');
      }
      const users = await adminAs(t, adminToken, 'GET', '/admin/users');
      assert.equal(JSON.stringify(users.body).includes('utf8-'), false, 'no user was created');
      // Valid UTF-8 beyond ASCII still goes through to the handler's own checks.
      const ok = await admin('PUT', '/admin/roles/utf8-ok', JSON.stringify({ permissions: ['caf\u00e9:read'] }));
      assert.notEqual(ok.status, 500);
    });

    it('deep-json: a body nested thousands deep is refused with 400, never a crash', async () => {
      const r = await admin('POST', '/admin/users', '['.repeat(5000) + ']'.repeat(5000));
      assertTesseraError(r.status, r.headers, r.text, 400, 'invalid_request');
    });
  });

  describe('framework errors in Tessera format', () => {
    it('bad-url: a malformed URL gets 400 in Tessera format, the input never echoed', async () => {
      for (const path of ['/admin/users/%zz-echo-me', '/admin/roles/%E0%A4%A-echo-me', '/admin/clients/%-echo-me']) {
        const r = await call(t, 'GET', path, { headers: { authorization: `Bearer ${adminToken}` } });
        assertTesseraError(r.status, r.headers, r.text, 400, 'invalid_request');
        assert.doesNotMatch(r.text, /echo-me/);
      }
    });

    it('unsupported-media-type, oversized and lying bodies get Tessera errors on the admin API and OAuth routes', async () => {
      const text = await admin('POST', '/admin/users', 'username=x', 'text/plain');
      assertTesseraError(text.status, text.headers, text.text, 415, 'invalid_request');
      const oauthText = await call(t, 'POST', '/oauth/token', { headers: { 'content-type': 'text/plain' }, body: 'x' });
      assertTesseraError(oauthText.status, oauthText.headers, oauthText.text, 415, 'invalid_request');
      const big = await admin('POST', '/admin/users', JSON.stringify({ username: 'x', password: 'y'.repeat(20_000) }));
      assertTesseraError(big.status, big.headers, big.text, 413, 'invalid_request');
      // A Content-Length over the limit is refused before the body is read.
      const claimed = parseRaw(
        await raw(
          t,
          `POST /oauth/token HTTP/1.1\r\nhost: x\r\ncontent-type: ${FORM}\r\ncontent-length: 999999\r\n\r\ngrant_type=x`,
        ),
      );
      assertTesseraError(claimed.status, claimed.headers, claimed.body, 413, 'invalid_request');
    });

    it('malformed-http: requests Node refuses to parse get 400 or 431 in Tessera format', async () => {
      for (const [request, status] of [
        [`POST /oauth/token HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n`, 400],
        [`POST /oauth/token HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
        [`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
        [`GET /healthz?client_secret=echo-me HTTP/9.9 nonsense\r\n\r\n`, 400],
      ] as const) {
        const r = parseRaw(await raw(t, request));
        assertTesseraError(r.status, r.headers, r.body, status, 'invalid_request');
        assert.doesNotMatch(r.body, /echo-me/);
      }
    });

    it('wrong-method: GET, PUT, DELETE and PATCH on the POST-only OAuth endpoints get 405 with Allow', async () => {
      // OPTIONS is the CORS preflight of the endpoints browser apps call (token, revocation); not of introspection.
      const allowed = { '/oauth/token': 'OPTIONS, POST', '/oauth/revoke': 'OPTIONS, POST', '/oauth/introspect': 'POST' };
      for (const [path, allow] of Object.entries(allowed)) {
        const methods = ['GET', 'PUT', 'DELETE', 'PATCH', ...(allow.includes('OPTIONS') ? [] : ['OPTIONS'])];
        for (const method of methods) {
          const r = await call(t, method, path, { headers: { authorization: basic(svc.id, svc.secret!) } });
          assertTesseraError(r.status, r.headers, r.text, 405, 'invalid_request');
          assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
        }
        const head = await fetch(t.url + path, { method: 'HEAD' });
        assert.equal(head.status, 405);
        assert.equal(head.headers.get('allow'), allow);
      }
      // Elsewhere too, with the methods the path has.
      const r = await call(t, 'DELETE', '/healthz');
      assertTesseraError(r.status, r.headers, r.text, 405, 'method_not_allowed');
      assert.equal(r.headers.get('allow'), 'GET, HEAD');
    });

    it('unknown-route: every unknown path gets 404 in Tessera format', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['POST', '/oauth/authorize'],
        ['GET', '/admin/nope'],
        ['GET', '/.well-known/nope'],
        ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
      ] as const) {
        const r = await call(t, method, path);
        assertTesseraError(r.status, r.headers, r.text, 404, 'not_found');
      }
    });
  });

  describe('credentials in the query string', () => {
    it('secret-in-query: the OAuth endpoints refuse credentials in the URL, whatever their spelling', async () => {
      const auth = { authorization: basic(svc.id, svc.secret!), 'content-type': FORM };
      for (const [path, query] of [
        ['/oauth/token', `client_secret=${svc.secret!}`],
        ['/oauth/token', 'client%5Fsecret=x'],
        ['/oauth/token', 'CLIENT_SECRET=x'],
        ['/oauth/token', 'password=x&username=alice'],
        ['/oauth/token', 'refresh_token=x'],
        ['/oauth/token', 'client_assertion=x'],
        ['/oauth/token', 'subject_token=x'],
        ['/oauth/token', 'actor_token=x'],
        ['/oauth/token', 'assertion=x'],
        ['/oauth/token', 'code=x'],
        ['/oauth/token', 'access_token'],
        ['/oauth/revoke', 'token=x'],
        ['/oauth/introspect', 'token=x'],
      ] as const) {
        const r = await call(t, 'POST', `${path}?${query}`, { headers: auth, body: 'grant_type=client_credentials&token=y' });
        assertTesseraError(r.status, r.headers, r.text, 400, 'invalid_request');
      }
      // Other query parameters change nothing.
      const ok = await call(t, 'POST', '/oauth/token?trace=1', { headers: auth, body: 'grant_type=client_credentials' });
      assert.equal(ok.status, 200, ok.text);
    });
  });

  describe('client assertions (RFC 7523)', () => {
    it('client-assertion-duplicate-claim-keys: a claim named twice is refused, whichever copy would win', async () => {
      const key = generateKey('ES256', { kid: 'dup-claims' });
      await t.client({
        id: 'svc-dup-jwt',
        authMethod: 'private_key_jwt',
        jwks: { keys: [key.publicKey().toJwk()] },
        grantTypes: ['client_credentials'],
        scopes: ['a'],
        audiences: ['api'],
      });
      /** A compact JWS over exactly these payload bytes, signed by the client's registered key. */
      const signed = (payload: string) => {
        const input = `${encodeBase64url(JSON.stringify({ alg: 'ES256', kid: key.kid }))}.${encodeBase64url(payload)}`;
        const sig = sign('sha256', Buffer.from(input), { key: key.keyObject, dsaEncoding: 'ieee-p1363' });
        return `${input}.${sig.toString('base64url')}`;
      };
      const now = Math.floor(Date.now() / 1000);
      const aud = JSON.stringify(`${t.url}/oauth/token`);
      const claims = (jti: string) => `"iss":"svc-dup-jwt","aud":${aud},"jti":"${jti}"`;
      const present = (assertion: string) =>
        call(t, 'POST', '/oauth/token', {
          headers: { 'content-type': FORM },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: 'svc-dup-jwt',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          }).toString(),
        });
      for (const payload of [
        // Another client's name first, the caller's own last: a parser where the last copy wins reads svc-dup-jwt.
        `{${claims(randomUUID())},"sub":"svc","exp":${now + 60},"sub":"svc-dup-jwt"}`,
        // A lifetime of a day, hidden behind a short one.
        `{${claims(randomUUID())},"sub":"svc-dup-jwt","exp":${now + 86_400},"exp":${now + 60}}`,
        // The repeat spelled with an escape.
        `{${claims(randomUUID())},"sub":"svc","exp":${now + 60},"s\\u0075b":"svc-dup-jwt"}`,
      ]) {
        const r = await present(signed(payload));
        assertTesseraError(r.status, r.headers, r.text, 401, 'invalid_client');
      }
      // The same assertion without the repeat authenticates: the refusal above is the repeat's.
      const ok = await present(signed(`{${claims(randomUUID())},"sub":"svc-dup-jwt","exp":${now + 60}}`));
      assert.equal(ok.status, 200, ok.text);
    });
  });

  describe('security headers', () => {
    it('missing-security-headers: every route family answers with them, and admin reads with no-store', async () => {
      const feed = await feedToken(t, await feedClient(t, 'http-feed'));
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      const form = (body: string) => ({ headers: { authorization: basic(svc.id, svc.secret!), 'content-type': FORM }, body });
      const cases: [string, string, string, RequestInit, number, string | undefined][] = [
        ['token', 'POST', '/oauth/token', form('grant_type=client_credentials'), 200, 'no-store'],
        ['token error', 'POST', '/oauth/token', form('grant_type=nope'), 400, 'no-store'],
        ['revoke', 'POST', '/oauth/revoke', form('token=nothing'), 200, undefined],
        ['introspection', 'POST', '/oauth/introspect', form('token=nothing'), 200, 'no-store'],
        ['admin read', 'GET', '/admin/users', bearer(adminToken), 200, 'no-store'],
        ['admin read', 'GET', '/admin/keys', bearer(adminToken), 200, 'no-store'],
        ['admin read', 'GET', '/admin/roles', bearer(adminToken), 200, 'no-store'],
        ['admin refusal', 'GET', '/admin/users', {}, 401, undefined],
        ['jwks', 'GET', '/.well-known/jwks.json', {}, 200, undefined],
        ['discovery', 'GET', '/.well-known/oauth-authorization-server', {}, 200, undefined],
        ['health', 'GET', '/healthz', {}, 200, undefined],
        ['readiness', 'GET', '/readyz', {}, 200, undefined],
        ['metrics', 'GET', '/metrics', bearer(await metricsToken(t)), 200, 'no-store'],
        ['metrics refusal', 'GET', '/metrics', {}, 401, 'no-store'],
        ['revocation snapshot', 'GET', '/revocations', bearer(feed), 200, 'no-store'],
        ['404', 'GET', '/nope', {}, 404, 'no-store'],
        ['405', 'GET', '/oauth/token', {}, 405, 'no-store'],
        ['bad url', 'GET', '/admin/users/%zz', {}, 400, 'no-store'],
      ];
      for (const [what, method, path, init, status, cacheControl] of cases) {
        const r = await call(t, method, path, init);
        assert.equal(r.status, status, `${what}: ${r.text}`);
        assertSecurityHeaders(r.headers, what);
        if (cacheControl) assert.equal(r.headers.get('cache-control'), cacheControl, `${what} cache-control`);
        assert.equal(r.headers.get('strict-transport-security'), null, `${what}: no HSTS over plain HTTP`);
      }
      // JWKS and metadata keep their public caching.
      assert.match((await call(t, 'GET', '/.well-known/jwks.json')).headers.get('cache-control') ?? '', /public, max-age=/);
      // The event stream, written straight to the socket.
      const stream = await openStream(t, feed);
      assert.equal(stream.status, 200);
      assertSecurityHeaders(stream.headers, 'revocation stream');
      assert.equal(stream.headers.get('cache-control'), 'no-store');
      stream.close();
      await stream.done;
      // Refusals written by Node's parser.
      const refused = parseRaw(await raw(t, 'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: x\r\n\r\n'));
      assertSecurityHeaders(refused.headers, 'parser refusal');
    });

    it('hsts: a server reached over TLS (an https issuer) sends Strict-Transport-Security on every answer', async () => {
      const tls = await startServer({ overrides: { issuer: 'https://auth.example' } });
      const { port } = tls.server.app.server.address() as AddressInfo;
      try {
        for (const [method, path] of [
          ['GET', '/healthz'],
          ['GET', '/.well-known/jwks.json'],
          ['POST', '/oauth/token'],
          ['GET', '/admin/users'],
          ['GET', '/nope'],
          ['GET', '/admin/users/%zz'],
        ] as const) {
          const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
          await r.body?.cancel();
          assert.match(r.headers.get('strict-transport-security') ?? '', /^max-age=\d+/, `${method} ${path}`);
          assertSecurityHeaders(r.headers, path);
        }
      } finally {
        await tls.close();
      }
    });
  });

  it('is still up after all of the above', async () => {
    assert.equal((await call(t, 'GET', '/healthz')).status, 200);
  });
});
