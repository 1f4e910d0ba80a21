/**
 * Tokens of other issuers, shaped exactly as each emits them (header text and claims), through
 * createVerifier: refused under the default (strict RFC 9068) profile for the reason each one breaks it,
 * accepted under a profile that names every relaxation it needs, and nothing more.
 *
 * Shapes followed:
 * - Keycloak access token: the header as Keycloak's JWSBuilder writes it, with spaces around the colons
 *   (`{"alg":"RS256","typ" : "JWT","kid" : "..."}`), and the claims exp, iat, auth_time, jti, iss (the realm
 *   URL), aud ("account", or an array when audience mappers add clients), sub, typ "Bearer", azp,
 *   session_state / sid, acr, allowed-origins, realm_access, resource_access, scope, email_verified,
 *   preferred_username: as decoded in github.com/ibuetler/docker-keycloak-traefik-workshop/issues/10,
 *   github.com/simov/grant/issues/257 and github.com/oauth2-proxy/oauth2-proxy/pull/1916 (sid, realm_access).
 * - Auth0, default "Auth0 token profile": typ "JWT"; iss "https://TENANT.auth0.com/", sub "auth0|..." (or
 *   "<client_id>@clients" for client credentials, with gty "client-credentials"), aud an array holding the
 *   API and the tenant's /userinfo URL, azp (not client_id), exp, iat, scope, no jti: Auth0's "Access Token
 *   Profiles" page (auth0.com/docs/secure/tokens/access-tokens/access-token-profiles; the profile table:
 *   typ JWT, azp instead of client_id, no jti, gty) and github.com/auth0/docs-v2/pull/1282 (gty on client
 *   credentials tokens).
 * - Microsoft Entra ID (Azure AD) v2.0 access token for an API: header typ "JWT", alg RS256, kid (x5t too
 *   in v1.0 tokens); claims aud (the API's client id), iss "https://login.microsoftonline.com/{tid}/v2.0",
 *   iat, nbf, exp, aio, azp, azpacr, name, oid, preferred_username, rh, scp (delegated) or roles (app-only,
 *   idtyp "app"), sub, tid, uti (no jti), ver "2.0": learn.microsoft.com/entra/identity-platform/
 *   access-token-claims-reference (header and payload tables). Tokens for Microsoft Graph carry a `nonce`
 *   header and are not meant to be verified by anyone but Graph; they are not a case here.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';

import { buildJwks, importPem, TokenClaimError, TokenTypeError, type TokenProfile } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const now = () => Math.floor(Date.now() / 1000);

/** Signs a header given as its exact JSON text (so spacing and member order are the issuer's) and claims. */
function rs256(headerText: string, claims: Record<string, unknown>): string {
  const input = `${Buffer.from(headerText).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
}

function verifierFor(kid: string, options: { issuer?: string; audience?: string | string[]; profile?: TokenProfile }) {
  return createVerifier({
    algorithms: ['RS256'],
    jwks: buildJwks([importPem(PUBLIC_PEM, { alg: 'RS256', kid })]),
    cache: false,
    ...options,
  });
}

async function refused(p: Promise<unknown>, type: typeof TokenTypeError | typeof TokenClaimError, check: Record<string, string>) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, String(e));
    for (const [k, v] of Object.entries(check)) assert.equal((e as unknown as Record<string, unknown>)[k], v, k);
    return true;
  });
}

describe('Keycloak access tokens', () => {
  const kid = 'lT7xq1O5Wm1a3Vv0aKQz9hXyS2k8e4B6cUfJgRmNpDo';
  const iss = 'https://sso.example.com/realms/acme';
  const header = `{"alg":"RS256","typ" : "JWT","kid" : "${kid}"}`;
  const claims = (aud: string | string[]) => {
    const t = now();
    return {
      exp: t + 300,
      iat: t,
      auth_time: t - 20,
      jti: 'b9d14d28-8594-4f69-891b-24b08ec42577',
      iss,
      aud,
      sub: '7c74da26-aaa9-4eb6-9732-96fff581f75b',
      typ: 'Bearer',
      azp: 'orders-web',
      session_state: 'bf750858-c9b5-4b9c-a44f-a7e45f229f1a',
      acr: '1',
      'allowed-origins': ['https://orders.example.com'],
      realm_access: { roles: ['default-roles-acme', 'offline_access', 'uma_authorization'] },
      resource_access: { account: { roles: ['manage-account', 'view-profile'] } },
      scope: 'openid email profile',
      sid: 'bf750858-c9b5-4b9c-a44f-a7e45f229f1a',
      email_verified: true,
      preferred_username: 'alice',
    };
  };

  it('refused by default: typ JWT is not at+jwt', async () => {
    await refused(
      verifierFor(kid, { issuer: iss, audience: 'account' }).verify(rs256(header, claims('account'))),
      TokenTypeError,
      {
        code: 'ERR_TOKEN_TYPE',
      },
    );
  });

  it('accepted with typ: [JWT] (aud "account", or an array holding this service)', async () => {
    const v = verifierFor(kid, { issuer: iss, audience: 'orders-api', profile: { typ: ['JWT'] } });
    const p = await v.verify(rs256(header, claims(['orders-api', 'account'])));
    assert.equal(p.sub, '7c74da26-aaa9-4eb6-9732-96fff581f75b');
    assert.deepEqual(p.scopes, ['openid', 'email', 'profile']);
    assert.equal(p.clientId, undefined, 'Keycloak names the client azp, not client_id');
    const account = verifierFor(kid, { issuer: iss, audience: 'account', profile: { typ: ['JWT'] } });
    assert.equal((await account.verify(rs256(header, claims('account')))).claims.azp, 'orders-web');
  });

  it('the profile relaxes typ only: another realm, or requiring client_id, is still refused', async () => {
    const v = verifierFor(kid, {
      issuer: 'https://sso.example.com/realms/other',
      audience: 'account',
      profile: { typ: ['JWT'] },
    });
    await refused(v.verify(rs256(header, claims('account'))), TokenClaimError, { claim: 'iss', reason: 'mismatch' });
    const strict = verifierFor(kid, {
      issuer: iss,
      audience: 'account',
      profile: { typ: ['JWT'], requiredClaims: ['client_id'] },
    });
    await refused(strict.verify(rs256(header, claims('account'))), TokenClaimError, { claim: 'client_id', reason: 'missing' });
  });
});

describe('Auth0 access tokens (default Auth0 token profile)', () => {
  const kid = 'NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg';
  const iss = 'https://acme.eu.auth0.com/';
  const api = 'https://api.example.com/orders';
  const header = `{"alg":"RS256","typ":"JWT","kid":"${kid}"}`;
  const user = () => ({
    iss,
    sub: 'auth0|6553da60a54af58e29493993',
    aud: [api, 'https://acme.eu.auth0.com/userinfo'],
    iat: now(),
    exp: now() + 86_400,
    azp: 'K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja',
    scope: 'openid profile email read:orders',
  });
  const machine = () => ({
    iss,
    sub: 'awZfdIir8YFdGZWkvCejDoUb7SjTDicx@clients',
    aud: api,
    iat: now(),
    exp: now() + 86_400,
    scope: 'read:orders',
    gty: 'client-credentials',
    azp: 'awZfdIir8YFdGZWkvCejDoUb7SjTDicx',
  });

  it('refused by default: typ JWT; and with typ JWT allowed, for its missing jti', async () => {
    await refused(verifierFor(kid, { issuer: iss, audience: api }).verify(rs256(header, user())), TokenTypeError, {
      code: 'ERR_TOKEN_TYPE',
    });
    await refused(
      verifierFor(kid, { issuer: iss, audience: api, profile: { typ: ['JWT'] } }).verify(rs256(header, user())),
      TokenClaimError,
      {
        claim: 'jti',
        reason: 'missing',
      },
    );
  });

  it("accepted with typ: [JWT] and optionalClaims: [jti]: a user's token (aud array with /userinfo) and a client-credentials token", async () => {
    const v = verifierFor(kid, { issuer: iss, audience: api, profile: { typ: ['JWT'], optionalClaims: ['jti'] } });
    const u = await v.verify(rs256(header, user()));
    assert.equal(u.sub, 'auth0|6553da60a54af58e29493993');
    assert.equal(u.tokenId, undefined);
    const m = await v.verify(rs256(header, machine()));
    assert.equal(m.claims.gty, 'client-credentials');
    assert.deepEqual(m.scopes, ['read:orders']);
  });

  it('a token for the userinfo endpoint alone is not one for this API', async () => {
    const v = verifierFor(kid, { issuer: iss, audience: api, profile: { typ: ['JWT'], optionalClaims: ['jti'] } });
    await refused(v.verify(rs256(header, { ...user(), aud: 'https://acme.eu.auth0.com/userinfo' })), TokenClaimError, {
      claim: 'aud',
      reason: 'mismatch',
    });
  });
});

describe('Microsoft Entra ID (Azure AD) v2.0 access tokens', () => {
  const kid = 'L1KfKFI_jnXbwWc22xZxw1sUHH0';
  const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const iss = `https://login.microsoftonline.com/${tid}/v2.0`;
  const aud = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
  const header = `{"typ":"JWT","alg":"RS256","kid":"${kid}"}`;
  const v1Header = `{"typ":"JWT","alg":"RS256","x5t":"${kid}","kid":"${kid}"}`;
  const delegated = () => {
    const t = now();
    return {
      aud,
      iss,
      iat: t,
      nbf: t,
      exp: t + 3_900,
      aio: 'AXQAi/8TAAAAbZ0tQ5fz4Z6tjLp9KNqkTQ==',
      azp: 'b3d5e1a0-2f6c-4c8e-9d1a-7e6f5c4b3a21',
      azpacr: '0',
      name: 'Alice Example',
      oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
      preferred_username: 'alice@example.com',
      rh: '0.AXQAv4j5cvGGr0GRqy180BHbRysXdG5WvkNIn_TmajSu8jN0AAA.',
      scp: 'orders.read',
      sub: 'l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA',
      tid,
      uti: 'fqiBqXLPj0eQa82S-IYFAA',
      ver: '2.0',
    };
  };
  const app = () => {
    const token: Record<string, unknown> = { ...delegated(), roles: ['Orders.Read.All'], idtyp: 'app' };
    for (const delegatedOnly of ['scp', 'name', 'preferred_username']) delete token[delegatedOnly];
    token.sub = token.oid;
    return token;
  };

  it('refused by default: typ JWT', async () => {
    await refused(verifierFor(kid, { issuer: iss, audience: aud }).verify(rs256(header, delegated())), TokenTypeError, {
      code: 'ERR_TOKEN_TYPE',
    });
  });

  it('accepted with typ: [JWT] and optionalClaims: [jti] (uti is its token id); delegated (scp) and app-only (roles)', async () => {
    const v = verifierFor(kid, { issuer: iss, audience: aud, profile: { typ: ['JWT'], optionalClaims: ['jti'] } });
    const d = await v.verify(rs256(header, delegated()));
    assert.equal(d.claims.ver, '2.0');
    assert.deepEqual(d.scopes, [], 'Entra ID grants scopes in scp, not scope');
    assert.equal(d.claims.scp, 'orders.read');
    const a = await v.verify(rs256(v1Header, app()));
    assert.deepEqual(a.claims.roles, ['Orders.Read.All']);
  });

  it('another tenant is another issuer', async () => {
    const v = verifierFor(kid, {
      issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      audience: aud,
      profile: { typ: ['JWT'], optionalClaims: ['jti'] },
    });
    await refused(v.verify(rs256(header, delegated())), TokenClaimError, { claim: 'iss', reason: 'mismatch' });
  });
});
