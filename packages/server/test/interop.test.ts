/**
 * Interoperability of the auth server with real third-party clients, each over real HTTP:
 * - openid-client v6 (RFC 8414 discovery, client_credentials, password, refresh, revocation, introspection,
 *   with client_secret_post, client_secret_basic and private_key_jwt client authentication);
 * - jose's remote JWKS + jwtVerify (RFC 9068 `typ: at+jwt`) for every asymmetric signing algorithm;
 * - Debian's PyJWT (`PyJWKClient` on the JWKS URL, then `jwt.decode`) under /usr/bin/python3, not a pyenv
 *   python on PATH. Without it those tests are skipped with the reason, except in CI, where they fail.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import type { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import { contextOf } from '@tessera/server/internal';

import { startServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';

/** openid-client's configuration for one client, from the server's RFC 8414 metadata over plain http. */
function discover(t: TestServer, clientId: string, secretOrAuth: string | oidc.ClientAuth): Promise<oidc.Configuration> {
  const [metadata, auth] = typeof secretOrAuth === 'string' ? [secretOrAuth, undefined] : [undefined, secretOrAuth];
  return oidc.discovery(new URL(t.url), clientId, metadata, auth, { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] });
}

/** The OAuth error a rejected openid-client call carries (ResponseBodyError: RFC 6749 section 5.2 body). */
async function oauthError(p: Promise<unknown>): Promise<{ error: string; status: number }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof oidc.ResponseBodyError, `expected an OAuth error response, got ${String(err)}`);
    return { error: err.error, status: err.status };
  }
  assert.fail('the request succeeded');
}

describe('openid-client v6 against the auth server', () => {
  let t: TestServer;
  /** client_credentials, client_secret_post (openid-client's default for a bare client secret). */
  let service: oidc.Configuration;
  /** First-party password + refresh_token client, client_secret_basic. */
  let web: oidc.Configuration;

  before(async () => {
    t = await startServer();
    const svc = await t.client({
      id: 'reports',
      authMethod: 'client_secret_post',
      grantTypes: ['client_credentials'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['orders', 'billing'],
    });
    service = await discover(t, svc.id, svc.secret!);
    const w = await t.client({
      id: 'web',
      firstParty: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['orders'],
    });
    web = await discover(t, w.id, oidc.ClientSecretBasic(w.secret!));
    await contextOf(t.server).store.roles.put({ name: 'reader', permissions: ['orders:read'] });
    await t.user('alice', PASSWORD, ['reader']);
  });
  after(() => t.close());

  it('discovers the RFC 8414 metadata at /.well-known/oauth-authorization-server', () => {
    const m = service.serverMetadata();
    assert.equal(m.issuer, t.url);
    assert.equal(m.token_endpoint, `${t.url}/oauth/token`);
    assert.equal(m.jwks_uri, `${t.url}/.well-known/jwks.json`);
    assert.equal(m.revocation_endpoint, `${t.url}/oauth/revoke`);
    assert.equal(m.introspection_endpoint, `${t.url}/oauth/introspect`);
    assert.deepEqual(m.grant_types_supported, [
      'authorization_code',
      'client_credentials',
      'password',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]);
    assert.ok(m.token_endpoint_auth_methods_supported?.includes('client_secret_post'));
  });

  it('client_credentials with client_secret_post: a Bearer token for the requested scope and resource', async () => {
    const r = await oidc.clientCredentialsGrant(service, { scope: 'orders:read', resource: 'billing' });
    assert.equal(r.token_type, 'bearer'); // openid-client lower-cases it
    assert.equal(r.expires_in, 600);
    assert.ok(Math.abs((r.expiresIn() ?? 0) - 600) <= 1, `expires_in ${r.expiresIn()}`); // computed from the clock: may read 599
    assert.equal(r.scope, 'orders:read');
    assert.equal(r.refresh_token, undefined);
    const claims = decodeJwt(r.access_token);
    assert.equal(claims.sub, 'reports');
    assert.equal(claims.aud, 'billing');
    assert.equal(claims.client_id, 'reports');
  });

  it('client_credentials with client_secret_basic and an id that Basic must form-encode (RFC 6749 2.3.1)', async () => {
    const c = await t.client({
      id: 'batch job:1+x',
      grantTypes: ['client_credentials'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    });
    const config = await discover(t, c.id, oidc.ClientSecretBasic(c.secret!));
    const r = await oidc.clientCredentialsGrant(config);
    assert.equal(decodeJwt(r.access_token).sub, 'batch job:1+x');
  });

  it('client_credentials with private_key_jwt (RFC 7523 client assertion signed by openid-client)', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const c = await t.client({
      id: 'signer',
      authMethod: 'private_key_jwt',
      jwks: { keys: [{ ...jwk, kid: 'signer-1', alg: 'ES256', use: 'sig' }] },
      grantTypes: ['client_credentials'],
      scopes: ['orders:read'],
      audiences: ['orders'],
    });
    const config = await discover(t, c.id, oidc.PrivateKeyJwt({ key: pair.privateKey, kid: 'signer-1' }));
    const r = await oidc.clientCredentialsGrant(config);
    assert.equal(decodeJwt(r.access_token).sub, 'signer');
  });

  it('a wrong client secret is a 401 invalid_client challenge openid-client understands', async () => {
    const config = await discover(t, 'reports', 'not the secret');
    await assert.rejects(oidc.clientCredentialsGrant(config), (err: unknown) => {
      assert.ok(err instanceof oidc.WWWAuthenticateChallengeError);
      assert.equal(err.status, 401);
      assert.equal(err.cause[0]?.parameters.error, 'invalid_client');
      return true;
    });
  });

  it('password grant through genericGrantRequest: access and refresh token, scopes cut to the roles', async () => {
    const r = await oidc.genericGrantRequest(web, 'password', { username: 'alice', password: PASSWORD });
    assert.equal(r.token_type, 'bearer');
    assert.equal(r.scope, 'orders:read');
    assert.equal(typeof r.refresh_token, 'string');
    const claims = decodeJwt(r.access_token);
    assert.equal(claims.sub, 'user-alice');
    assert.equal(claims.aud, 'orders');
    assert.equal(typeof claims.sid, 'string');
  });

  it('a wrong password is invalid_grant (400)', async () => {
    assert.deepEqual(await oauthError(oidc.genericGrantRequest(web, 'password', { username: 'alice', password: 'wrong' })), {
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('refreshTokenGrant rotates the refresh token; the spent one is invalid_grant', async () => {
    const first = await oidc.genericGrantRequest(web, 'password', { username: 'alice', password: PASSWORD });
    const second = await oidc.refreshTokenGrant(web, first.refresh_token!);
    assert.equal(second.scope, 'orders:read');
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.equal(decodeJwt(second.access_token).sid, decodeJwt(first.access_token).sid);
    assert.deepEqual(await oauthError(oidc.refreshTokenGrant(web, first.refresh_token!)), {
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('tokenIntrospection: an access token, a refresh token and an unknown token', async () => {
    const r = await oidc.genericGrantRequest(web, 'password', { username: 'alice', password: PASSWORD });
    const access = await oidc.tokenIntrospection(web, r.access_token);
    assert.equal(access.active, true);
    assert.equal(access.sub, 'user-alice');
    assert.equal(access.client_id, 'web');
    assert.equal(access.scope, 'orders:read');
    assert.equal(access.iss, t.url);
    const refresh = await oidc.tokenIntrospection(web, r.refresh_token!, { token_type_hint: 'refresh_token' });
    assert.equal(refresh.active, true);
    assert.equal(refresh.sub, 'user-alice');
    assert.deepEqual(await oidc.tokenIntrospection(web, 'not-a-token'), { active: false });
  });

  it('tokenRevocation of a refresh token ends the session: both of its tokens become inactive', async () => {
    const r = await oidc.genericGrantRequest(web, 'password', { username: 'alice', password: PASSWORD });
    await oidc.tokenRevocation(web, r.refresh_token!, { token_type_hint: 'refresh_token' });
    assert.equal((await oidc.tokenIntrospection(web, r.refresh_token!)).active, false);
    assert.equal((await oidc.tokenIntrospection(web, r.access_token)).active, false);
    assert.equal((await oauthError(oidc.refreshTokenGrant(web, r.refresh_token!))).error, 'invalid_grant');
  });

  it('tokenRevocation of an access token; revoking an unknown token also succeeds (RFC 7009 2.2)', async () => {
    const r = await oidc.clientCredentialsGrant(service, { resource: 'orders' });
    assert.equal((await oidc.tokenIntrospection(service, r.access_token)).active, true);
    await oidc.tokenRevocation(service, r.access_token, { token_type_hint: 'access_token' });
    assert.equal((await oidc.tokenIntrospection(service, r.access_token)).active, false);
    await oidc.tokenRevocation(service, 'not-a-token');
  });
});

describe("jose's remote JWKS verifies issued tokens", () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
    it(`${alg}: createRemoteJWKSet + jwtVerify with issuer, audience and typ at+jwt`, async () => {
      const t = await startServer({ overrides: { signingAlg: alg } });
      try {
        const c = await t.client({
          id: 'reports',
          authMethod: 'client_secret_post',
          grantTypes: ['client_credentials'],
          scopes: ['orders:read'],
          audiences: ['orders'],
        });
        const token = (await oidc.clientCredentialsGrant(await discover(t, c.id, c.secret!))).access_token;
        const jwks = createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`));
        const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: t.url, audience: 'orders', typ: 'at+jwt' });
        assert.equal(protectedHeader.alg, alg);
        assert.equal(payload.sub, 'reports');
        assert.equal(payload.scope, 'orders:read');
        await assert.rejects(
          jwtVerify(token, jwks, { issuer: t.url, audience: 'billing', typ: 'at+jwt' }),
          joseErrors.JWTClaimValidationFailed,
        );
      } finally {
        await t.close();
      }
    });
  }
});

const PYTHON = '/usr/bin/python3';
const MISSING = 'PyJWT not installed: apt-get install -y python3-jwt python3-cryptography';

/** Fetches the signing key through PyJWKClient, then decodes with and without the right audience. */
const PYJWT_SCRIPT = `
import json, sys
import jwt

req = json.load(sys.stdin)
key = jwt.PyJWKClient(req["jwks_uri"]).get_signing_key_from_jwt(req["token"])
out = {"kid": key.key_id}
out["claims"] = jwt.decode(req["token"], key.key, algorithms=["RS256"], audience=req["audience"], issuer=req["issuer"],
                           options={"require": ["exp", "iat", "iss", "aud", "sub"]})
try:
    jwt.decode(req["token"], key.key, algorithms=["RS256"], audience="billing")
except jwt.InvalidAudienceError as e:
    out["wrongAudience"] = type(e).__name__
print(json.dumps(out))
`;

function pyjwtVersion(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import jwt, cryptography; print(jwt.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Runs python without blocking the event loop: the server in this process must answer PyJWKClient. */
function python(script: string, input: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ['-c', script], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`python failed: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin!.end(JSON.stringify(input));
  });
}

const pyjwt = pyjwtVersion();

describe('PyJWT (Debian, /usr/bin/python3) verifies an RS256 token through the JWKS', () => {
  it(`PyJWT is installed for ${PYTHON}`, { skip: pyjwt || process.env.CI === 'true' ? false : MISSING }, () => {
    assert.ok(pyjwt, `${MISSING} (required when CI=true)`);
  });

  it(
    'PyJWKClient.get_signing_key_from_jwt + jwt.decode accept the token and refuse another audience',
    { skip: pyjwt ? false : MISSING },
    async () => {
      const t = await startServer({ overrides: { signingAlg: 'RS256' } });
      try {
        const c = await t.client({
          id: 'reports',
          authMethod: 'client_secret_post',
          grantTypes: ['client_credentials'],
          scopes: ['orders:read'],
          audiences: ['orders'],
        });
        const token = (await oidc.clientCredentialsGrant(await discover(t, c.id, c.secret!))).access_token;
        const out = JSON.parse(
          await python(PYJWT_SCRIPT, { jwks_uri: `${t.url}/.well-known/jwks.json`, token, audience: 'orders', issuer: t.url }),
        ) as { kid: string; claims: Record<string, unknown>; wrongAudience?: string };
        assert.equal(out.kid, contextOf(t.server).keys.activeKey().kid);
        assert.deepEqual(out.claims, decodeJwt(token));
        assert.equal(out.claims.sub, 'reports');
        assert.equal(out.wrongAudience, 'InvalidAudienceError');
      } finally {
        await t.close();
      }
    },
  );
});
