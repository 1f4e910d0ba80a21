import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { encodeBase64url, generateKey, signJwt, type Key } from '@tessera/core';
import { SignJWT } from 'jose';

import { contextOf } from '@tessera/server/internal';

import { assertOAuthError, assertTokenResponse, auditEvents, postForm, type Answer, type ClientCreds } from './helpers/oauth.js';
import { basic, startServer, type TestServer } from './helpers/server.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CC = { grant_type: 'client_credentials' } as const;

/** Client authentication at the token endpoint (RFC 6749 section 2.3, RFC 7523 section 2.2). */
describe('client authentication', () => {
  let t: TestServer;
  let basicClient: ClientCreds;
  let postClient: ClientCreds;
  let jwtKey: Key;
  /** The answer every failed authentication gets, whatever the reason. */
  let refused: Answer;

  const WEIRD_ID = 'svc:one two+three/ü%&=';
  const WEIRD_SECRET = 'p@ss:w+rd/ü% &=?#';

  before(async () => {
    t = await startServer();
    const spec = { grantTypes: ['client_credentials' as const], scopes: ['read'], audiences: ['api'] };
    basicClient = await t.client({ id: 'svc-basic', ...spec });
    postClient = await t.client({ id: 'svc-post', authMethod: 'client_secret_post', ...spec });
    await t.client({ id: WEIRD_ID, ...spec });
    const ctx = contextOf(t.server);
    await ctx.store.clients.update(
      WEIRD_ID,
      { secrets: [{ digest: ctx.master.secretDigest(WEIRD_SECRET), createdAt: Date.now(), expiresAt: null }] },
      Date.now(),
    );
    jwtKey = generateKey('ES256', { kid: 'client-key-1' });
    await t.client({ id: 'svc-jwt', authMethod: 'private_key_jwt', jwks: { keys: [jwtKey.publicKey().toJwk()] }, ...spec });
    refused = await postForm(t, '/oauth/token', CC, { authorization: basic('svc-basic', 'wrong') });
  });
  after(() => t.close());

  function assertRefused(r: Answer): void {
    assertOAuthError(r, 401, 'invalid_client');
    assert.deepEqual(r.body, refused.body, 'one answer for every failed authentication');
  }

  describe('client_secret_basic', () => {
    it('authenticates with the Authorization header', async () => {
      assertTokenResponse(await postForm(t, '/oauth/token', CC, { authorization: basic(basicClient.id, basicClient.secret!) }));
    });

    it('form-urlencodes id and secret before base64 (RFC 6749 section 2.3.1)', async () => {
      const r = await postForm(t, '/oauth/token', CC, { authorization: basic(WEIRD_ID, WEIRD_SECRET) });
      assertTokenResponse(r);
      // The same credentials without the urlencoding do not authenticate: ':' splits the id, '%&' is no escape.
      const raw = 'Basic ' + Buffer.from(`${WEIRD_ID}:${WEIRD_SECRET}`).toString('base64');
      assertOAuthError(await postForm(t, '/oauth/token', CC, { authorization: raw }), 401, 'invalid_client');
      // '+' in an encoded secret is a space, so a secret with a raw '+' does not match.
      const plus =
        'Basic ' +
        Buffer.from(`${encodeURIComponent(WEIRD_ID)}:${encodeURIComponent(WEIRD_SECRET).replace('%2B', '+')}`).toString('base64');
      assertRefused(await postForm(t, '/oauth/token', CC, { authorization: plus }));
    });

    it('accepts a client_id parameter naming the same client, refuses one naming another', async () => {
      assertTokenResponse(
        await postForm(
          t,
          '/oauth/token',
          { ...CC, client_id: basicClient.id },
          { authorization: basic(basicClient.id, basicClient.secret!) },
        ),
      );
      assertOAuthError(
        await postForm(
          t,
          '/oauth/token',
          { ...CC, client_id: 'svc-post' },
          { authorization: basic(basicClient.id, basicClient.secret!) },
        ),
        400,
        'invalid_request',
      );
    });

    it('is 401 invalid_client with WWW-Authenticate for a wrong secret', async () => {
      assertOAuthError(refused, 401, 'invalid_client');
      assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="tessera", error="invalid_client"');
      assertRefused(
        await postForm(t, '/oauth/token', CC, { authorization: basic(basicClient.id, basicClient.secret!.slice(0, -1)) }),
      );
      assertRefused(await postForm(t, '/oauth/token', CC, { authorization: basic(basicClient.id, '') }));
    });

    it('gives an unknown client the same 401 as a wrong secret', async () => {
      const r = await postForm(t, '/oauth/token', CC, { authorization: basic('no-such-client', 'whatever') });
      assertRefused(r);
      assert.equal(r.headers.get('www-authenticate'), refused.headers.get('www-authenticate'));
    });

    it('refuses malformed Basic credentials with 401', async () => {
      for (const authorization of [
        'Basic',
        'Basic ',
        'Basic !!!',
        `Basic ${Buffer.from('no-colon').toString('base64')}`,
        `Basic ${Buffer.from(':secret').toString('base64')}`,
        `Basic ${Buffer.from('svc-basic:%zz').toString('base64')}`,
      ]) {
        const r = await postForm(t, '/oauth/token', CC, { authorization });
        assertOAuthError(r, 401, 'invalid_client');
      }
    });

    it('refuses a disabled client', async () => {
      const c = await t.client({ id: 'svc-disabled', grantTypes: ['client_credentials'], scopes: [], audiences: ['api'] });
      assertTokenResponse(await postForm(t, '/oauth/token', CC, { authorization: basic(c.id, c.secret!) }));
      await contextOf(t.server).store.clients.update(c.id, { disabled: true }, Date.now());
      assertRefused(await postForm(t, '/oauth/token', CC, { authorization: basic(c.id, c.secret!) }));
    });
  });

  describe('client_secret_post', () => {
    it('authenticates with client_id and client_secret in the body', async () => {
      assertTokenResponse(
        await postForm(t, '/oauth/token', { ...CC, client_id: postClient.id, client_secret: postClient.secret! }),
      );
    });

    it('refuses a client registered for basic that uses post, and the reverse', async () => {
      assertRefused(await postForm(t, '/oauth/token', { ...CC, client_id: basicClient.id, client_secret: basicClient.secret! }));
      assertRefused(await postForm(t, '/oauth/token', CC, { authorization: basic(postClient.id, postClient.secret!) }));
    });

    it('refuses a wrong secret, an unknown client, and a secret without client_id', async () => {
      assertRefused(await postForm(t, '/oauth/token', { ...CC, client_id: postClient.id, client_secret: 'wrong' }));
      assertRefused(await postForm(t, '/oauth/token', { ...CC, client_id: 'nobody', client_secret: 'wrong' }));
      assertOAuthError(await postForm(t, '/oauth/token', { ...CC, client_secret: postClient.secret! }), 401, 'invalid_client');
    });

    it('is invalid_client when no authentication is given at all', async () => {
      assertOAuthError(await postForm(t, '/oauth/token', CC), 401, 'invalid_client');
      assertOAuthError(await postForm(t, '/oauth/token', { ...CC, client_id: postClient.id }), 401, 'invalid_client');
      assertOAuthError(
        await postForm(t, '/oauth/token', CC, { authorization: `Bearer ${postClient.secret!}` }),
        401,
        'invalid_client',
      );
    });
  });

  describe('private_key_jwt (RFC 7523)', () => {
    function assertion(claims: Record<string, unknown> = {}, key: Key = jwtKey): string {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        { iss: 'svc-jwt', sub: 'svc-jwt', aud: `${t.url}/oauth/token`, iat: now, exp: now + 60, jti: randomUUID(), ...claims },
        key,
      );
    }
    const withAssertion = (a: string, extra: Record<string, string> = {}) =>
      postForm(t, '/oauth/token', { ...CC, client_assertion_type: JWT_BEARER, client_assertion: a, ...extra });

    it('authenticates with an assertion for the token endpoint or the issuer', async () => {
      const r = await withAssertion(assertion());
      assertTokenResponse(r);
      assertTokenResponse(await withAssertion(assertion({ aud: t.url })));
      assertTokenResponse(await withAssertion(assertion({ aud: ['https://elsewhere.example', t.url] })));
      assertTokenResponse(await withAssertion(assertion(), { client_id: 'svc-jwt' }));
    });

    it('accepts an assertion signed by jose SignJWT', async () => {
      const a = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: jwtKey.kid })
        .setIssuer('svc-jwt')
        .setSubject('svc-jwt')
        .setAudience(`${t.url}/oauth/token`)
        .setIssuedAt()
        .setExpirationTime('2m')
        .setJti(randomUUID())
        .sign(jwtKey.keyObject);
      assertTokenResponse(await withAssertion(a));
    });

    it('refuses an assertion signed by another key', async () => {
      assertRefused(await withAssertion(assertion({}, generateKey('ES256', { kid: jwtKey.kid }))));
      assertRefused(await withAssertion(assertion({}, generateKey('ES256'))));
      assertRefused(await withAssertion(assertion({}, generateKey('RS256', { kid: jwtKey.kid }))));
    });

    it('refuses alg none and an HMAC made with the public key (key confusion)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = encodeBase64url(
        JSON.stringify({ iss: 'svc-jwt', sub: 'svc-jwt', aud: t.url, exp: now + 60, jti: randomUUID() }),
      );
      const none = `${encodeBase64url(JSON.stringify({ alg: 'none', kid: jwtKey.kid }))}.${claims}.`;
      assertRefused(await withAssertion(none));
      const input = `${encodeBase64url(JSON.stringify({ alg: 'HS256', kid: jwtKey.kid }))}.${claims}`;
      const mac = createHmac('sha256', JSON.stringify(jwtKey.publicKey().toJwk())).update(input).digest('base64url');
      assertRefused(await withAssertion(`${input}.${mac}`));
    });

    it('refuses a wrong audience', async () => {
      assertRefused(await withAssertion(assertion({ aud: 'https://elsewhere.example' })));
      assertRefused(await withAssertion(assertion({ aud: `${t.url}/oauth/introspect` })));
      assertRefused(await withAssertion(assertion({ aud: undefined })));
    });

    it('refuses an expired assertion, one without exp, and one that lives too long', async () => {
      const now = Math.floor(Date.now() / 1000);
      assertRefused(await withAssertion(assertion({ iat: now - 600, exp: now - 120 })));
      assertRefused(await withAssertion(assertion({ exp: undefined })));
      assertRefused(await withAssertion(assertion({ exp: String(now + 60) })));
      assertRefused(await withAssertion(assertion({ exp: now + 86_400 })));
      assertRefused(await withAssertion(assertion({ nbf: now + 600 })));
    });

    it('refuses an assertion without jti', async () => {
      assertRefused(await withAssertion(assertion({ jti: undefined })));
      assertRefused(await withAssertion(assertion({ jti: '' })));
    });

    it('refuses a replayed jti and records it', async () => {
      const a = assertion();
      assertTokenResponse(await withAssertion(a));
      assertRefused(await withAssertion(a));
      // A new assertion reusing the jti is a replay too.
      const jti = String(JSON.parse(Buffer.from(a.split('.')[1]!, 'base64url').toString()).jti);
      assertRefused(await withAssertion(assertion({ jti })));
      const events = await auditEvents(t, 'client.assertion_replay');
      assert.ok(events.some((e) => e.client_id === 'svc-jwt'));
    });

    it('refuses iss != sub, and an assertion for another client', async () => {
      assertRefused(await withAssertion(assertion({ iss: 'svc-basic' })));
      assertRefused(await withAssertion(assertion({ sub: 'svc-basic' })));
      assertRefused(await withAssertion(assertion(), { client_id: 'svc-basic' }));
      assertRefused(await withAssertion(assertion({ iss: 'svc-basic', sub: 'svc-basic' })));
    });

    it('refuses an assertion for a client registered with a secret, and a secret for a private_key_jwt client', async () => {
      const now = Math.floor(Date.now() / 1000);
      const forBasic = signJwt({ iss: 'svc-basic', sub: 'svc-basic', aud: t.url, exp: now + 60, jti: randomUUID() }, jwtKey);
      assertRefused(await withAssertion(forBasic));
      assertRefused(await postForm(t, '/oauth/token', { ...CC, client_id: 'svc-jwt', client_secret: 'anything' }));
      assertRefused(await postForm(t, '/oauth/token', CC, { authorization: basic('svc-jwt', 'anything') }));
    });

    it('refuses garbage assertions with 401 and a wrong assertion type with 400', async () => {
      for (const a of ['not-a-jwt', 'a.b.c', '..', 'x'.repeat(4000)])
        assertOAuthError(await withAssertion(a), 401, 'invalid_client');
      assertOAuthError(
        await postForm(t, '/oauth/token', { ...CC, client_assertion_type: 'urn:x', client_assertion: assertion() }),
        400,
        'invalid_request',
      );
      assertOAuthError(await postForm(t, '/oauth/token', { ...CC, client_assertion_type: JWT_BEARER }), 400, 'invalid_request');
    });
  });

  describe('more than one method', () => {
    it('is 400 invalid_request (RFC 6749 section 2.3)', async () => {
      const auth = { authorization: basic(basicClient.id, basicClient.secret!) };
      assertOAuthError(
        await postForm(t, '/oauth/token', { ...CC, client_id: basicClient.id, client_secret: basicClient.secret! }, auth),
        400,
        'invalid_request',
      );
      const now = Math.floor(Date.now() / 1000);
      const a = signJwt({ iss: 'svc-jwt', sub: 'svc-jwt', aud: t.url, exp: now + 60, jti: randomUUID() }, jwtKey);
      assertOAuthError(
        await postForm(t, '/oauth/token', { ...CC, client_assertion_type: JWT_BEARER, client_assertion: a }, auth),
        400,
        'invalid_request',
      );
      assertOAuthError(
        await postForm(t, '/oauth/token', {
          ...CC,
          client_id: postClient.id,
          client_secret: postClient.secret!,
          client_assertion_type: JWT_BEARER,
          client_assertion: a,
        }),
        400,
        'invalid_request',
      );
    });
  });

  describe('on revocation and introspection', () => {
    it('accepts every method there too', async () => {
      const token = (await postForm(t, '/oauth/token', CC, { authorization: basic(basicClient.id, basicClient.secret!) })).body
        .access_token!;
      const now = Math.floor(Date.now() / 1000);
      const a = signJwt({ iss: 'svc-jwt', sub: 'svc-jwt', aud: t.url, exp: now + 60, jti: randomUUID() }, jwtKey);
      const byJwt = await postForm(t, '/oauth/introspect', { token, client_assertion_type: JWT_BEARER, client_assertion: a });
      assert.equal(byJwt.status, 200);
      assert.equal(byJwt.body.active, true);
      const byPost = await postForm(t, '/oauth/introspect', {
        token,
        client_id: postClient.id,
        client_secret: postClient.secret!,
      });
      assert.equal(byPost.body.active, true);
      assertRefused(await postForm(t, '/oauth/introspect', { token }, { authorization: basic(basicClient.id, 'wrong') }));
      assertRefused(await postForm(t, '/oauth/revoke', { token, client_id: postClient.id, client_secret: 'wrong' }));
    });
  });
});
