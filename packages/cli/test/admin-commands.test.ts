/**
 * The admin commands as a user runs them: each a child process with default flags and a relative --dir,
 * on a data folder made by `tessera init`, beside a real server on port 0 that shares its SQLite file.
 * Every change goes through @tessera/server's admin service, so what the CLI does, the server sees.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createServer, type TesseraServer } from '@tessera/server';

import { contextOf } from '@tessera/server/internal';
import { createTestPki } from '@tessera/testing';

import { tempDir, tessera, type CliResult } from './helpers/cli.js';

const ISSUER = 'https://auth.example.test';
const DIR = 'data';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe('tessera roles, users, clients, keys and token revoke / introspect', () => {
  let root: { dir: string; remove: () => Promise<void> };
  let server: TesseraServer;
  let url: string;
  let init: {
    config_file: string;
    issuer: string;
    admin_user: { username: string; password: string };
    admin_client: { client_id: string; client_secret: string; scope: string; audience: string };
  };

  /** `tessera ARGS --dir data` run in the temporary folder (a relative --dir, as a user types it). */
  const cli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> =>
    tessera([...args, '--dir', DIR], { cwd: root.dir, ...options });
  /** The same, with --json, parsed; fails the test unless it succeeds. */
  async function json<T = Record<string, unknown>>(args: string[], input?: string): Promise<T> {
    const r = await cli([...args, '--json'], { input });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  async function token(clientId: string, secret: string, params: Record<string, string>): Promise<Answer> {
    const res = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64'),
      },
      body: new URLSearchParams(params),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  /** The password grant with the admin client that `init` made. */
  const login = (username: string, password: string) =>
    token(init.admin_client.client_id, init.admin_client.client_secret, {
      grant_type: 'password',
      username,
      password,
      resource: init.admin_client.audience,
    });

  /** `clients add ID` (client_credentials for audience api) and an access token of the new client. */
  async function serviceWithToken(id: string): Promise<{ secret: string; access: string }> {
    const c = await json<{ client_secret: string }>(['clients', 'add', id, '--grant', 'client_credentials', '--audience', 'api']);
    const r = await token(id, c.client_secret, { grant_type: 'client_credentials', resource: 'api' });
    assert.equal(r.status, 200);
    return { secret: c.client_secret, access: r.body.access_token as string };
  }

  before(async () => {
    root = await tempDir();
    const r = await tessera(['init', '--dir', DIR, '--issuer', ISSUER, '--json'], { cwd: root.dir });
    assert.equal(r.code, 0, r.stderr);
    init = JSON.parse(r.stdout);
    server = await createServer({ file: join(root.dir, DIR, 'tessera.json'), overrides: { port: 0, logLevel: 'silent' } });
    url = await server.listen();
  });
  after(async () => {
    await server?.close();
    await root.remove();
  });

  it('init --json prints exactly config_file, issuer, admin_user and admin_client', () => {
    assert.deepEqual(Object.keys(init).sort(), ['admin_client', 'admin_user', 'config_file', 'issuer']);
    assert.deepEqual(Object.keys(init.admin_user).sort(), ['password', 'username']);
    assert.deepEqual(Object.keys(init.admin_client).sort(), ['audience', 'client_id', 'client_secret', 'scope']);
    assert.equal(init.config_file, join(root.dir, DIR, 'tessera.json'));
    assert.equal(init.issuer, ISSUER);
    assert.equal(init.admin_client.audience, `${ISSUER}/admin`);
  });

  it('roles add / list / grant / revoke; an unknown role is refused with the known ones named', async () => {
    const added = await json(['roles', 'add', 'buyer', '--permission', 'orders:read', '--permission', 'orders:write']);
    assert.deepEqual(added, { name: 'buyer', permissions: ['orders:read', 'orders:write'] });
    const again = await cli(['roles', 'add', 'admin', '--permission', 'nothing']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ERR_CONFLICT: a role named admin exists/);
    const roles = await json<{ name: string; permissions: string[] }[]>(['roles', 'list']);
    assert.deepEqual(roles, [
      { name: 'admin', permissions: ['tessera:admin'] },
      { name: 'buyer', permissions: ['orders:read', 'orders:write'] },
    ]);
    const text = await cli(['roles', 'list']);
    assert.match(text.stdout, /^buyer\torders:read orders:write$/m);

    await json(['users', 'add', 'olga']);
    const granted = await json<{ username: string; roles: string[] }>(['roles', 'grant', 'buyer', 'olga']);
    assert.deepEqual(granted.roles, ['buyer']);
    const revoked = await json<{ roles: string[] }>(['roles', 'revoke', 'buyer', 'olga']);
    assert.deepEqual(revoked.roles, []);

    for (const args of [
      ['roles', 'grant', 'buyr', 'olga'],
      ['users', 'add', 'pavel', '--role', 'buyr'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /ERR_UNKNOWN_ROLE: no role named buyr; known roles: admin, buyer/);
    }
    const users = await json<{ username: string; roles: string[] }[]>(['users', 'list']);
    assert.ok(!users.some((u) => u.username === 'pavel'), 'a refused user is not created');
    assert.deepEqual(users.find((u) => u.username === 'olga')!.roles, []);
    assert.equal((await cli(['roles', 'revoke', 'buyer', 'nobody'])).code, 1);
  });

  it('users set-password (from standard input), disable, enable and delete: the running server follows', async () => {
    await json(['users', 'add', 'erin', '--role', 'admin', '--password-stdin'], 'the first passphrase\n');
    assert.equal((await login('erin', 'the first passphrase')).status, 200);

    const noInput = await cli(['users', 'set-password', 'erin']);
    assert.equal(noInput.code, 2, 'the password comes from standard input only');
    const set = await json<{ username: string; revoked_sessions: number }>(
      ['users', 'set-password', 'erin'],
      'the second passphrase\n',
    );
    assert.equal(set.username, 'erin');
    assert.equal((await login('erin', 'the first passphrase')).status, 400);
    const s = await login('erin', 'the second passphrase');
    assert.equal(s.status, 200);
    const weak = await cli(['users', 'set-password', 'erin'], { input: 'short\n' });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /ERR_ADMIN_INPUT: password must have at least 8 characters/);
    assert.ok(!weak.stderr.includes('short\n'));

    const disabled = await json<{ disabled: boolean; revoked_sessions: number }>(['users', 'disable', 'erin']);
    assert.equal(disabled.disabled, true);
    assert.equal(disabled.revoked_sessions, 1);
    assert.equal((await login('erin', 'the second passphrase')).status, 400);
    const enabled = await json<{ disabled: boolean; created_at: number }>(['users', 'enable', 'erin']);
    assert.equal(enabled.disabled, false);
    assert.ok(Math.abs(enabled.created_at - Date.now() / 1000) < 60, 'instants are epoch seconds');
    assert.equal((await login('erin', 'the second passphrase')).status, 200);

    const deleted = await json<{ username: string; deleted: boolean }>(['users', 'delete', 'erin']);
    assert.deepEqual([deleted.username, deleted.deleted], ['erin', true]);
    assert.equal((await login('erin', 'the second passphrase')).status, 400);
    const users = await json<{ username: string }[]>(['users', 'list']);
    assert.ok(!users.some((u) => u.username === 'erin'));
    const gone = await cli(['users', 'delete', 'erin']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ERR_NOT_FOUND/);
  });

  it('users set-profile sets and clears OpenID Connect claims through the admin service; refusals name the rule', async () => {
    await json(['users', 'add', 'fay', '--password-stdin'], 'a long enough passphrase\n');
    const set = await json<Record<string, unknown>>([
      'users',
      'set-profile',
      'fay',
      '--name',
      'Fay Example',
      '--email',
      'fay@example.com',
      '--email-verified',
    ]);
    assert.deepEqual([set.name, set.email, set.email_verified], ['Fay Example', 'fay@example.com', true]);
    const cleared = await json<Record<string, unknown>>([
      'users',
      'set-profile',
      'fay',
      '--clear',
      'email',
      '--given-name',
      'Fay',
    ]);
    assert.deepEqual(
      [cleared.name, cleared.given_name, cleared.email, cleared.email_verified],
      ['Fay Example', 'Fay', null, false],
    );
    const bad = await cli(['users', 'set-profile', 'fay', '--email', 'fay@']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ERR_ADMIN_INPUT: email must be an address/);
    assert.equal((await cli(['users', 'set-profile', 'fay'])).code, 2, 'nothing to set is a usage error');
    assert.equal((await cli(['users', 'set-profile', 'fay', '--clear', 'nickname'])).code, 2);
    const audit = contextOf(server).store.audit.query({ type: 'admin.user.profile_set', limit: 10 });
    assert.equal((await audit).length, 2);
  });

  it('clients add / disable / enable / rotate-secret / delete, in RFC 7591 names', async () => {
    const c = await json<Record<string, unknown>>([
      'clients',
      'add',
      'svc',
      '--grant',
      'client_credentials',
      '--scope',
      'orders:read',
      '--audience',
      'orders',
      '--access-token-ttl',
      '300',
    ]);
    assert.equal(c.client_id, 'svc');
    assert.equal(c.scope, 'orders:read');
    assert.deepEqual(c.grant_types, ['client_credentials']);
    assert.equal(c.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(c.access_token_ttl, 300);
    assert.equal(c.client_secret_expires_at, 0);
    const secret = c.client_secret as string;
    const cc = { grant_type: 'client_credentials', resource: 'orders' };
    const got = await token('svc', secret, cc);
    assert.equal(got.status, 200);
    assert.equal(got.body.expires_in, 300);

    const outOfRange = await cli(['clients', 'add', 'slow', '--grant', 'client_credentials', '--access-token-ttl', '86401']);
    assert.equal(outOfRange.code, 1);
    assert.match(outOfRange.stderr, /ERR_ADMIN_INPUT: access_token_ttl must be an integer from 30 to 86400 seconds/);

    assert.equal((await json(['clients', 'disable', 'svc'])).disabled, true);
    assert.equal((await token('svc', secret, cc)).status, 401);
    assert.equal((await json(['clients', 'enable', 'svc'])).disabled, false);
    assert.equal((await token('svc', secret, cc)).status, 200);

    const before = Math.floor(Date.now() / 1000);
    const rotated = await json<Record<string, unknown>>(['clients', 'rotate-secret', 'svc', '--overlap', '60']);
    assert.deepEqual(Object.keys(rotated).sort(), [
      'client_id',
      'client_secret',
      'client_secret_expires_at',
      'previous_secrets_expire_at',
    ]);
    const until = rotated.previous_secrets_expire_at as number;
    assert.ok(until >= before + 60 && until <= Math.ceil(Date.now() / 1000) + 60, `${until} is an instant, 60 s on`);
    assert.equal((await token('svc', secret, cc)).status, 200, 'the old secret works during the overlap');
    assert.equal((await token('svc', rotated.client_secret as string, cc)).status, 200);

    const deleted = await json(['clients', 'delete', 'svc']);
    assert.deepEqual([deleted.client_id, deleted.deleted], ['svc', true]);
    assert.equal((await token('svc', rotated.client_secret as string, cc)).status, 401);
    const list = await json<{ client_id: string }[]>(['clients', 'list']);
    assert.deepEqual(
      list.map((x) => x.client_id),
      ['tessera-admin'],
    );
    for (const action of ['disable', 'enable', 'delete', 'rotate-secret']) {
      const r = await cli(['clients', action, 'svc']);
      assert.equal(r.code, 1, action);
      assert.match(r.stderr, /ERR_NOT_FOUND: no client svc/);
    }
  });

  it('clients add --auth-method workload_identity: a service without a secret; a user-facing grant refused', async () => {
    const c = await json<Record<string, unknown>>([
      'clients',
      'add',
      'orders-wl',
      '--grant',
      'client_credentials',
      '--grant',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      '--auth-method',
      'workload_identity',
      '--audience',
      'api',
    ]);
    assert.equal(c.token_endpoint_auth_method, 'workload_identity');
    assert.equal(c.client_secret, undefined);
    const refused = await cli([
      'clients',
      'add',
      'wl-2',
      '--grant',
      'password',
      '--first-party',
      '--auth-method',
      'workload_identity',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /workload_identity client may use only/);
    const rotate = await cli(['clients', 'rotate-secret', 'orders-wl']);
    assert.equal(rotate.code, 1);
    assert.match(rotate.stderr, /workload_identity client has no secret/);
  });

  it('clients add --public --first-party --redirect-uri: a public client of the authorization code flow, no secret', async () => {
    const c = await json<Record<string, unknown>>([
      'clients',
      'add',
      'spa',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--public',
      '--first-party',
      '--redirect-uri',
      'https://spa.example.com/callback',
      '--redirect-uri',
      'http://127.0.0.1/callback',
      '--post-logout-redirect-uri',
      'https://spa.example.com/',
      '--require-par',
      '--dpop-bound',
    ]);
    assert.equal(c.token_endpoint_auth_method, 'none');
    assert.equal(c.client_secret, undefined);
    assert.equal(c.first_party, true);
    assert.deepEqual(c.redirect_uris, ['https://spa.example.com/callback', 'http://127.0.0.1/callback']);
    assert.deepEqual(c.post_logout_redirect_uris, ['https://spa.example.com/']);
    assert.equal(c.require_pushed_authorization_requests, true);
    assert.equal(c.dpop_bound_access_tokens, true);
    const seen = (await server.admin.clients.find('spa')).redirectUris;
    assert.deepEqual(seen, ['https://spa.example.com/callback', 'http://127.0.0.1/callback']);

    const wildcard = await cli([
      'clients',
      'add',
      'w',
      '--grant',
      'authorization_code',
      '--public',
      '--redirect-uri',
      'https://*.example.com/cb',
    ]);
    assert.equal(wildcard.code, 1);
    assert.match(wildcard.stderr, /ERR_ADMIN_INPUT: redirect_uris: "https:\/\/\*\.example\.com\/cb" must not contain a wildcard/);
    const both = await cli([
      'clients',
      'add',
      'b',
      '--grant',
      'authorization_code',
      '--public',
      '--auth-method',
      'client_secret_post',
    ]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--public is --auth-method none/);
    const list = await json<{ client_id: string }[]>(['clients', 'list']);
    assert.ok(!list.some((x) => x.client_id === 'w' || x.client_id === 'b'));
  });

  it('clients add --auth-method tls_client_auth / self_signed_tls_client_auth: mutual-TLS clients, exactly one subject', async () => {
    const c = await json<Record<string, unknown>>([
      'clients',
      'add',
      'orders-mtls',
      '--grant',
      'client_credentials',
      '--auth-method',
      'tls_client_auth',
      '--tls-subject-dn',
      'CN=orders,O=Acme',
      '--mtls-bound',
    ]);
    assert.equal(c.token_endpoint_auth_method, 'tls_client_auth');
    assert.equal(c.tls_client_auth_subject_dn, 'CN=orders,O=Acme');
    assert.equal(c.tls_client_certificate_bound_access_tokens, true);
    assert.equal(c.client_secret, undefined);
    const seen = await server.admin.clients.find('orders-mtls');
    assert.deepEqual(seen.tlsClientAuthSubject, { kind: 'subject_dn', value: 'CN=orders,O=Acme' });
    assert.equal(seen.tlsClientCertificateBoundAccessTokens, true);

    const san = await json<Record<string, unknown>>([
      'clients',
      'add',
      'billing-mtls',
      '--grant',
      'client_credentials',
      '--auth-method',
      'tls_client_auth',
      '--tls-san-uri',
      'spiffe://example.org/billing',
    ]);
    assert.equal(san.tls_client_auth_san_uri, 'spiffe://example.org/billing');
    assert.equal(san.tls_client_certificate_bound_access_tokens, false);

    const pki = await createTestPki();
    try {
      const cert = new X509Certificate((await pki.selfSigned('reports')).cert);
      const jwks = { keys: [{ ...cert.publicKey.export({ format: 'jwk' }), x5c: [cert.raw.toString('base64')] }] };
      await writeFile(join(root.dir, 'reports-jwks.json'), JSON.stringify(jwks));
      const self = await json<Record<string, unknown>>([
        'clients',
        'add',
        'reports',
        '--grant',
        'client_credentials',
        '--auth-method',
        'self_signed_tls_client_auth',
        '--jwks',
        'reports-jwks.json',
      ]);
      assert.equal(self.token_endpoint_auth_method, 'self_signed_tls_client_auth');
      assert.deepEqual(self.jwks, jwks);
    } finally {
      await pki.close();
    }

    const two = await cli([
      'clients',
      'add',
      'x',
      '--grant',
      'client_credentials',
      '--auth-method',
      'tls_client_auth',
      '--tls-san-dns',
      'a.example',
      '--tls-san-ip',
      '10.0.0.1',
    ]);
    assert.equal(two.code, 2, two.stderr);
    assert.match(two.stderr, /at most one of --tls-subject-dn/);
    const none = await cli(['clients', 'add', 'y', '--grant', 'client_credentials', '--auth-method', 'tls_client_auth']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /ERR_ADMIN_INPUT: a tls_client_auth client needs exactly one of tls_client_auth_subject_dn/);
    const noX5c = await cli([
      'clients',
      'add',
      'z',
      '--grant',
      'client_credentials',
      '--auth-method',
      'self_signed_tls_client_auth',
    ]);
    assert.equal(noX5c.code, 1);
    assert.match(noX5c.stderr, /ERR_ADMIN_INPUT: a self_signed_tls_client_auth client needs a jwks/);
  });

  it('keys retire takes the active key out of service; the next one signs', async () => {
    // The main track's keys (ES256); the RS256 keys of ID tokens beside them have their own active and next key.
    const keys = (await json<{ kid: string; state: string; alg: string }[]>(['keys', 'list'])).filter((k) => k.alg === 'ES256');
    const active = keys.find((k) => k.state === 'active')!;
    const next = keys.find((k) => k.state === 'next')!;
    const retired = await json<{ kid: string; state: string; remove_at: number }>(['keys', 'retire', active.kid]);
    assert.equal(retired.kid, active.kid);
    assert.equal(retired.state, 'retired');
    assert.ok(retired.remove_at > Date.now() / 1000);
    const all = await json<{ kid: string; state: string; alg: string }[]>(['keys', 'list']);
    const after = all.filter((k) => k.alg === 'ES256');
    assert.equal(after.find((k) => k.state === 'active')!.kid, next.kid);
    assert.equal(after.filter((k) => k.state === 'next').length, 1);
    assert.equal(all.filter((k) => k.alg === 'RS256' && k.state === 'active').length, 1, 'the RS256 track is untouched');
    const again = await cli(['keys', 'retire', active.kid]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ERR_CONFLICT/);
    // The running server reloads its keys on a timer; here at once.
    await contextOf(server).keys.reload();
  });

  it('token introspect and token revoke against the running server (RFC 7662, RFC 7009)', async () => {
    const { secret, access } = await serviceWithToken('reader');
    const env = { TESSERA_CLIENT_SECRET: secret };
    const remote = ['--issuer', url, '--client-id', 'reader'];
    const run = (args: string[], input: string) => tessera(args, { cwd: root.dir, input, env });

    const active = await run(['token', 'introspect', ...remote, '--json'], access);
    assert.equal(active.code, 0, active.stderr);
    const claims = JSON.parse(active.stdout);
    assert.equal(claims.active, true);
    assert.equal(claims.client_id, 'reader');
    const text = await run(['token', 'introspect', ...remote], access);
    assert.match(text.stdout, /^active: true$/m);

    const revoked = await run(['token', 'revoke', ...remote, '--json'], access);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(JSON.parse(revoked.stdout), { accepted: true });
    assert.deepEqual(JSON.parse((await run(['token', 'introspect', ...remote, '--json'], access)).stdout), { active: false });

    const wrong = await tessera(['token', 'revoke', ...remote], {
      cwd: root.dir,
      input: access,
      env: { TESSERA_CLIENT_SECRET: 'not-the-secret' },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /ERR_SERVER_REFUSED: .* HTTP 401 invalid_client/);
    assert.ok(!wrong.stderr.includes(access) && !wrong.stderr.includes('not-the-secret'));
    const both = await tessera(['token', 'revoke', ...remote, '--dir', DIR], { cwd: root.dir, input: access, env });
    assert.equal(both.code, 2);
  });

  it('token revoke in the data folder revokes any live token of this server', async () => {
    const { secret, access } = await serviceWithToken('writer');
    const introspect = async () =>
      (
        await fetch(`${url}/oauth/introspect`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: 'Basic ' + Buffer.from(`writer:${secret}`).toString('base64'),
          },
          body: new URLSearchParams({ token: access }),
        })
      ).json() as Promise<{ active: boolean }>;
    assert.equal((await introspect()).active, true);

    const r = await cli(['token', 'revoke', '--json'], { input: `${access}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { revoked: true, token_type: 'access_token' });
    // The running server reads revocations made elsewhere on a timer (revocationPollSeconds); here at once.
    await contextOf(server).revocations.catchUp();
    assert.equal((await introspect()).active, false);

    const unknown = await cli(['token', 'revoke'], { input: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln\n' });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ERR_TOKEN_NOT_REVOKED/);
  });

  it('every admin command takes --json', async () => {
    for (const args of [
      ['users', 'list'],
      ['roles', 'list'],
      ['clients', 'list'],
      ['keys', 'list'],
    ]) {
      const r = await cli([...args, '--json']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(Array.isArray(JSON.parse(r.stdout)), args.join(' '));
    }
  });
});
