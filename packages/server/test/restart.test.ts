import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { createVerifier } from '@tessera/verifier';

import { adminAs, kidOf, ownAdminClient, tokenOf } from './helpers/admin-api.js';
import { clientCredentials, introspect, login, refresh, revoke, type ClientCreds } from './helpers/oauth.js';
import { freePort } from '@tessera/testing';

import { startServer, type TestServer } from './helpers/server.js';

/**
 * Watches the server's connections; the returned function waits until all have closed and the client side
 * has seen it, so that fetch does not reuse a pooled keep-alive connection of the stopped server.
 */
function trackConnections(t: TestServer): () => Promise<void> {
  const open = new Set<Socket>();
  t.server.app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return async () => {
    await Promise.all([...open].map((socket) => once(socket, 'close')));
    await new Promise((resolve) => setImmediate(resolve));
  };
}

const PASSWORD = 'survives a restart';

describe('restart', () => {
  let t: TestServer;
  let port: number;
  let admin: ClientCreds;
  let app: ClientCreds;
  let svc: ClientCreds;
  let userId: string;
  const earlier = {
    jwks: undefined as unknown,
    keys: undefined as unknown,
    svcToken: '',
    userToken: '',
    refreshToken: '',
    revokedToken: '',
    cutOffToken: '',
    revokedSessionRefresh: '',
  };

  before(async () => {
    port = await freePort();
    t = await startServer({ overrides: { port } });
    const closed = trackConnections(t);
    admin = await ownAdminClient(t, 'restart-admin');
    const token = await tokenOf(t, admin);
    const ok = async (method: string, path: string, body: unknown, status = 200) => {
      const r = await adminAs(t, token, method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };

    await ok('PUT', '/admin/roles/reader', { permissions: ['docs:read'] });
    userId = (await ok('POST', '/admin/users', { username: 'Rita', password: PASSWORD, roles: ['reader'] }, 201)).id;
    const a = await ok(
      'POST',
      '/admin/clients',
      {
        client_id: 'app',
        first_party: true,
        grant_types: ['password', 'refresh_token'],
        scope: 'docs:read',
        audiences: ['docs'],
      },
      201,
    );
    app = { id: 'app', secret: a.client_secret };
    const s = await ok(
      'POST',
      '/admin/clients',
      { client_id: 'svc', grant_types: ['client_credentials'], scope: 'docs:read', audiences: ['docs'] },
      201,
    );
    svc = { id: 'svc', secret: s.client_secret };
    const other = await ok(
      'POST',
      '/admin/clients',
      { client_id: 'cut-off', grant_types: ['client_credentials'], scope: '', audiences: ['docs'] },
      201,
    );

    earlier.svcToken = await tokenOf(t, svc);
    const session = await login(t, app, 'rita', PASSWORD);
    assert.equal(session.status, 200);
    earlier.userToken = session.body.access_token!;
    earlier.refreshToken = session.body.refresh_token!;

    // Revocations of each kind: an access token (jti), a session (family), a client cut-off.
    earlier.revokedToken = await tokenOf(t, svc);
    assert.equal((await revoke(t, svc, earlier.revokedToken)).status, 200);
    const doomed = await login(t, app, 'rita', PASSWORD);
    earlier.revokedSessionRefresh = doomed.body.refresh_token!;
    await ok('DELETE', `/admin/sessions/${(await introspect(t, svc, doomed.body.access_token!)).body.sid}`, undefined, 204);
    earlier.cutOffToken = await tokenOf(t, { id: 'cut-off', secret: other.client_secret });
    await ok('POST', '/admin/revoke', { client_id: 'cut-off' });

    for (const token of [earlier.revokedToken, earlier.cutOffToken, doomed.body.access_token!])
      assert.equal((await introspect(t, svc, token)).body.active, false);
    earlier.jwks = await (await fetch(`${t.url}/.well-known/jwks.json`)).json();
    earlier.keys = (await ok('GET', '/admin/keys', undefined)).items;

    const { url, dir } = t;
    await t.close(true);
    await closed();
    t = await startServer({ dir, overrides: { port } });
    assert.equal(t.url, url, 'same issuer');
  });
  after(() => t.close());

  it('keeps users and roles', async () => {
    const r = await adminAs(t, await tokenOf(t, admin), 'GET', `/admin/users/${userId}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.username, 'rita');
    assert.deepEqual(r.body.roles, ['reader']);
    const s = await login(t, app, 'rita', PASSWORD);
    assert.equal(s.status, 200);
    assert.equal(s.body.scope, 'docs:read');
  });

  it('keeps clients: their secrets still work', async () => {
    assert.equal((await clientCredentials(t, svc)).status, 200);
    assert.equal((await clientCredentials(t, admin)).status, 200);
    assert.equal((await clientCredentials(t, { id: 'svc', secret: 'not-the-secret' })).status, 401);
  });

  it('keeps the signing keys: same JWKS, and tokens issued before still verify', async () => {
    assert.deepEqual(await (await fetch(`${t.url}/.well-known/jwks.json`)).json(), earlier.jwks);
    assert.deepEqual((await adminAs(t, await tokenOf(t, admin), 'GET', '/admin/keys')).body.items, earlier.keys);
    const v = createVerifier({
      issuer: t.url,
      audience: 'docs',
      algorithms: ['ES256'],
      jwksUri: `${t.url}/.well-known/jwks.json`,
    });
    try {
      assert.equal((await v.verify(earlier.svcToken)).sub, 'svc');
      assert.equal((await v.verify(earlier.userToken)).sub, userId);
    } finally {
      v.close();
    }
    assert.equal((await introspect(t, svc, earlier.svcToken)).body.active, true);
    assert.equal(kidOf(await tokenOf(t, svc)), kidOf(earlier.svcToken), 'the same key signs');
  });

  it('keeps refresh tokens: one issued before rotates after', async () => {
    const r = await refresh(t, app, earlier.refreshToken);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scope, 'docs:read');
    assert.equal((await refresh(t, app, r.body.refresh_token!)).status, 200);
  });

  it('keeps revocations: revoked tokens and sessions stay revoked', async () => {
    assert.equal((await introspect(t, svc, earlier.revokedToken)).body.active, false, 'revoked access token');
    assert.equal((await introspect(t, svc, earlier.cutOffToken)).body.active, false, 'client cut-off');
    assert.equal((await refresh(t, app, earlier.revokedSessionRefresh)).body.error, 'invalid_grant', 'revoked session');
  });
});
