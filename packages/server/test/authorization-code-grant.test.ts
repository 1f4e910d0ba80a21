import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { SteppedClock } from '@tessera/testing';

import { CODE_LIFETIME_S, contextOf } from '@tessera/server/internal';

import { assertOAuthError, assertTokenResponse, introspect, postForm, type Answer, type ClientCreds } from './helpers/oauth.js';
import { issueCode } from './helpers/code-flow.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

/**
 * The authorization_code grant at the token endpoint (RFC 6749 section 4.1.3, RFC 7636), on codes written to the
 * real store as the authorization endpoint writes them: PKCE S256 checked, the redirect URI and client bound,
 * each code redeemed once, a replay revoking what the first redemption issued, public clients by client_id.
 */
describe('authorization_code grant', () => {
  let t: TestServer;
  const clock = new SteppedClock();
  let rs: ClientCreds;
  let portal: ClientCreds;
  let alice: string;
  const REDIRECT = 'https://app.example.com/cb';

  before(async () => {
    t = await startServer({ now: clock.now });
    rs = await t.client({ id: 'api', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
    const flow = {
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['api'],
    } as const;
    const input = { ...flow, grantTypes: [...flow.grantTypes], scopes: [...flow.scopes], audiences: [...flow.audiences] };
    await t.client({ ...input, id: 'spa', authMethod: 'none', redirectUris: [REDIRECT], firstParty: true });
    portal = await t.client({ ...input, id: 'portal', redirectUris: [REDIRECT] });
    await t.server.admin.roles.put({ actor: 'test', ip: 'local' }, 'reader', ['orders:read'], { replace: false });
    alice = await t.user('alice', 'correct horse battery', ['reader']);
  });
  after(() => t.close());

  /** A code for alice issued as /authorize issues it (digest only, 60 s), with a fresh verifier. */
  const aCode = (clientId = 'spa', scopes = ['orders:read']) =>
    issueCode(t, { clientId, userId: alice, redirectUri: REDIRECT, scopes, audience: ['api'] });
  const redeem = (params: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> =>
    postForm(
      t,
      '/oauth/token',
      { grant_type: 'authorization_code', client_id: 'spa', redirect_uri: REDIRECT, ...params },
      headers,
    );
  /** The public client's refresh request: client_id, no secret. */
  const publicRefresh = (refreshToken: string) =>
    postForm(t, '/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken });
  const active = async (token: string) => (await introspect(t, rs, token)).body.active;

  it('a public client redeems its code by client_id and code_verifier; its refresh token rotates', async () => {
    const { code, verifier } = await aCode();
    const r = await redeem({ code, code_verifier: verifier });
    assertTokenResponse(r);
    assert.equal(r.body.scope, 'orders:read');
    assert.equal(await active(r.body.access_token!), true);
    assertTokenResponse(await publicRefresh(r.body.refresh_token!));
    assertOAuthError(await publicRefresh(r.body.refresh_token!), 400, 'invalid_grant');
  });

  it('code-replay: the second use is refused and the first use’s access and refresh tokens are revoked', async () => {
    const { code, verifier } = await aCode();
    const first = await redeem({ code, code_verifier: verifier });
    assertTokenResponse(first);
    assertOAuthError(await redeem({ code, code_verifier: verifier }), 400, 'invalid_grant');
    assert.equal(await active(first.body.access_token!), false);
    assertOAuthError(await publicRefresh(first.body.refresh_token!), 400, 'invalid_grant');
  });

  it('concurrent redemptions of one code: exactly one gets tokens', async () => {
    const { code, verifier } = await aCode();
    const answers = await Promise.all(Array.from({ length: 8 }, () => redeem({ code, code_verifier: verifier })));
    assert.equal(answers.filter((a) => a.status === 200).length, 1, answers.map((a) => a.status).join(' '));
    for (const a of answers.filter((x) => x.status !== 200)) assertOAuthError(a, 400, 'invalid_grant');
  });

  it('pkce-downgrade: a missing, wrong or plain verifier is refused, and the code still works with the right one', async () => {
    const { code, verifier } = await aCode();
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const attempts: Record<string, string>[] = [
      { code },
      { code, code_verifier: randomBytes(32).toString('base64url') },
      { code, code_verifier: challenge },
      { code, code_verifier: 'short' },
    ];
    for (const params of attempts) assertOAuthError(await redeem(params), 400, 'invalid_grant');
    assertTokenResponse(await redeem({ code, code_verifier: verifier }));
  });

  it('the redirect URI must be the one the code was issued for, character for character', async () => {
    const { code, verifier } = await aCode();
    for (const redirect_uri of [
      `${REDIRECT}/`,
      'https://app.example.com/CB',
      `${REDIRECT}?x=1`,
      'https://app.example.com:444/cb',
    ])
      assertOAuthError(await redeem({ code, code_verifier: verifier, redirect_uri }), 400, 'invalid_grant');
    assertOAuthError(await redeem({ code, code_verifier: verifier, redirect_uri: '' }), 400, 'invalid_request');
    assertTokenResponse(await redeem({ code, code_verifier: verifier }));
  });

  it('a code is bound to its client: another client, public or confidential, gets invalid_grant', async () => {
    const { code, verifier } = await aCode('portal');
    assertOAuthError(await redeem({ code, code_verifier: verifier }), 400, 'invalid_grant');
    const byPortal = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      { authorization: basic(portal.id, portal.secret!) },
    );
    assertTokenResponse(byPortal);
  });

  it('a confidential client must authenticate: its client_id alone is refused, and a public client may not introspect', async () => {
    const { code, verifier } = await aCode('portal');
    const r = await redeem({ client_id: 'portal', code, code_verifier: verifier });
    assertOAuthError(r, 401, 'invalid_client');
    const i = await postForm(t, '/oauth/introspect', { client_id: 'spa', token: 'x' });
    assertOAuthError(i, 401, 'invalid_client');
  });

  it('a public client revokes its own refresh token by client_id (RFC 7009), the session with it', async () => {
    const { code, verifier } = await aCode();
    const r = await redeem({ code, code_verifier: verifier });
    assertTokenResponse(r);
    const revoked = await postForm(t, '/oauth/revoke', { client_id: 'spa', token: r.body.refresh_token! });
    assert.equal(revoked.status, 200);
    assert.equal(await active(r.body.access_token!), false);
    assertOAuthError(await publicRefresh(r.body.refresh_token!), 400, 'invalid_grant');
  });

  it('a code expires after 60 s', async () => {
    assert.equal(CODE_LIFETIME_S, 60);
    const { code, verifier } = await aCode();
    clock.advance(59_000);
    const early = await aCode();
    clock.advance(1_000);
    assertOAuthError(await redeem({ code, code_verifier: verifier }), 400, 'invalid_grant');
    assertTokenResponse(await redeem({ code: early.code, code_verifier: early.verifier }));
  });

  it('the code carries the requested scopes the user’s roles allow; the others are left out', async () => {
    const { code, verifier } = await aCode('spa', ['orders:read', 'orders:write']);
    const stored = await contextOf(t.server).store.authorizationCodes.get(contextOf(t.server).master.secretDigest(code));
    assert.equal(stored?.scope, 'orders:read');
    assert.equal(stored?.expiresAt, stored!.createdAt + 60_000);
    const r = await redeem({ code, code_verifier: verifier });
    assertTokenResponse(r);
    assert.equal(r.body.scope, 'orders:read');
  });
});
