/**
 * The server verifies its own access tokens (admin API, introspection, token exchange) through the one
 * Verifier of @tessera/verifier: the strict parser, the configured algorithm only, and a removed key refused
 * at once, cached verification or not.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { sign as cryptoSign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { decodeUnverified, generateKey, signAccessToken, type AccessTokenInput, type Key } from '@tessera/core';
import { adminAudience, ADMIN_SCOPE, contextOf } from '@tessera/server/internal';

import {
  assertOAuthError,
  assertTokenResponse,
  auditEvents,
  clientCredentials,
  introspect,
  revoke,
  withBasic,
  type ClientCreds,
} from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

/** A compact ES256 JWS of exactly this payload text, signed with `key` (Tessera's signer writes no duplicates). */
function signPayloadText(key: Key, payload: string): string {
  const header = { alg: 'ES256', typ: 'at+jwt', kid: key.kid };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  const sig = cryptoSign('sha256', Buffer.from(input), { key: key.keyObject, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

describe('own access tokens, verified by the one Verifier', () => {
  let t: TestServer;
  /** A resource server that introspects the tokens of its audience `notes`. */
  let rs: ClientCreds;
  /** A service that exchanges the tokens sent to it (audience `orders`) for `inventory` tokens. */
  let orders: ClientCreds;

  before(async () => {
    t = await startServer();
    rs = await t.client({ id: 'notes-api', grantTypes: [], scopes: [], audiences: ['notes'] });
    orders = await t.client({ id: 'orders', grantTypes: [GRANT], scopes: ['inventory:read'], audiences: ['inventory'] });
  });
  after(() => t.close());

  const exchange = (subjectToken: string) =>
    withBasic(t, orders, '/oauth/token', { grant_type: GRANT, subject_token: subjectToken, subject_token_type: AT });
  const input = (overrides: Partial<AccessTokenInput> = {}): AccessTokenInput => ({
    iss: t.url,
    sub: 'svc-user',
    aud: 'notes',
    client_id: 'web',
    scope: 'inventory:read',
    ttl: 300,
    ...overrides,
  });
  /** GET /admin/clients with this bearer token. */
  const adminGet = (token: string) => fetch(`${t.url}/admin/clients`, { headers: { authorization: `Bearer ${token}` } });

  /** Adds a key to the store as `retired` (live: it verifies, it no longer signs) and reloads the key manager. */
  async function addRetiredKey(key: Key): Promise<void> {
    const ctx = contextOf(t.server);
    const now = ctx.now();
    await ctx.store.keys.insert({
      kid: key.kid,
      alg: key.alg,
      state: 'retired',
      encryptedPrivateKey: ctx.master.encrypt(JSON.stringify(key.toJwk({ private: true })), key.kid),
      publicJwk: key.toJwk(),
      createdAt: now - 60_000,
      activatesAt: now - 60_000,
      retiredAt: now,
      removeAfter: now + 3_600_000,
    });
    await ctx.keys.reload();
  }
  async function removeKey(kid: string): Promise<void> {
    await contextOf(t.server).store.keys.update(kid, { state: 'removed' });
    await contextOf(t.server).keys.reload();
  }

  describe('duplicate-claim-keys (the strict parser, not JSON.parse)', () => {
    const payload = (claims: string) => {
      const now = Math.floor(Date.now() / 1000);
      return `{"iss":${JSON.stringify(t.url)},"sub":"svc-user","client_id":"web","scope":"inventory:read","exp":${now + 300},"iat":${now},"jti":"dup-${now}-${Math.random()}",${claims}}`;
    };

    it('introspection reports a token with a repeated claim as inactive', async () => {
      const key = contextOf(t.server).keys.activeKey();
      const once = signPayloadText(key, payload('"aud":"notes"'));
      assert.equal((await introspect(t, rs, once)).body.active, true, 'the same token without the repeat is active');
      // JSON.parse keeps the last `aud`, which names the resource server: a token for `billing` would pass as its own.
      const twice = signPayloadText(key, payload('"aud":"billing","aud":"notes"'));
      const r = await introspect(t, rs, twice);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { active: false });
    });

    it('token exchange refuses a subject token with a repeated claim (invalid_grant)', async () => {
      const key = contextOf(t.server).keys.activeKey();
      assertTokenResponse(await exchange(signPayloadText(key, payload('"aud":"orders"'))));
      assertOAuthError(await exchange(signPayloadText(key, payload('"aud":"billing","aud":"orders"'))), 400, 'invalid_grant');
    });
  });

  it('a live key of another algorithm than the configured one verifies nothing: introspection, token exchange, admin API', async () => {
    const ed = generateKey('EdDSA');
    await addRetiredKey(ed);
    try {
      assert.deepEqual((await introspect(t, rs, signAccessToken(input(), ed))).body, { active: false });
      assertOAuthError(await exchange(signAccessToken(input({ aud: 'orders' }), ed)), 400, 'invalid_grant');
      const admin = signAccessToken(input({ aud: adminAudience(t.url), scope: ADMIN_SCOPE }), ed);
      assert.equal((await adminGet(admin)).status, 401);
      // The configured algorithm's key, for the same tokens, is accepted: only the algorithm differs.
      const own = contextOf(t.server).keys.activeKey();
      assert.equal((await introspect(t, rs, signAccessToken(input(), own))).body.active, true);
      assertTokenResponse(await exchange(signAccessToken(input({ aud: 'orders' }), own)));
      assert.equal((await adminGet(signAccessToken(input({ aud: adminAudience(t.url), scope: ADMIN_SCOPE }), own))).status, 200);
    } finally {
      await removeKey(ed.kid);
    }
  });

  it('a removed key’s tokens are refused at once, though their verification was cached', async () => {
    const old = generateKey('ES256');
    await addRetiredKey(old);
    const notes = signAccessToken(input(), old);
    const admin = signAccessToken(input({ aud: adminAudience(t.url), scope: ADMIN_SCOPE }), old);
    const subject = signAccessToken(input({ aud: 'orders' }), old);
    assert.equal((await introspect(t, rs, notes)).body.active, true);
    assert.equal((await adminGet(admin)).status, 200);
    assertTokenResponse(await exchange(subject));
    await removeKey(old.kid);
    assert.deepEqual((await introspect(t, rs, notes)).body, { active: false });
    const refused = await adminGet(admin);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assertOAuthError(await exchange(subject), 400, 'invalid_grant');
  });

  it('revoking a revoked access token again is answered as the first time, and only for the client it was issued to', async () => {
    const svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['notes'] });
    const token = (await clientCredentials(t, svc)).body.access_token!;
    const jti = decodeUnverified(token).payload.jti;
    const recorded = async () => (await auditEvents(t, 'token.revoked')).filter((e) => e.data.jti === jti).length;
    assert.equal((await revoke(t, svc, token)).status, 200);
    assert.deepEqual((await introspect(t, rs, token)).body, { active: false });
    assert.equal(await recorded(), 1);
    // The Verifier refuses the token as revoked; the revocation still knows whose it is.
    assert.equal((await revoke(t, rs, token)).status, 200);
    assert.equal(await recorded(), 1, 'another client revokes nothing');
    assert.equal((await revoke(t, svc, token)).status, 200);
    assert.equal(await recorded(), 2, 'its own client revokes it again, as before');
  });
});

describe('introspection of an access token at its expiry', () => {
  let t: TestServer;
  let rs: ClientCreds;
  const clock = new SteppedClock();

  before(async () => {
    t = await startServer({ now: clock.now });
    rs = await t.client({ id: 'notes-api', grantTypes: [], scopes: [], audiences: ['notes'] });
  });
  after(() => t.close());

  it('is inactive from exp on, though the Verifier allows a second of skew', async () => {
    const iat = Math.floor(clock.now() / 1000);
    const token = signAccessToken(
      { iss: t.url, sub: 'svc-user', aud: 'notes', client_id: 'web', scope: 'notes:read', ttl: 2 },
      contextOf(t.server).keys.activeKey(),
      { now: () => iat * 1000 },
    );
    assert.equal((await introspect(t, rs, token)).body.active, true);
    clock.advance((iat + 2) * 1000 - clock.now() + 300);
    assert.deepEqual((await introspect(t, rs, token)).body, { active: false });
  });
});
