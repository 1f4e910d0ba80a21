import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { generateKey, signJwt, type Key } from '@tessera/core';

import { contextOf } from '@tessera/server/internal';

import { tokenOf } from './helpers/admin-api.js';
import { clientCredentials, introspect, login, postForm, refresh, type ClientCreds } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('admin API: clients', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  /** Authenticates introspection calls: the resource server of the tests' audiences. */
  let rs: ClientCreds;

  before(async () => {
    t = await startServer({ now: clock.now });
    rs = await t.client({ id: 'resource-server', grantTypes: ['client_credentials'], scopes: [], audiences: ['orders', 'web'] });
  });
  after(() => t.close());

  /** Creates a client through the admin API; returns its id and the secret of the 201 response. */
  async function create(body: Record<string, unknown>): Promise<ClientCreds> {
    const r = await t.admin('POST', '/admin/clients', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { id: r.body.client_id as string, secret: r.body.client_secret as string | undefined };
  }

  /** RFC 7591 client metadata, with Tessera's audiences. */
  const service = (id: string, extra: Record<string, unknown> = {}) => ({
    client_id: id,
    grant_types: ['client_credentials'],
    scope: 'orders:read orders:write',
    audiences: ['orders'],
    ...extra,
  });
  const active = async (token: string) => (await introspect(t, rs, token)).body.active;

  /** A client assertion (RFC 7523) signed with `key`. */
  function assertion(key: Key, clientId: string): string {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      { iss: clientId, sub: clientId, aud: `${t.url}/oauth/token`, iat: now, exp: now + 60, jti: randomUUID() },
      key,
    );
  }

  it('shows the client secret once, in the 201 response, and never again', async () => {
    const res = await fetch(`${t.url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.adminToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify(service('billing', { client_name: 'Billing' })),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const created = (await res.json()) as Record<string, unknown>;
    const secret = created.client_secret as string;
    assert.equal(typeof secret, 'string');
    assert.ok(secret.length >= 32);
    assert.equal(created.client_secret_expires_at, 0, 'RFC 7591: 0, the secret does not expire');
    assert.equal(created.client_name, 'Billing');
    assert.deepEqual(created.grant_types, ['client_credentials']);
    assert.equal(created.scope, 'orders:read orders:write');
    assert.equal(created.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(typeof created.client_id_issued_at, 'number');
    assert.ok(Math.abs((created.client_id_issued_at as number) - Date.now() / 1000) < 60, 'epoch seconds');
    assert.deepEqual(Object.keys((created.secrets as object[])[0]!).sort(), ['created_at', 'expires_at']);
    assert.equal((await clientCredentials(t, { id: 'billing', secret })).status, 200);

    const digest = contextOf(t.server).master.secretDigest(secret);
    const got = await t.admin('GET', '/admin/clients/billing');
    assert.equal(got.status, 200);
    assert.equal(got.body.client_secret, undefined);
    const list = await t.admin('GET', '/admin/clients');
    assert.ok((list.body.items as { client_id: string }[]).some((c) => c.client_id === 'billing'));
    for (const text of [JSON.stringify(got.body), JSON.stringify(list.body)]) {
      assert.ok(!text.includes(secret), 'no secret');
      assert.ok(!text.includes(digest), 'no digest');
      assert.ok(!text.includes('digest'));
    }
  });

  it('refuses a duplicate id with 409, and bad input with 400', async () => {
    await create(service('dup'));
    assert.equal((await t.admin('POST', '/admin/clients', service('dup'))).status, 409);
    const bad: Record<string, unknown>[] = [
      { scope: 'orders:read' },
      service('x1', { grant_types: ['implicit'] }),
      service('x2', { grant_types: [] }),
      service('x3', { scope: ['orders:read'] }),
      service('x4', { scope: 'double  space' }),
      service('x5', { token_endpoint_auth_method: 'none' }),
      service('x6', { first_party: 'yes' }),
      service('x7', { access_token_ttl: 5 }),
      service('x8', { client_secret: 'chosen by me' }),
      service('x9', { grantTypes: ['client_credentials'] }),
      service('y1', { access_token_ttl: 86_401 }),
      service('y2', { refresh_token_ttl: 59 }),
      service('bad id'),
    ];
    for (const body of bad) assert.equal((await t.admin('POST', '/admin/clients', body)).status, 400, JSON.stringify(body));
    const ids = ((await t.admin('GET', '/admin/clients')).body.items as { client_id: string }[]).map((c) => c.client_id);
    assert.ok(!ids.some((id) => /^[xy]\d$/.test(id) || id === 'bad id'));
  });

  it('creates a private_key_jwt client with a JWKS; no secret; its assertions authenticate', async () => {
    const key = generateKey('ES256');
    const c = await create({
      ...service('signer'),
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.toJwk()] },
    });
    assert.equal(c.secret, undefined);
    const got = await t.admin('GET', '/admin/clients/signer');
    assert.equal(got.body.token_endpoint_auth_method, 'private_key_jwt');
    assert.deepEqual(got.body.jwks, { keys: [key.toJwk()] });
    assert.deepEqual(got.body.secrets, []);
    const r = await postForm(t, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'signer',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion(key, 'signer'),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const stranger = generateKey('ES256');
    const refused = await postForm(t, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'signer',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion(stranger, 'signer'),
    });
    assert.equal(refused.status, 401);
    assert.equal((await t.admin('POST', '/admin/clients/signer/rotate-secret', {})).status, 400);
  });

  it('refuses a private_key_jwt client with a missing or unusable JWKS, and a JWKS on a secret client', async () => {
    const pkj = (id: string, jwks: unknown) => ({
      ...service(id),
      token_endpoint_auth_method: 'private_key_jwt',
      ...(jwks === undefined ? {} : { jwks }),
    });
    const bad: Record<string, unknown>[] = [
      pkj('j1', undefined),
      pkj('j2', null),
      pkj('j3', { keys: [] }),
      pkj('j4', { keys: [{ kty: 'EC', crv: 'P-256' }] }),
      pkj('j5', { keys: [generateKey('ES256').toJwk({ private: true })] }),
      pkj('j6', { keys: [generateKey('HS256').toJwk({ private: true })] }),
      pkj('j7', { nokeys: true }),
      pkj('j8', 'https://example.com/jwks.json'),
      service('j9', { jwks: { keys: [generateKey('ES256').toJwk()] } }),
    ];
    for (const body of bad) {
      const r = await t.admin('POST', '/admin/clients', body);
      assert.equal(r.status, 400, `${body.client_id}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'invalid_request');
    }
    const ids = ((await t.admin('GET', '/admin/clients')).body.items as { client_id: string }[]).map((c) => c.client_id);
    assert.ok(!ids.some((id) => /^j\d$/.test(id)));
  });

  it('allows the password grant to first-party clients only', async () => {
    const body = { grant_types: ['password', 'refresh_token'], scope: 'profile', audiences: ['web'] };
    const r = await t.admin('POST', '/admin/clients', { client_id: 'third-party', ...body });
    assert.equal(r.status, 400);
    assert.match(r.body.error_description, /first-party/);
    await create({ client_id: 'web', first_party: true, ...body });
    assert.equal((await t.admin('PATCH', '/admin/clients/web', { first_party: false })).status, 400);
    assert.equal((await t.admin('GET', '/admin/clients/web')).body.first_party, true);
  });

  it('gets and lists clients; 404 for an unknown one', async () => {
    await create(service('lister'));
    const got = await t.admin('GET', '/admin/clients/lister');
    assert.equal(got.status, 200);
    assert.equal(got.body.client_id, 'lister');
    assert.deepEqual(got.body.audiences, ['orders']);
    const items = (await t.admin('GET', '/admin/clients')).body.items as { client_id: string }[];
    assert.ok(items.some((c) => c.client_id === 'lister'));
    assert.equal((await t.admin('GET', '/admin/clients/nobody')).status, 404);
    assert.equal((await t.admin('PATCH', '/admin/clients/nobody', { client_name: 'x' })).status, 404);
    for (const action of ['disable', 'enable'])
      assert.equal((await t.admin('POST', `/admin/clients/nobody/${action}`)).status, 404, action);
    assert.equal((await t.admin('POST', '/admin/clients/nobody/rotate-secret', {})).status, 404);
  });

  it('PATCH narrows scopes: the next request for a removed scope gets invalid_scope', async () => {
    const c = await create(service('narrowed'));
    assert.equal((await clientCredentials(t, c, { scope: 'orders:write' })).status, 200);
    const r = await t.admin('PATCH', '/admin/clients/narrowed', { scope: 'orders:read' });
    assert.equal(r.status, 200);
    assert.equal(r.body.scope, 'orders:read');
    const refused = await clientCredentials(t, c, { scope: 'orders:write' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_scope');
    const ok = await clientCredentials(t, c);
    assert.equal(ok.body.scope, 'orders:read');

    for (const body of [
      {},
      { client_id: 'renamed' },
      { secrets: [] },
      { scope: ['orders:read'] },
      { scopes: ['orders:read'] },
      { disabled: 'true' },
      { unknown: 1 },
    ]) {
      assert.equal((await t.admin('PATCH', '/admin/clients/narrowed', body)).status, 400, JSON.stringify(body));
    }
    assert.equal((await t.admin('GET', '/admin/clients/narrowed')).body.client_id, 'narrowed');
  });

  it('PATCH disabled: true cuts the client off: its tokens are revoked and it cannot authenticate', async () => {
    const c = await create({
      client_id: 'kiosk',
      first_party: true,
      grant_types: ['client_credentials', 'password', 'refresh_token'],
      scope: 'orders:read',
      audiences: ['orders'],
    });
    await t.admin('PUT', '/admin/roles/buyer', { permissions: ['orders:read'] });
    await t.user('kim', 'a fine long password', ['buyer']);
    const own = await tokenOf(t, c);
    const s = await login(t, c, 'kim', 'a fine long password');
    assert.equal(s.status, 200);
    assert.equal(await active(own), true);

    const r = await t.admin('PATCH', '/admin/clients/kiosk', { disabled: true });
    assert.equal(r.status, 200);
    assert.equal(r.body.disabled, true);
    assert.equal(await active(own), false);
    assert.equal(await active(s.body.access_token!), false);
    const refused = await clientCredentials(t, c);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_client');
    assert.equal((await login(t, c, 'kim', 'a fine long password')).status, 401);

    assert.equal((await t.admin('PATCH', '/admin/clients/kiosk', { disabled: false })).status, 200);
    assert.equal((await clientCredentials(t, c)).status, 200, 'enabled again');
    assert.equal((await refresh(t, c, s.body.refresh_token!)).body.error, 'invalid_grant', 'its sessions stay revoked');
    assert.equal(await active(own), false);
  });

  it('rotates a secret with an overlap: both secrets work during it, only the new one after', async () => {
    const old = await create(service('rotating'));
    const r = await t.admin('POST', '/admin/clients/rotating/rotate-secret', { overlap: 1 });
    assert.equal(r.status, 200);
    const fresh: ClientCreds = { id: 'rotating', secret: r.body.client_secret as string };
    assert.notEqual(fresh.secret, old.secret);
    assert.ok(r.body.previous_secrets_expire_at >= Math.floor(clock.now() / 1000), 'epoch seconds');
    assert.ok(r.body.previous_secrets_expire_at <= Math.ceil(clock.now() / 1000) + 1);
    assert.equal((await clientCredentials(t, old)).status, 200);
    assert.equal((await clientCredentials(t, fresh)).status, 200);
    const got = await t.admin('GET', '/admin/clients/rotating');
    assert.equal(got.body.secrets.length, 2);
    assert.ok(!JSON.stringify(got.body).includes(fresh.secret!));

    clock.advance(1_200);
    assert.equal((await clientCredentials(t, old)).status, 401);
    assert.equal((await clientCredentials(t, fresh)).status, 200);

    for (const body of [{ overlap: -1 }, { overlap: 1.5 }, { overlap: '60' }, { overlap: 2_592_001 }, { overlapSeconds: 60 }]) {
      assert.equal((await t.admin('POST', '/admin/clients/rotating/rotate-secret', body)).status, 400, JSON.stringify(body));
    }
    assert.equal((await clientCredentials(t, fresh)).status, 200, 'a refused rotation changes nothing');
  });

  it('deleting a client: it cannot authenticate and its tokens are inactive', async () => {
    const c = await create(service('doomed'));
    const token = await tokenOf(t, c);
    assert.equal(await active(token), true);
    assert.equal((await t.admin('DELETE', '/admin/clients/doomed')).status, 204);
    assert.equal((await clientCredentials(t, c)).status, 401);
    assert.equal(await active(token), false);
    assert.equal((await t.admin('GET', '/admin/clients/doomed')).status, 404);
    assert.equal((await t.admin('DELETE', '/admin/clients/doomed')).status, 404);
  });

  it('POST /admin/revoke {client} cuts off tokens issued before it, not after', async () => {
    const c = await create(service('cutoff'));
    const before = await tokenOf(t, c);
    const r = await t.admin('POST', '/admin/revoke', { client_id: 'cutoff' });
    assert.equal(r.body.revoked_sessions, 0);
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.seq, 'number');
    assert.equal(await active(before), false);
    // The cut-off compares iat, in whole seconds: a token of the next second is after it.
    clock.advance(1_100);
    const later = await tokenOf(t, c);
    assert.equal(await active(later), true);
    assert.equal(await active(before), false);
  });
});
