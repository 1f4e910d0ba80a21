/**
 * Token exchange (RFC 8693) on behalf of a user: the orders service exchanges the token a user sent it for a
 * token to call inventory; sub stays the user, act names the caller (nested per hop, capped), scopes narrow to
 * what both allow, audiences follow the client's policy, and every refusal uses RFC 8693 / RFC 6749 codes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified, generateKey, signAccessToken } from '@tessera/core';
import { createDpopProof, createVerifier, DpopKey } from '@tessera/verifier';

import { contextOf } from '@tessera/server/internal';

import {
  assertOAuthError,
  assertTokenResponse,
  introspect,
  login,
  postForm,
  revoke,
  withBasic,
  type Answer,
  type ClientCreds,
} from './helpers/oauth.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'a long enough password';
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
type Claims = Record<string, unknown> & { act?: Record<string, unknown>; exp: number; sub: string };

const claimsOf = (token: string) => decodeUnverified(token).payload as Claims;

describe('token exchange (RFC 8693)', () => {
  let t: TestServer;
  let web: ClientCreds;
  let orders: ClientCreds;
  let inventory: ClientCreds;
  let impersonator: ClientCreds;
  let plain: ClientCreds;
  let aliceId: string;
  /** The server's clock runs ahead of the real one by this much. */
  let skew = 0;

  before(async () => {
    t = await startServer({ now: () => Date.now() + skew });
    web = await t.client({
      id: 'web',
      grantTypes: ['password', 'refresh_token'],
      firstParty: true,
      scopes: ['orders:read', 'inventory:read', 'inventory:write'],
      audiences: ['orders', 'billing'],
    });
    orders = await t.client({
      id: 'orders',
      grantTypes: [GRANT],
      scopes: ['inventory:read', 'inventory:write'],
      audiences: ['inventory'],
      accessTokenTtl: 300,
    });
    inventory = await t.client({ id: 'inventory', grantTypes: [GRANT], scopes: ['inventory:read'], audiences: ['warehouse'] });
    impersonator = await t.client({
      id: 'billing',
      grantTypes: [GRANT],
      scopes: ['inventory:read'],
      audiences: ['inventory'],
      mayImpersonate: true,
    });
    plain = await t.client({
      id: 'plain',
      grantTypes: ['client_credentials'],
      scopes: ['inventory:read'],
      audiences: ['inventory', 'orders'],
    });
    await contextOf(t.server).store.roles.put({ name: 'shopper', permissions: ['orders:read', 'inventory:read'] });
    aliceId = await t.user('alice', PASSWORD, ['shopper']);
    await t.user('bob', PASSWORD, ['shopper']);
  });
  after(() => t.close());

  const userToken = async (username = 'alice', audience = 'orders', scope = 'orders:read inventory:read'): Promise<Answer> => {
    const r = await login(t, web, username, PASSWORD, { resource: audience, scope });
    assertTokenResponse(r);
    return r;
  };
  const exchange = (client: ClientCreds, subjectToken: string, params: Record<string, string> = {}) =>
    withBasic(t, client, '/oauth/token', { grant_type: GRANT, subject_token: subjectToken, subject_token_type: AT, ...params });

  it('a DPoP-bound subject token is exchanged only with a proof of the caller, for a token bound to its key', async () => {
    const tokenUrl = `${t.url}/oauth/token`;
    const userKey = DpopKey.generate();
    const bound = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'password', username: 'alice', password: PASSWORD, resource: 'orders', scope: 'orders:read inventory:read' },
      { authorization: basic(web.id, web.secret!), dpop: createDpopProof({ key: userKey, method: 'POST', url: tokenUrl }) },
    );
    assert.equal(bound.body.token_type, 'DPoP');
    const subject = bound.body.access_token!;
    const bare = await exchange(orders, subject, { resource: 'inventory', scope: 'inventory:read' });
    assert.equal(bare.status, 400);
    assert.equal(bare.body.error, 'invalid_dpop_proof');
    const ordersKey = DpopKey.generate();
    const r = await postForm(
      t,
      '/oauth/token',
      { grant_type: GRANT, subject_token: subject, subject_token_type: AT, resource: 'inventory', scope: 'inventory:read' },
      {
        authorization: basic(orders.id, orders.secret!),
        dpop: createDpopProof({ key: ordersKey, method: 'POST', url: tokenUrl }),
      },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'DPoP');
    assert.deepEqual(claimsOf(r.body.access_token!).cnf, { jkt: ordersKey.jkt });
  });

  it('orders exchanges the user token for an inventory token on her behalf', async () => {
    const user = await userToken();
    const r = await exchange(orders, user.body.access_token!, { resource: 'inventory', scope: 'inventory:read' });
    assertTokenResponse(r);
    assert.equal(r.body.issued_token_type, AT);
    assert.equal(r.body.scope, 'inventory:read');
    const c = claimsOf(r.body.access_token!);
    const u = claimsOf(user.body.access_token!);
    assert.equal(c.sub, aliceId);
    assert.equal(c.aud, 'inventory');
    assert.equal(c.client_id, 'orders');
    assert.deepEqual(c.act, { sub: 'orders' });
    assert.equal(c.sid, u.sid, 'the session carries over, so ending it revokes this token too');
    assert.ok(c.exp <= u.exp, 'never outlives the subject token');
    assert.ok(r.body.expires_in! <= 300, 'the client TTL applies');

    // The inventory service verifies it locally like any token, and sees who acts.
    const verifier = createVerifier({
      issuer: t.url,
      audience: 'inventory',
      algorithms: ['ES256'],
      jwksUri: `${t.url}/.well-known/jwks.json`,
    });
    const p = await verifier.verify(r.body.access_token!);
    assert.equal(p.sub, aliceId);
    assert.deepEqual(p.claims.act, { sub: 'orders' });
    verifier.close();
  });

  it('each further hop nests act, and the chain is capped', async () => {
    const user = await userToken();
    const first = await exchange(orders, user.body.access_token!, { resource: 'inventory', scope: 'inventory:read' });
    const second = await exchange(inventory, first.body.access_token!, { resource: 'warehouse' });
    assertTokenResponse(second);
    assert.deepEqual(claimsOf(second.body.access_token!).act, { sub: 'inventory', act: { sub: 'orders' } });

    // A chain of clients hop0 -> hop1 -> ... : each may exchange for the next.
    const hops: ClientCreds[] = [];
    for (let i = 0; i < 7; i++)
      hops.push(await t.client({ id: `hop${i}`, grantTypes: [GRANT], scopes: ['inventory:read'], audiences: [`hop${i + 1}`] }));
    // Each hop needs a token addressed to it: the chain starts from a user token for hop0.
    const web2 = await t.client({
      id: 'web2',
      grantTypes: ['password'],
      firstParty: true,
      scopes: ['inventory:read'],
      audiences: ['hop0'],
    });
    const start = await login(t, web2, 'alice', PASSWORD, { resource: 'hop0' });
    assertTokenResponse(start);
    let token = start.body.access_token!;
    const depths: number[] = [];
    let refused: Answer | undefined;
    for (const hop of hops) {
      const r = await exchange(hop, token);
      if (r.status !== 200) {
        refused = r;
        break;
      }
      token = r.body.access_token!;
      let d = 0;
      for (let a = claimsOf(token).act; a; a = a.act as Record<string, unknown> | undefined) d++;
      depths.push(d);
    }
    assert.deepEqual(depths, [1, 2, 3, 4, 5]);
    assertOAuthError(refused!, 400, 'invalid_grant');
  });

  it('scopes narrow to what the user, her token and the calling client all allow', async () => {
    const user = await userToken('alice', 'orders', 'orders:read');
    // Her token lacks inventory:read: nothing to delegate.
    assertOAuthError(
      await exchange(orders, user.body.access_token!, { resource: 'inventory', scope: 'inventory:read' }),
      400,
      'invalid_scope',
    );
    const full = await userToken();
    // orders may ask inventory:write, but the user has no such permission.
    assertOAuthError(
      await exchange(orders, full.body.access_token!, { resource: 'inventory', scope: 'inventory:write' }),
      400,
      'invalid_scope',
    );
    // Without a scope parameter: the intersection.
    const r = await exchange(orders, full.body.access_token!, { resource: 'inventory' });
    assertTokenResponse(r);
    assert.equal(r.body.scope, 'inventory:read');
    // A role taken away after the login is no longer delegated.
    const bobToken = (await userToken('bob')).body.access_token!;
    const bob = (await contextOf(t.server).store.users.getByUsername('bob'))!;
    await contextOf(t.server).store.users.update(bob.id, { roles: [] }, Date.now());
    assertOAuthError(await exchange(orders, bobToken, { resource: 'inventory', scope: 'inventory:read' }), 400, 'invalid_scope');
  });

  it('the audience follows the client policy', async () => {
    const user = await userToken();
    assertOAuthError(await exchange(orders, user.body.access_token!, { resource: 'warehouse' }), 400, 'invalid_target');
  });

  it('only a token sent to the caller can be exchanged, and only while it is valid', async () => {
    const user = await userToken();
    // The token is for orders, not inventory.
    assertOAuthError(await exchange(inventory, user.body.access_token!, { resource: 'warehouse' }), 400, 'invalid_grant');
    // Revoked (RFC 7009 by its client).
    const revoked = await userToken();
    assert.equal((await revoke(t, web, revoked.body.access_token!)).status, 200);
    assertOAuthError(await exchange(orders, revoked.body.access_token!, { resource: 'inventory' }), 400, 'invalid_grant');
    // Expired.
    const old = await userToken();
    skew = 601_000;
    try {
      assertOAuthError(await exchange(orders, old.body.access_token!, { resource: 'inventory' }), 400, 'invalid_grant');
    } finally {
      skew = 0;
    }
    // Signed by a key that is not the issuer's, with the right claims otherwise.
    const stranger = generateKey('ES256');
    const forged = signAccessToken(
      { iss: t.url, sub: aliceId, aud: 'orders', client_id: 'web', scope: 'inventory:read', ttl: 300 },
      stranger,
    );
    assertOAuthError(await exchange(orders, forged, { resource: 'inventory' }), 400, 'invalid_grant');
    assertOAuthError(await exchange(orders, 'not-a-token', { resource: 'inventory' }), 400, 'invalid_grant');
  });

  it('ending the session revokes the exchanged tokens too', async () => {
    const user = await userToken();
    const r = await exchange(orders, user.body.access_token!, { resource: 'inventory' });
    assertTokenResponse(r);
    assert.equal((await introspect(t, orders, r.body.access_token!)).body.active, true);
    assert.equal((await revoke(t, web, user.body.refresh_token!)).status, 200);
    assert.equal((await introspect(t, orders, r.body.access_token!)).body.active, false);
  });

  it('impersonation only for a client allowed it', async () => {
    const user = await login(t, web, 'alice', PASSWORD, { resource: 'billing', scope: 'inventory:read' });
    assertTokenResponse(user);
    const r = await exchange(impersonator, user.body.access_token!, { resource: 'inventory' });
    assertTokenResponse(r);
    const c = claimsOf(r.body.access_token!);
    assert.equal(c.act, undefined);
    assert.equal(c.sub, aliceId);
  });

  it('refusals: grant not allowed, bad parameters', async () => {
    const user = await userToken();
    const token = user.body.access_token!;
    assertOAuthError(await exchange(plain, token, { resource: 'inventory' }), 400, 'unauthorized_client');
    assertOAuthError(
      await exchange(orders, token, { subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await withBasic(t, orders, '/oauth/token', { grant_type: GRANT, subject_token_type: AT }),
      400,
      'invalid_request',
    );
    assertOAuthError(await exchange(orders, token, { actor_token: token, actor_token_type: AT }), 400, 'invalid_request');
    assertOAuthError(
      await exchange(orders, token, { requested_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
      400,
      'invalid_request',
    );
  });

  it('a disabled user cannot be acted for', async () => {
    await t.user('carol', PASSWORD, ['shopper']);
    const token = (await userToken('carol')).body.access_token!;
    const carol = (await contextOf(t.server).store.users.getByUsername('carol'))!;
    await contextOf(t.server).store.users.update(carol.id, { disabled: true }, Date.now());
    assertOAuthError(await exchange(orders, token, { resource: 'inventory' }), 400, 'invalid_grant');
  });

  it('the metadata lists the grant', async () => {
    const meta = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()) as {
      grant_types_supported: string[];
    };
    assert.ok(meta.grant_types_supported.includes(GRANT));
  });
});
