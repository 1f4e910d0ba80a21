import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { NotFoundError, type Actor, type AdminService } from '@tessera/server';

import { contextOf, type SqlStore } from '@tessera/server/internal';

import { dropWrites } from './helpers/faults.js';
import { auditEvents, clientCredentials, introspect, login, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

// `server.admin`, the admin service of @tessera/server's public entry: the same actions the admin API and
// the `tessera` command run, called by a program that embeds the server.
const OPERATOR: Actor = { actor: 'ops-script', ip: null };

describe('server.admin (the admin service of the public entry)', () => {
  let t: TestServer;
  let admin: AdminService;
  let rs: ClientCreds;
  let app: ClientCreds;

  before(async () => {
    t = await startServer();
    admin = t.server.admin;
    rs = await t.client({ id: 'rs', grantTypes: ['client_credentials'], scopes: [], audiences: ['docs'] });
    app = await t.client({
      id: 'app',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['docs:read'],
      audiences: ['docs'],
    });
  });
  after(() => t.close());

  it('creates a role and a user who can then log in, with an audit record naming the actor', async () => {
    await admin.roles.put(OPERATOR, 'reader', ['docs:read'], { replace: false });
    const user = await admin.users.create(OPERATOR, { username: 'Dana', password: 'correct horse battery', roles: ['reader'] });
    assert.equal(user.username, 'dana');
    const r = await login(t, app, 'dana', 'correct horse battery', { scope: 'docs:read', resource: 'docs' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const created = (await auditEvents(t, 'admin.user.created')).find((e) => e.subject === user.id);
    assert.equal(created?.actor, 'ops-script');
  });

  it('disabling a user ends its sessions and its access tokens at once', async () => {
    const user = await admin.users.create(OPERATOR, { username: 'erin', password: 'correct horse battery', roles: ['reader'] });
    const r = await login(t, app, 'erin', 'correct horse battery', { scope: 'docs:read', resource: 'docs' });
    assert.equal(r.status, 200);
    assert.equal((await introspect(t, rs, r.body.access_token!)).body.active, true);
    const done = await admin.users.setDisabled(OPERATOR, user.id, true);
    assert.equal(done.user.disabled, true);
    assert.equal(done.revokedSessions, 1);
    assert.equal((await introspect(t, rs, r.body.access_token!)).body.active, false);
    assert.equal((await introspect(t, rs, r.body.refresh_token!)).body.active, false);
  });

  it('a client created through it gets tokens with the secret shown once; disabled, it gets none', async () => {
    const { client, secret } = await admin.clients.create(OPERATOR, {
      id: 'reports',
      grantTypes: ['client_credentials'],
      scopes: ['docs:read'],
      audiences: ['docs'],
    });
    assert.ok(secret);
    const creds = { id: client.id, secret };
    assert.equal((await clientCredentials(t, creds, { scope: 'docs:read', resource: 'docs' })).status, 200);
    await admin.clients.setDisabled(OPERATOR, 'reports', true);
    assert.equal((await clientCredentials(t, creds, { scope: 'docs:read', resource: 'docs' })).status, 401);
  });

  it('refuses an unknown user with the coded NotFoundError', async () => {
    await assert.rejects(admin.users.find({ username: 'nobody' }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'ERR_NOT_FOUND');
      return true;
    });
  });

  it('rotating keys publishes the next key in the JWKS', async () => {
    const { kid } = await admin.keys.rotate(OPERATOR);
    const jwks = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === kid));
    assert.equal((await admin.keys.list()).find((k) => k.kid === kid)?.state, 'next');
  });

  it('client-deleted-during-an-update: an update that finds no row answers NotFoundError and audits nothing', async () => {
    await admin.clients.create(OPERATOR, {
      id: 'vanishing',
      grantTypes: ['client_credentials'],
      scopes: [],
      audiences: ['docs'],
    });
    // The row gone between the service's read and its write, as a concurrent delete leaves it: the update writes nothing.
    const heal = await dropWrites(contextOf(t.server).store as SqlStore, 'clients', 'update');
    try {
      for (const patch of [{ name: 'Renamed' }, { disabled: true }])
        await assert.rejects(admin.clients.update(OPERATOR, 'vanishing', patch), (err: unknown) => {
          assert.ok(err instanceof NotFoundError, String(err));
          return true;
        });
    } finally {
      await heal();
    }
    assert.equal((await auditEvents(t, 'admin.client.updated')).filter((e) => e.client_id === 'vanishing').length, 0);
  });

  it('the public TesseraServer carries no context: its store, keys and master key are reached only through ./internal', () => {
    // @ts-expect-error context is not on the public type
    void t.server.context;
    assert.equal('context' in t.server, false);
    assert.equal(contextOf(t.server).store !== undefined, true);
  });
});
