/**
 * DPoP (RFC 9449) with real third-party clients over real HTTP, against a server that requires nonces (`dpopNonce`):
 * - oauth4webapi (a `DPoP(client, keyPair)` handle; the client retries a `use_dpop_nonce` refusal itself, with the
 *   nonce the handle kept): client_credentials, PAR with a proof, and the authorization code + refresh flow;
 * - openid-client v6 (`getDPoPHandle`, which retries a nonce refusal on its own): client_credentials and the
 *   authorization code + refresh flow of a public client, whose refresh token another key cannot use.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';

import { contextOf } from '@tessera/server/internal';
import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

import { issueCode } from './helpers/code-flow.js';
import { startServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'https://app.example.com/cb';

async function thumbprint(keyPair: oauth.CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

/** `cnf.jkt` of an access token. */
const jktOf = (accessToken: string) => (decodeJwt(accessToken).cnf as { jkt?: string } | undefined)?.jkt;

describe('DPoP with oauth4webapi and openid-client', () => {
  let t: TestServer;
  let svcSecret: string;
  let alice: string;
  let api: FastifyInstance;
  let ordersUrl: string;

  before(async () => {
    t = await startServer({ overrides: { dpopNonce: true } });
    svcSecret = (
      await t.client({
        id: 'svc',
        grantTypes: ['client_credentials'],
        scopes: ['orders:read'],
        audiences: ['orders'],
        dpopBoundAccessTokens: true,
      })
    ).secret!;
    const code = { grantTypes: ['authorization_code' as const, 'refresh_token' as const], scopes: [], audiences: ['orders'] };
    await t.client({ id: 'spa', authMethod: 'none', redirectUris: [REDIRECT], ...code });
    alice = await t.user('alice', 'a long enough password');
    // A service protected by Tessera's Fastify plugin: it verifies the server's tokens locally and takes DPoP-bound
    // ones with their proof for this route.
    api = Fastify();
    await api.register(tesseraFastify, {
      verifier: createVerifier({
        issuer: t.url,
        audience: 'orders',
        algorithms: ['ES256'],
        jwksUri: `${t.url}/.well-known/jwks.json`,
      }),
      realm: 'orders',
    });
    api.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (req) => ({ sub: req.principal?.sub }));
    ordersUrl = `${await api.listen({ port: 0, host: '127.0.0.1' })}/orders`;
  });
  after(async () => {
    await api.close();
    await t.close();
  });

  /** A code for alice at the public client, bound to `dpopJkt` when given; the callback URL and the verifier. */
  async function callback(dpopJkt?: string): Promise<{ url: URL; verifier: string }> {
    const { code, verifier } = await issueCode(t, {
      clientId: 'spa',
      userId: alice,
      redirectUri: REDIRECT,
      scopes: [],
      audience: ['orders'],
      ...(dpopJkt ? { dpopJkt } : {}),
    });
    const url = new URL(REDIRECT);
    url.searchParams.set('code', code);
    url.searchParams.set('iss', t.url);
    return { url, verifier };
  }

  describe('oauth4webapi', () => {
    let as: oauth.AuthorizationServer;
    const insecure = { [oauth.allowInsecureRequests]: true };

    before(async () => {
      const issuer = new URL(t.url);
      as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
      );
    });

    /** Runs a request with the handle, once more after a use_dpop_nonce refusal (the handle kept the nonce). */
    async function withNonceRetry<T>(run: () => Promise<T>): Promise<T> {
      try {
        return await run();
      } catch (err) {
        if (!oauth.isDPoPNonceError(err)) throw err;
        return run();
      }
    }

    it('client_credentials: the nonce refusal retried, a DPoP token bound to the key pair', async () => {
      const client: oauth.Client = { client_id: 'svc' };
      const keyPair = await oauth.generateKeyPair('ES256');
      const DPoP = oauth.DPoP(client, keyPair);
      const auth = oauth.ClientSecretBasic(svcSecret);
      let tries = 0;
      const tokens = await withNonceRetry(async () => {
        tries++;
        const res = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'orders:read' }, { DPoP, ...insecure });
        return oauth.processClientCredentialsResponse(as, client, res);
      });
      assert.equal(tries, 2, 'the first request lacked the nonce');
      assert.equal(tokens.token_type, 'dpop');
      assert.equal(jktOf(tokens.access_token), await thumbprint(keyPair));

      // The token at a Tessera-protected route, with the handle's proof; the token alone, as a bearer, is refused.
      const res = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(ordersUrl), new Headers(), null, {
        DPoP,
        ...insecure,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { sub: 'svc' });
      const stolen = await fetch(ordersUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(stolen.status, 401);
      const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
      const withOtherKey = await oauth
        .protectedResourceRequest(tokens.access_token, 'GET', new URL(ordersUrl), new Headers(), null, {
          DPoP: thief,
          ...insecure,
        })
        .then(
          (r) => r.status,
          (err: unknown) => (err instanceof oauth.WWWAuthenticateChallengeError ? err.status : Promise.reject(err)),
        );
      assert.equal(withOtherKey, 401);
    });

    it('PAR with a DPoP proof: the pushed request is bound to the key (dpop_jkt)', async () => {
      const client: oauth.Client = { client_id: 'spa' };
      const keyPair = await oauth.generateKeyPair('ES256');
      const DPoP = oauth.DPoP(client, keyPair);
      const params = {
        redirect_uri: REDIRECT,
        response_type: 'code',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
      };
      const pushed = await withNonceRetry(async () =>
        oauth.processPushedAuthorizationResponse(
          as,
          client,
          await oauth.pushedAuthorizationRequest(as, client, oauth.None(), params, { DPoP, ...insecure }),
        ),
      );
      const ctx = contextOf(t.server);
      const stored = await ctx.store.authorizationRequests.get(ctx.master.secretDigest(pushed.request_uri), ctx.now());
      assert.equal(stored?.params.dpop_jkt, await DPoP.calculateThumbprint());
    });

    it('authorization code bound by dpop_jkt, then refresh: each token bound to the key pair', async () => {
      const client: oauth.Client = { client_id: 'spa' };
      const keyPair = await oauth.generateKeyPair('ES256');
      const DPoP = oauth.DPoP(client, keyPair);
      const { url, verifier } = await callback(await DPoP.calculateThumbprint());
      const params = oauth.validateAuthResponse(as, client, url, oauth.expectNoState);
      const tokens = await withNonceRetry(async () =>
        oauth.processAuthorizationCodeResponse(
          as,
          client,
          await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, { DPoP, ...insecure }),
        ),
      );
      assert.equal(tokens.token_type, 'dpop');
      assert.equal(jktOf(tokens.access_token), await thumbprint(keyPair));
      const refreshed = await withNonceRetry(async () =>
        oauth.processRefreshTokenResponse(
          as,
          client,
          await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP, ...insecure }),
        ),
      );
      assert.equal(refreshed.token_type, 'dpop');
      assert.equal(jktOf(refreshed.access_token), await thumbprint(keyPair));
    });
  });

  describe('openid-client v6', () => {
    const discover = (clientId: string, auth: oidc.ClientAuth) =>
      oidc.discovery(new URL(t.url), clientId, undefined, auth, { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] });

    it('client_credentials with getDPoPHandle: a DPoP token bound to the key pair', async () => {
      const config = await discover('svc', oidc.ClientSecretBasic(svcSecret));
      const keyPair = await oidc.randomDPoPKeyPair('ES256');
      const tokens = await oidc.clientCredentialsGrant(
        config,
        { scope: 'orders:read' },
        { DPoP: oidc.getDPoPHandle(config, keyPair) },
      );
      assert.equal(tokens.token_type, 'dpop');
      assert.equal(jktOf(tokens.access_token), await thumbprint(keyPair));

      // The token at a Tessera-protected route, with the handle's proof.
      const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(ordersUrl), 'GET', null, undefined, {
        DPoP: oidc.getDPoPHandle(config, keyPair),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { sub: 'svc' });
    });

    it('a client registered with dpop_bound_access_tokens gets nothing without a proof', async () => {
      const config = await discover('svc', oidc.ClientSecretBasic(svcSecret));
      await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'orders:read' }), (err: unknown) => {
        assert.ok(err instanceof oidc.ResponseBodyError);
        assert.equal(err.error, 'invalid_dpop_proof');
        return true;
      });
    });

    it('authorization code and refresh of a public client: bound tokens; another key cannot refresh', async () => {
      const config = await discover('spa', oidc.None());
      const keyPair = await oidc.randomDPoPKeyPair('ES256');
      const DPoP = oidc.getDPoPHandle(config, keyPair);
      const { url, verifier } = await callback();
      const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier }, undefined, { DPoP });
      assert.equal(tokens.token_type, 'dpop');
      assert.equal(jktOf(tokens.access_token), await thumbprint(keyPair));
      const stranger = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      await assert.rejects(
        oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: stranger }),
        (err: unknown) => {
          assert.ok(err instanceof oidc.ResponseBodyError);
          assert.equal(err.error, 'invalid_grant');
          return true;
        },
      );
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
      assert.equal(refreshed.token_type, 'dpop');
      assert.equal(jktOf(refreshed.access_token), await thumbprint(keyPair));
    });
  });
});
