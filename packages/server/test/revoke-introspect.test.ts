import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { decodeUnverified, generateKey, signAccessToken, signJwt } from '@tessera/core';

import { contextOf } from '@tessera/server/internal';

import {
  assertOAuthError,
  assertTokenResponse,
  auditEvents,
  clientCredentials,
  introspect,
  login,
  postForm,
  postRaw,
  refresh,
  revoke,
  type Answer,
  type ClientCreds,
} from './helpers/oauth.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'another long password';

describe('revocation and introspection', () => {
  let t: TestServer;
  let app: ClientCreds;
  let otherApp: ClientCreds;
  let svc: ClientCreds;
  /** A resource server that only introspects: registered for the audience `notes`. */
  let rs: ClientCreds;
  /** A client with no relation to the tokens of these tests: it issues none and serves another audience. */
  let stranger: ClientCreds;
  let userId: string;

  before(async () => {
    t = await startServer();
    const spec = {
      grantTypes: ['password' as const, 'refresh_token' as const],
      scopes: ['notes:read'],
      audiences: ['notes'],
      firstParty: true,
    };
    app = await t.client({ id: 'notes-app', ...spec });
    otherApp = await t.client({ id: 'other-app', ...spec });
    svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['notes:read'], audiences: ['notes'] });
    rs = await t.client({ id: 'notes-api', grantTypes: [], scopes: [], audiences: ['notes'] });
    stranger = await t.client({ id: 'calendar-api', grantTypes: ['client_credentials'], scopes: [], audiences: ['calendar'] });
    await contextOf(t.server).store.roles.put({ name: 'user', permissions: ['notes:read'] });
    userId = await t.user('frank', PASSWORD, ['user']);
  });
  after(() => t.close());

  async function session(client = app): Promise<Answer> {
    const r = await login(t, client, 'frank', PASSWORD);
    assertTokenResponse(r);
    return r;
  }

  function assertRevokeOk(r: Answer): void {
    assert.equal(r.status, 200, `${r.status} ${r.text}`);
    assert.equal(r.text, '');
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }

  describe('POST /oauth/revoke (RFC 7009)', () => {
    it('revokes a refresh token’s whole family, its access tokens included', async () => {
      const first = await session();
      const second = await refresh(t, app, first.body.refresh_token!);
      assertTokenResponse(second);
      assertRevokeOk(await revoke(t, app, second.body.refresh_token!, { token_type_hint: 'refresh_token' }));
      assertOAuthError(await refresh(t, app, second.body.refresh_token!), 400, 'invalid_grant');
      assert.deepEqual((await introspect(t, app, second.body.refresh_token!)).body, { active: false });
      assert.deepEqual((await introspect(t, rs, first.body.access_token!)).body, { active: false });
      assert.deepEqual((await introspect(t, rs, second.body.access_token!)).body, { active: false });
      const sid = decodeUnverified(second.body.access_token!).payload.sid;
      assert.ok((await auditEvents(t, 'token.revoked')).some((e) => e.data.kind === 'refresh_token' && e.data.family === sid));
    });

    it('finds a refresh token whatever the hint says', async () => {
      const s = await session();
      assertRevokeOk(await revoke(t, app, s.body.refresh_token!, { token_type_hint: 'access_token' }));
      assertOAuthError(await refresh(t, app, s.body.refresh_token!), 400, 'invalid_grant');
    });

    it('revokes an access token by jti, and only that token', async () => {
      const a = await session();
      const b = await session();
      assertRevokeOk(await revoke(t, app, a.body.access_token!));
      assert.deepEqual((await introspect(t, rs, a.body.access_token!)).body, { active: false });
      assert.equal((await introspect(t, rs, b.body.access_token!)).body.active, true);
      // Its session goes on: revoking an access token leaves the refresh token alone.
      assertTokenResponse(await refresh(t, app, a.body.refresh_token!));

      const cc = await clientCredentials(t, svc);
      assertRevokeOk(await revoke(t, svc, cc.body.access_token!, { token_type_hint: 'refresh_token' }));
      assert.deepEqual((await introspect(t, rs, cc.body.access_token!)).body, { active: false });
      const jti = decodeUnverified(cc.body.access_token!).payload.jti;
      assert.ok((await auditEvents(t, 'token.revoked')).some((e) => e.data.kind === 'access_token' && e.data.jti === jti));
    });

    it('does not revoke another client’s tokens, and still answers 200', async () => {
      const s = await session();
      assertRevokeOk(await revoke(t, otherApp, s.body.refresh_token!));
      assertRevokeOk(await revoke(t, otherApp, s.body.access_token!));
      assertRevokeOk(await revoke(t, rs, s.body.access_token!));
      assert.equal((await introspect(t, rs, s.body.access_token!)).body.active, true);
      assertTokenResponse(await refresh(t, app, s.body.refresh_token!));
    });

    it('answers 200 for unknown, garbage and already revoked tokens', async () => {
      for (const token of ['tsr_unknown', 'garbage', 'a.b.c', 'x'.repeat(4000)]) assertRevokeOk(await revoke(t, app, token));
      const s = await session();
      assertRevokeOk(await revoke(t, app, s.body.refresh_token!));
      assertRevokeOk(await revoke(t, app, s.body.refresh_token!));
      assertRevokeOk(await revoke(t, app, s.body.access_token!, { token_type_hint: 'something_else' }));
    });

    it('requires client authentication (401) and a token (400)', async () => {
      const s = await session();
      assertOAuthError(await postForm(t, '/oauth/revoke', { token: s.body.refresh_token! }), 401, 'invalid_client');
      assertOAuthError(
        await postForm(t, '/oauth/revoke', { token: s.body.refresh_token!, client_id: app.id }),
        401,
        'invalid_client',
      );
      assertOAuthError(await revoke(t, { id: app.id, secret: 'wrong' }, s.body.refresh_token!), 401, 'invalid_client');
      assertTokenResponse(await refresh(t, app, s.body.refresh_token!));
      assertOAuthError(await revoke(t, app, ''), 400, 'invalid_request');
      assertOAuthError(
        await postRaw(t, '/oauth/revoke', JSON.stringify({ token: 'x' }), { 'content-type': 'application/json' }),
        400,
        'invalid_request',
      );
      assertOAuthError(await postRaw(t, '/oauth/revoke', 'token=x', { 'content-type': 'text/plain' }), 415, 'invalid_request');
      const repeated = `token=${encodeURIComponent(s.body.refresh_token!)}&token=x`;
      assertOAuthError(
        await postRaw(t, '/oauth/revoke', repeated, {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(app.id, app.secret!),
        }),
        400,
        'invalid_request',
      );
    });
  });

  describe('POST /oauth/introspect (RFC 7662)', () => {
    it('reports an active access token with its claims', async () => {
      const s = await session();
      const r = await introspect(t, rs, s.body.access_token!);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const claims = decodeUnverified(s.body.access_token!).payload;
      assert.equal(r.body.active, true);
      assert.equal(r.body.token_type, 'Bearer');
      for (const name of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'sid'])
        assert.deepEqual(r.body[name], claims[name], name);
      assert.equal(r.body.sub, userId);
      assert.equal(r.body.client_id, 'notes-app');
      assert.equal(r.body.iss, t.url);
    });

    it('reports a refresh token as active before use and inactive after rotation, to its own client only', async () => {
      const s = await session();
      const r = await introspect(t, app, s.body.refresh_token!);
      assert.equal(r.body.active, true);
      assert.equal(r.body.token_type, 'refresh_token');
      assert.equal(r.body.client_id, 'notes-app');
      assert.equal(r.body.sub, userId);
      assert.equal(r.body.scope, 'notes:read');
      assert.equal(r.body.iss, t.url);
      assert.ok(typeof r.body.exp === 'number' && r.body.exp > Date.now() / 1000);
      assert.deepEqual((await introspect(t, otherApp, s.body.refresh_token!)).body, { active: false });
      assert.deepEqual((await introspect(t, rs, s.body.refresh_token!)).body, { active: false });

      const next = await refresh(t, app, s.body.refresh_token!);
      assertTokenResponse(next);
      assert.deepEqual((await introspect(t, app, s.body.refresh_token!)).body, { active: false });
      assert.equal((await introspect(t, app, next.body.refresh_token!)).body.active, true);
    });

    it('reports an expired access token signed by the server’s own key as inactive', async () => {
      const key = contextOf(t.server).keys.activeKey();
      const input = { iss: t.url, sub: userId, aud: 'notes', client_id: 'notes-app', scope: 'notes:read', ttl: 60 };
      const expired = signAccessToken(input, key, { now: () => Date.now() - 3_600_000 });
      assert.deepEqual((await introspect(t, rs, expired)).body, { active: false });
      // The same token, still valid, is active: the test forges nothing the server would refuse otherwise.
      assert.equal((await introspect(t, rs, signAccessToken(input, key))).body.active, true);
    });

    it('reports tokens it did not issue as inactive', async () => {
      const own = contextOf(t.server).keys.activeKey();
      const input = { iss: t.url, sub: userId, aud: 'notes', client_id: 'notes-app', scope: 'notes:read', ttl: 60 };
      const cases = {
        'another key, same kid': signAccessToken(input, generateKey('ES256', { kid: own.kid })),
        'another issuer': signAccessToken({ ...input, iss: 'https://evil.example' }, own),
        'typ JWT, not at+jwt': signJwt({ ...input, exp: Math.floor(Date.now() / 1000) + 60, jti: 'j1' }, own),
        garbage: 'garbage',
        'three dots': 'a.b.c',
        'refresh-shaped': 'tsr_unknown',
      };
      for (const [name, token] of Object.entries(cases)) {
        const r = await introspect(t, rs, token);
        assert.equal(r.status, 200, name);
        assert.deepEqual(r.body, { active: false }, name);
      }
    });

    it('reports revoked access tokens as inactive', async () => {
      const cc = await clientCredentials(t, svc);
      assert.equal((await introspect(t, rs, cc.body.access_token!)).body.active, true);
      assertRevokeOk(await revoke(t, svc, cc.body.access_token!));
      assert.deepEqual((await introspect(t, rs, cc.body.access_token!)).body, { active: false });
    });

    it('is for authenticated clients only', async () => {
      const cc = await clientCredentials(t, svc);
      const r = await postForm(t, '/oauth/introspect', { token: cc.body.access_token! });
      assertOAuthError(r, 401, 'invalid_client');
      assert.ok(!r.text.includes('active'));
      assertOAuthError(await introspect(t, { id: rs.id, secret: 'wrong' }, cc.body.access_token!), 401, 'invalid_client');
      assertOAuthError(await introspect(t, { id: 'nobody', secret: 'x' }, cc.body.access_token!), 401, 'invalid_client');
      const bearer = await postForm(
        t,
        '/oauth/introspect',
        { token: cc.body.access_token! },
        { authorization: `Bearer ${cc.body.access_token!}` },
      );
      assertOAuthError(bearer, 401, 'invalid_client');
    });

    it('introspection-by-unrelated-client: only the client a token was issued to and its audience learn anything', async () => {
      // Three clients: svc, to which the token is issued; rs, the resource server of its audience; and a
      // stranger, registered for another audience.
      const cc = await clientCredentials(t, svc);
      const token = cc.body.access_token!;
      const own = await introspect(t, svc, token);
      assert.equal(own.body.active, true, 'the client it was issued to');
      assert.equal(own.body.client_id, 'svc');
      const byAudience = await introspect(t, rs, token);
      assert.equal(byAudience.body.active, true, 'the resource server of its audience');
      assert.equal(byAudience.body.aud, 'notes');
      const r = await introspect(t, stranger, token);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { active: false }, 'no claims to an unrelated client');
      // A user's token, issued to notes-app for notes: notes-app and the resource server see it, the stranger not.
      const s = await session();
      assert.equal((await introspect(t, app, s.body.access_token!)).body.active, true);
      assert.equal((await introspect(t, rs, s.body.access_token!)).body.sub, userId);
      assert.deepEqual((await introspect(t, stranger, s.body.access_token!)).body, { active: false });
      assert.deepEqual((await introspect(t, stranger, s.body.refresh_token!)).body, { active: false });
    });

    it('is invalid_request without a token', async () => {
      assertOAuthError(await introspect(t, rs, ''), 400, 'invalid_request');
      assertOAuthError(
        await postRaw(t, '/oauth/introspect', '{}', { 'content-type': 'application/json' }),
        400,
        'invalid_request',
      );
    });
  });
});

/** Cut-offs (revoke everything of a client or user before now) against iat in whole seconds. */
describe('a token issued right after a cut-off', () => {
  let t: TestServer;
  /** The server's clock, moved by hand: mid-second, so that a token and a cut-off can share a second. */
  let clock = Math.floor(Date.now() / 1000) * 1000 + 500;

  before(async () => {
    t = await startServer({ now: () => clock });
  });
  after(() => t.close());

  it('is not born revoked (regression: a token in the cut-off’s second looked issued before it)', async () => {
    const svc = await t.client({ id: 'svc', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    await t.adminToken();
    clock += 1;
    const before = await clientCredentials(t, svc);
    clock += 1;
    assert.equal((await t.admin('POST', '/admin/revoke', { client_id: 'svc' })).status, 200);
    clock += 1;
    const afterCutoff = await clientCredentials(t, svc);
    assertTokenResponse(afterCutoff);
    assert.deepEqual(
      (await introspect(t, svc, before.body.access_token!)).body,
      { active: false },
      'the earlier token is revoked',
    );
    assert.equal((await introspect(t, svc, afterCutoff.body.access_token!)).body.active, true, 'the later one is not');
    const iat = decodeUnverified(afterCutoff.body.access_token!).payload.iat as number;
    assert.ok(iat * 1000 > clock && iat * 1000 - clock < 1000, 'dated less than a second ahead');
  });
});

/**
 * Attack: a token obtained between two cut-offs of the same client in one second. It was issued before the
 * second cut-off and must be revoked by it; when tokens after a cut-off were dated at the next whole second
 * (ahead of their issue), it looked issued after the second cut-off too and stayed active.
 */
describe('a token issued between two cut-offs in the same second', () => {
  let t: TestServer;
  /** Real time, shifted so that the test starts 100 ms into a second: the steps below share that second. */
  let offset = 0;

  before(async () => {
    t = await startServer({ now: () => Date.now() + offset });
  });
  after(() => t.close());

  it('is revoked by the second cut-off', async () => {
    const svc = await t.client({ id: 'svc2', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    await t.adminToken();
    const real = Date.now();
    offset = Math.ceil(real / 1000) * 1000 + 100 - real;
    assert.equal((await t.admin('POST', '/admin/revoke', { client_id: 'svc2' })).status, 200);
    const between = await clientCredentials(t, svc);
    assertTokenResponse(between);
    assert.equal((await t.admin('POST', '/admin/revoke', { client_id: 'svc2' })).status, 200);
    assert.deepEqual((await introspect(t, svc, between.body.access_token!)).body, { active: false });
    const iat = decodeUnverified(between.body.access_token!).payload.iat as number;
    assert.ok(iat * 1000 <= Date.now() + offset, 'never dated ahead of its issue');
  });
});

/**
 * Attack: a token request racing a cut-off. The grant read the client (or the user, the code, the refresh token)
 * before the cut-off and signs after it; its token, dated after the cut-off, would outlive it. Such a request is
 * refused. The race is reproduced with the server's clock: the request's first reading, when it began, falls
 * before the cut-off; every later one after it.
 */
describe('a token request that began before a cut-off and signs after it', () => {
  let t: TestServer;
  let clock = Math.floor(Date.now() / 1000) * 1000 + 200;
  let beganBefore: number | undefined;

  before(async () => {
    t = await startServer({
      now: () => {
        if (beganBefore === undefined) return clock;
        const began = beganBefore;
        beganBefore = undefined;
        return began;
      },
    });
  });
  after(() => t.close());

  it('is refused with invalid_grant; the next request gets its token', async () => {
    const svc = await t.client({ id: 'racer', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    await t.adminToken();
    clock += 10;
    assert.equal((await t.admin('POST', '/admin/revoke', { client_id: 'racer' })).status, 200);
    clock += 10;
    beganBefore = clock - 15;
    const raced = await clientCredentials(t, svc);
    assert.equal(raced.status, 400, JSON.stringify(raced.body));
    assert.equal(raced.body.error, 'invalid_grant');
    assertTokenResponse(await clientCredentials(t, svc));
  });
});
