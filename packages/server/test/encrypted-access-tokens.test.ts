/**
 * Encrypted access tokens (RFC 9068 section 2.1 nested JWTs) for a resource registered with an encryption key: a
 * token with the user's email in it is unreadable to the client and to any other service, and readable, with its
 * claims, by the resource's private key — checked with jose (compactDecrypt, jwtVerify against the server's JWKS),
 * not by the code under test. The server still introspects and revokes them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { generateEncryptionKey, type EncryptionKey } from '@tessera/core';
import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

import { contextOf } from '@tessera/server/internal';
import type { Kysely } from 'kysely';

import { assertOAuthError, assertTokenResponse, clientCredentials, introspect, login, revoke } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const PAYROLL = 'https://payroll.example';

describe('encrypted access tokens for a registered resource', () => {
  let t: TestServer;
  let app: { id: string; secret: string | undefined };
  let payroll: { id: string; secret: string | undefined };
  let key: EncryptionKey;
  let userId: string;

  before(async () => {
    t = await startServer();
    key = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'payroll-1' });
    const r = await t.admin('POST', '/admin/resources', {
      name: 'payroll',
      resource: PAYROLL,
      encrypt_access_tokens: true,
      encryption_keys: [key.publicKey().toJwk()],
      access_token_claims: ['email', 'name'],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await t.admin('POST', '/admin/roles', { name: 'clerk', permissions: ['payroll:read'] });
    userId = await t.user('ada', PASSWORD, ['clerk']);
    const patched = await t.admin('PATCH', `/admin/users/${userId}`, { email: 'ada@example.com', name: 'Ada Lovelace' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    app = await t.client({
      id: 'hr-app',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['payroll:read', 'email', 'profile'],
      audiences: [PAYROLL, 'https://reports.example'],
    });
    payroll = await t.client({ id: 'payroll-service', grantTypes: ['client_credentials'], scopes: [], audiences: [PAYROLL] });
  });
  after(() => t.close());

  /** jose decrypts with the resource's private key and verifies the inner token against the server's JWKS. */
  async function open(token: string, withKey: EncryptionKey = key) {
    const { plaintext, protectedHeader } = await compactDecrypt(
      token,
      await importJWK(withKey.toJwk({ private: true }) as never),
    );
    const inner = new TextDecoder().decode(plaintext);
    const { payload, protectedHeader: innerHeader } = await jwtVerify(
      inner,
      createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`)),
      {
        issuer: t.url,
        audience: PAYROLL,
        typ: 'at+jwt',
      },
    );
    return { header: protectedHeader, payload, innerHeader };
  }

  it('issues the resource a nested JWT: encrypted to its key, with the claims the scopes grant, unreadable to the client', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read email' });
    assertTokenResponse(r);
    const token = r.body.access_token as string;
    assert.equal(token.split('.').length, 5);
    const header = decodeProtectedHeader(token);
    assert.deepEqual(
      { alg: header.alg, enc: header.enc, cty: header.cty, typ: header.typ, kid: header.kid },
      { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', typ: 'at+jwt', kid: 'payroll-1' },
    );
    // The client (and its logs) sees no claim: no part of the token decodes to the address.
    for (const part of token.split('.'))
      assert.doesNotMatch(Buffer.from(part, 'base64url').toString('latin1'), /ada@example\.com|payroll:read/);
    const { payload } = await open(token);
    assert.equal(payload.sub, userId);
    assert.equal(payload.email, 'ada@example.com');
    // email_verified is given by the email scope, but the resource did not ask for it.
    assert.equal(payload.email_verified, undefined);
    // name needs the profile scope, not granted here.
    assert.equal(payload.name, undefined);
    assert.equal(payload.scope, 'payroll:read email');
  });

  it('adds only the claims the resource asked for and the scopes grant', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read profile' });
    assertTokenResponse(r);
    const { payload } = await open(r.body.access_token as string);
    assert.equal(payload.name, 'Ada Lovelace');
    // given by profile, but not one of the resource's access_token_claims
    assert.equal(payload.preferred_username, undefined);
    assert.equal(payload.email, undefined);
  });

  it('keeps the signed token inside sealed: the database holds neither the claims nor a token', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read email' });
    const { payload } = await open(r.body.access_token as string);
    const store = contextOf(t.server).store as unknown as {
      db: Kysely<{ encrypted_access_tokens: { inner: string; digest: string } }>;
    };
    const rows = await store.db.selectFrom('encrypted_access_tokens').select(['inner', 'digest']).execute();
    assert.ok(rows.length > 0);
    for (const row of rows) {
      assert.match(row.inner, /^v1\.[A-Za-z0-9_-]+$/);
      assert.doesNotMatch(Buffer.from(row.inner.slice(3), 'base64url').toString('latin1'), /ada@example|eyJ/);
      assert.ok(!row.inner.includes(String(payload.jti)));
    }
  });

  it('another service cannot decrypt it', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read email' });
    const other = generateEncryptionKey('ECDH-ES+A256KW', { kid: 'payroll-1' });
    await assert.rejects(open(r.body.access_token as string, other));
  });

  it('issues tokens for an unregistered audience signed only, without user claims', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: 'https://reports.example', scope: 'payroll:read email' });
    assertTokenResponse(r);
    const token = r.body.access_token as string;
    assert.equal(token.split('.').length, 3);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(payload.email, undefined);
  });

  it('encrypts service tokens too, with no user claims', async () => {
    const r = await clientCredentials(t, payroll as never, { resource: PAYROLL });
    assertTokenResponse(r);
    const { payload } = await open(r.body.access_token as string);
    assert.equal(payload.sub, 'payroll-service');
    assert.equal(payload.email, undefined);
  });

  it('introspects an encrypted token (for the resource), and reports it inactive once revoked', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read email' });
    const token = r.body.access_token as string;
    const active = await introspect(t, payroll as never, token);
    assert.equal(active.status, 200);
    assert.equal(active.body.active, true);
    assert.equal(active.body.sub, userId);
    assert.equal(active.body.aud, PAYROLL);
    // The user claims inside are the resource's alone: it reads them by decrypting, never by introspection.
    assert.equal(active.body.email, undefined);
    assert.equal((await revoke(t, app as never, token)).status, 200);
    assert.deepEqual((await introspect(t, payroll as never, token)).body, { active: false });
  });

  it('encrypted-claims-introspection-leak: the client holding an encrypted token cannot read the user claims in it by introspecting it', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read email' });
    const token = r.body.access_token as string;
    // "The client holds five opaque segments; only the resource, with its private key, reads the claims."
    const own = await introspect(t, app as never, token);
    assert.equal(own.status, 200);
    assert.doesNotMatch(
      JSON.stringify(own.body),
      /ada@example\.com/,
      'introspection hands the client the claims encrypted to the resource',
    );
  });

  it('refreshes into a new encrypted token', async () => {
    const r = await login(t, app as never, 'ada', PASSWORD, { resource: PAYROLL, scope: 'payroll:read email' });
    const refreshed = await t.form(
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: r.body.refresh_token as string },
      { authorization: `Basic ${Buffer.from(`hr-app:${app.secret}`).toString('base64')}` },
    );
    assertTokenResponse(refreshed as never);
    const { payload } = await open(refreshed.body.access_token as string);
    assert.equal(payload.email, 'ada@example.com');
  });

  it('encrypts to the newest key once one is added (rotation), and the old key no longer opens new tokens', async () => {
    const next = generateEncryptionKey('RSA-OAEP-256', { kid: 'payroll-2' });
    const added = await t.admin('POST', '/admin/resources/payroll/keys', next.publicKey().toJwk());
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const r = await clientCredentials(t, payroll as never, { resource: PAYROLL });
    const token = r.body.access_token as string;
    assert.equal(decodeProtectedHeader(token).kid, 'payroll-2');
    assert.equal(decodeProtectedHeader(token).alg, 'RSA-OAEP-256');
    assert.equal((await open(token, next)).payload.sub, 'payroll-service');
    await assert.rejects(open(token, key));
    assert.equal((await t.admin('DELETE', '/admin/resources/payroll/keys/payroll-2')).status, 200);
  });

  it('refuses a made-up encrypted token at introspection and revocation without a crash', async () => {
    const r = await clientCredentials(t, payroll as never, { resource: PAYROLL });
    const parts = (r.body.access_token as string).split('.');
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith('AA') ? 'AB' : 'AA');
    const forged = parts.join('.');
    assert.deepEqual((await introspect(t, payroll as never, forged)).body, { active: false });
    assert.equal((await revoke(t, app as never, forged)).status, 200);
    assertOAuthError(await login(t, app as never, 'ada', 'wrong password', { resource: PAYROLL }), 400, 'invalid_grant');
  });
});
