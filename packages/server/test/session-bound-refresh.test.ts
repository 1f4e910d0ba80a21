import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import {
  contextOf,
  endBrowserSession,
  parseForm,
  resolveAuthorizationRequest,
  startBrowserSession,
  type GrantType,
} from '@tessera/server/internal';

import { assertOAuthError, assertTokenResponse, auditEvents, introspect, postForm, type ClientCreds } from './helpers/oauth.js';
import { issueCode } from './helpers/code-flow.js';
import { feedClient, feedToken } from './helpers/revocations.js';
import { createSchema, dropSchema, POSTGRES_MISSING, postgresAvailable, urlWithSchema } from './helpers/postgres.js';
import { startServer, type TestServer } from './helpers/server.js';

const postgres = await postgresAvailable();

/**
 * Refresh tokens bound to the browser session they were signed in through (the code carries the session, the
 * family its redemption starts records it): ending the session (an administrator's revoke, logout) or passing its
 * absolute expiry ends the family and its access tokens, pushed to the revocation feed; a family granted
 * `offline_access` outlives the session. And the admin API's browser sessions: listed by public id, revoked by it.
 * On a SQLite file and on PostgreSQL.
 */
for (const database of ['sqlite', 'postgres'] as const)
  describe(
    `session-bound refresh tokens and browser sessions in the admin API (${database})`,
    { skip: database === 'postgres' && !postgres && POSTGRES_MISSING },
    () => {
      let t: TestServer;
      let schema: string | undefined;
      const clock = new SteppedClock();
      let rs: ClientCreds;
      let feed: ClientCreds;
      let alice: string;
      const REDIRECT = 'https://app.example.com/cb';

      before(async () => {
        if (database === 'postgres') schema = await createSchema();
        t = await startServer({ now: clock.now, overrides: schema ? { database: urlWithSchema(schema) } : {} });
        rs = await t.client({ id: 'api', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
        feed = await feedClient(t, 'feed');
        const flow = {
          grantTypes: ['authorization_code', 'refresh_token'] as GrantType[],
          audiences: ['api'],
          redirectUris: [REDIRECT],
          authMethod: 'none' as const,
        };
        await t.client({ ...flow, id: 'spa', scopes: ['orders:read', 'offline_access'] });
        await t.client({ ...flow, id: 'online-only', scopes: ['orders:read'] });
        // offline_access is no permission: alice's roles do not name it, the client's allowance is enough.
        await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'reader', ['orders:read'], { replace: false });
        alice = await t.user('alice', 'correct horse battery', ['reader']);
      });
      after(async () => {
        await t.close();
        if (schema) await dropSchema(schema);
      });

      const ctx = () => contextOf(t.server);

      /** Alice signs in in a browser: the session's cookie id and its record. */
      const signIn = async () => {
        const { id: cookieId, session } = await startBrowserSession(ctx(), alice, undefined);
        return { cookieId, session };
      };

      /** A code issued in `session` for the request, redeemed by the public client: its tokens. */
      async function tokensIn(session: { id: string; authTime: number }, scopes: string[], clientId = 'spa') {
        const { code, verifier } = await issueCode(t, {
          clientId,
          userId: alice,
          redirectUri: REDIRECT,
          scopes,
          audience: ['api'],
          session,
        });
        const r = await postForm(t, '/oauth/token', {
          grant_type: 'authorization_code',
          client_id: clientId,
          redirect_uri: REDIRECT,
          code,
          code_verifier: verifier,
        });
        assertTokenResponse(r);
        return { access: r.body.access_token!, refresh: r.body.refresh_token!, scope: r.body.scope! };
      }
      /** Refreshes and returns the next refresh token, or the refusal. */
      const refresh = (token: string, clientId = 'spa') =>
        postForm(t, '/oauth/token', { grant_type: 'refresh_token', client_id: clientId, refresh_token: token });
      const active = async (token: string) => (await introspect(t, rs, token)).body.active === true;
      const sidOf = async (token: string) => (await introspect(t, rs, token)).body.sid as string;
      /** The revocation feed's snapshot, as a verifier reads it. */
      async function feedRecords(): Promise<{ kind: string; value: string }[]> {
        const res = await fetch(`${t.url}/revocations`, { headers: { authorization: `Bearer ${await feedToken(t, feed)}` } });
        assert.equal(res.status, 200);
        return ((await res.json()) as { revocations: { kind: string; value: string }[] }).revocations;
      }

      it('an administrator’s revoke ends the session: its refresh is refused and its access token revoked in the feed', async () => {
        const { session } = await signIn();
        const first = await tokensIn(session, ['orders:read']);
        const sid = await sidOf(first.access);
        const rotated = await refresh(first.refresh);
        assertTokenResponse(rotated);
        const r = await t.admin('DELETE', `/admin/browser-sessions/${session.id}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body, { revoked_sessions: 1 });
        assertOAuthError(await refresh(rotated.body.refresh_token!), 400, 'invalid_grant');
        assert.equal(await active(first.access), false);
        assert.equal(await active(rotated.body.access_token!), false);
        assert.ok((await feedRecords()).some((x) => x.kind === 'family' && x.value === sid));
        assert.equal((await ctx().store.refreshFamilies.get(sid))?.revokedReason, 'admin');
        const [event] = await auditEvents(t, 'admin.browser_session.revoked');
        assert.equal(event?.subject, alice);
        assert.deepEqual(event?.data, { browser_session: session.id, families: [sid] });
        assert.equal((await t.admin('DELETE', `/admin/browser-sessions/${session.id}`)).status, 404);
      });

      it('with offline_access the refresh token outlives the session, ended by logout or by an administrator', async () => {
        for (const end of ['logout', 'admin'] as const) {
          const { cookieId, session } = await signIn();
          const bound = await tokensIn(session, ['orders:read']);
          const offline = await tokensIn(session, ['orders:read', 'offline_access']);
          assert.equal(offline.scope, 'orders:read offline_access');
          if (end === 'logout') assert.ok(await endBrowserSession(ctx(), { cookieId }, 'logout'));
          else assert.equal((await t.admin('DELETE', `/admin/browser-sessions/${session.id}`)).body.revoked_sessions, 1);
          assertOAuthError(await refresh(bound.refresh), 400, 'invalid_grant');
          assert.equal(await active(bound.access), false, end);
          assert.equal(await active(offline.access), true, end);
          const next = await refresh(offline.refresh);
          assertTokenResponse(next);
          assert.equal(next.body.scope, 'orders:read offline_access');
          assertTokenResponse(await refresh(next.body.refresh_token!));
        }
      });

      it('expiry is lazy: past the session’s absolute expiry a bound refresh is refused, an offline_access one goes on', async () => {
        const { session } = await signIn();
        const bound = await tokensIn(session, ['orders:read']);
        const offline = await tokensIn(session, ['orders:read', 'offline_access']);
        assert.equal(
          (await ctx().store.refreshFamilies.get(await sidOf(bound.access)))?.absoluteExpiresAt,
          session.absoluteExpiresAt,
        );
        clock.advance(session.absoluteExpiresAt - clock.now() - 1000);
        const almost = await refresh(bound.refresh);
        assertTokenResponse(almost);
        clock.advance(1000);
        assertOAuthError(await refresh(almost.body.refresh_token!), 400, 'invalid_grant');
        assertTokenResponse(await refresh(offline.refresh));
      });

      it('a code whose browser session ended before redemption is refused, and stays unspent', async () => {
        const { code, verifier, session } = await issueCode(t, {
          clientId: 'spa',
          userId: alice,
          redirectUri: REDIRECT,
          scopes: ['orders:read', 'offline_access'],
          audience: ['api'],
        });
        await endBrowserSession(ctx(), { id: session.id }, 'logout');
        const r = await postForm(t, '/oauth/token', {
          grant_type: 'authorization_code',
          client_id: 'spa',
          redirect_uri: REDIRECT,
          code,
          code_verifier: verifier,
        });
        assertOAuthError(r, 400, 'invalid_grant');
        assert.equal((await ctx().store.authorizationCodes.get(ctx().master.secretDigest(code)))?.usedAt, null);
      });

      it('offline_access must be allowed to the client', async () => {
        const query = new URLSearchParams({
          client_id: 'online-only',
          response_type: 'code',
          redirect_uri: REDIRECT,
          code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
          code_challenge_method: 'S256',
          scope: 'orders:read offline_access',
        });
        const { checked } = await resolveAuthorizationRequest(ctx(), parseForm(query.toString()));
        assert.equal(checked.ok ? 'ok' : checked.error.error, 'invalid_scope');
      });

      it('the admin API lists a user’s live browser sessions by public id and times, never the cookie or its digest', async () => {
        const bob = await t.user('bob', 'correct horse battery', ['reader']);
        const older = await startBrowserSession(ctx(), bob, undefined);
        clock.advance(1000);
        const newer = await startBrowserSession(ctx(), bob, undefined);
        const r = await t.admin('GET', `/admin/users/${bob}/browser-sessions`);
        assert.equal(r.status, 200);
        const s = newer.session;
        assert.deepEqual(r.body.items, [
          {
            id: s.id,
            user_id: bob,
            created_at: Math.floor(s.createdAt / 1000),
            auth_time: Math.floor(s.authTime / 1000),
            idle_expires_at: Math.floor(s.idleExpiresAt / 1000),
            expires_at: Math.floor(s.absoluteExpiresAt / 1000),
          },
          {
            id: older.session.id,
            user_id: bob,
            created_at: Math.floor(older.session.createdAt / 1000),
            auth_time: Math.floor(older.session.authTime / 1000),
            idle_expires_at: Math.floor(older.session.idleExpiresAt / 1000),
            expires_at: Math.floor(older.session.absoluteExpiresAt / 1000),
          },
        ]);
        const text = JSON.stringify(r.body);
        for (const secret of [newer.id, older.id, s.digest, older.session.digest]) assert.ok(!text.includes(secret));
        assert.equal((await t.admin('GET', '/admin/users/no-such-user/browser-sessions')).status, 404);
        assert.deepEqual((await t.admin('DELETE', `/admin/browser-sessions/${older.session.id}`)).body, { revoked_sessions: 0 });
        assert.deepEqual(
          (await t.admin('GET', `/admin/users/${bob}/browser-sessions`)).body.items.map((x: { id: string }) => x.id),
          [s.id],
        );
        assert.equal((await t.admin('DELETE', '/admin/browser-sessions/no-such-session')).status, 404);
        // Idle past its lifetime: no longer listed.
        clock.advance(ctx().config.sessionIdleTtl * 1000);
        assert.deepEqual((await t.admin('GET', `/admin/users/${bob}/browser-sessions`)).body.items, []);
      });
    },
  );
