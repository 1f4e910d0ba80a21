import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createVerifier } from '@tessera/verifier';

import { basic, startServer, type TestServer } from './helpers/server.js';

describe('auth server smoke', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.close());

  it('issues a client_credentials token that a remote-JWKS verifier accepts', async () => {
    const c = await t.client({
      id: 'orders',
      grantTypes: ['client_credentials'],
      scopes: ['inventory:read'],
      audiences: ['inventory'],
    });
    const r = await t.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(c.id, c.secret!) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const v = createVerifier({
      issuer: t.url,
      audience: 'inventory',
      algorithms: ['ES256'],
      jwksUri: `${t.url}/.well-known/jwks.json`,
    });
    const p = await v.verify(r.body.access_token);
    assert.equal(p.sub, 'orders');
    assert.deepEqual(p.scopes, ['inventory:read']);
    v.close();
  });

  it('serves the admin API to an admin token only', async () => {
    const created = await t.admin('POST', '/admin/users', { username: 'Bob', password: 'a long password' });
    assert.equal(created.status, 201);
    assert.equal(created.body.username, 'bob');
    const res = await fetch(`${t.url}/admin/users`);
    assert.equal(res.status, 401);
  });
});
