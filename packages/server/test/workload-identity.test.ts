import assert from 'node:assert/strict';
import { randomUUID, type JsonWebKey } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

import { contextOf, parseWorkloadIssuer } from '@tessera/server/internal';
import {
  startGitHubActionsIssuer,
  startKubernetesIssuer,
  startSpireServer,
  SteppedClock,
  type GitHubActionsIssuer,
  type KubernetesIssuer,
  type SpireServer,
} from '@tessera/testing';

import { auditEvents } from './helpers/oauth.js';
import { startServer, type TestServer } from './helpers/server.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

/** Registers a trusted issuer in the store (its wire form, checked by the one parser). */
async function trust(t: TestServer, wire: Record<string, unknown>): Promise<void> {
  const now = Date.now();
  const ctx = contextOf(t.server);
  await ctx.store.workloadIssuers.create({ ...parseWorkloadIssuer(wire), createdAt: now, updatedAt: now });
  ctx.workloadIssuers.changed();
}

function workloadClaim(r: { status: number; body: { access_token?: string } }): unknown {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return decodeJwt(r.body.access_token!).workload;
}

describe('workload identity federation', () => {
  let t: TestServer;
  let kube: KubernetesIssuer;
  let spire: SpireServer;
  let github: GitHubActionsIssuer;
  const clock = new SteppedClock();

  before(async () => {
    t = await startServer({ now: clock.now, overrides: { auditFailuresPerSecond: 0 } });
    [kube, spire, github] = await Promise.all([
      startKubernetesIssuer(),
      startSpireServer({ trustDomain: 'example.org' }),
      startGitHubActionsIssuer(),
    ]);
    const service = { authMethod: 'workload_identity' as const, scopes: ['inventory:read'], audiences: ['inventory'] };
    await t.client({ id: 'orders', ...service, grantTypes: ['client_credentials', JWT_BEARER_GRANT] });
    await t.client({ id: 'billing', ...service, grantTypes: ['client_credentials'] });
    await t.client({ id: 'legacy', grantTypes: ['client_credentials'], scopes: ['inventory:read'], audiences: ['inventory'] });
    await trust(t, {
      name: 'kube',
      issuer: kube.issuer,
      keys: { discovery: true },
      audience: t.url,
      algorithms: ['RS256'],
      single_use: false,
      rules: [
        { client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } },
        { client: 'billing', claims: { '/kubernetes.io/namespace': 'billing', '/kubernetes.io/serviceaccount/name': 'api-*' } },
        { client: 'legacy', claims: { sub: 'system:serviceaccount:shop:legacy' } },
        { client: 'nobody', claims: { sub: 'system:serviceaccount:shop:ghost' } },
      ],
    });
    await trust(t, {
      name: 'spire',
      issuer: 'spiffe://example.org',
      keys: { spiffe_bundle_endpoint: spire.bundleUrl },
      audience: t.url,
      algorithms: ['ES256'],
      max_token_age: 600,
      single_use: false,
      rules: [{ client: 'orders', claims: { sub: 'spiffe://example.org/ns/shop/sa/*' } }],
    });
    await trust(t, {
      name: 'github',
      issuer: github.issuer,
      keys: { discovery: true },
      audience: t.url,
      algorithms: ['RS256'],
      rules: [{ client: 'orders', claims: { repository: 'acme/orders', ref: 'refs/heads/main' } }],
    });
  });
  after(async () => {
    await t.close();
    await Promise.all([kube.close(), spire.close(), github.close()]);
  });

  const kubeToken = (
    sa = 'orders',
    ns = 'shop',
    extra: Parameters<KubernetesIssuer['token']>[0] extends infer R ? Partial<R> : never = {},
  ) => kube.token({ namespace: ns, serviceAccount: sa, audience: t.url, podName: `${sa}-7d9f`, nodeName: 'node-1', ...extra });
  const assertion = (token: string, extra: Record<string, string> = {}) =>
    t.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: token,
      ...extra,
    });
  const refused = async (
    r: { status: number; body: { error?: string } },
    reason: string,
    status = 401,
    error = 'invalid_client',
  ) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error, error);
    const events = await auditEvents(t, 'client.workload_refused');
    assert.ok(
      events.some((e) => e.data.reason === reason),
      `an audit event names the reason ${reason}: ${JSON.stringify(events.map((e) => e.data))}`,
    );
  };

  describe('accepted', () => {
    it('Kubernetes: a projected service-account token authenticates orders, again and again within its lifetime', async () => {
      const token = await kubeToken();
      for (let i = 0; i < 2; i++) {
        const r = await assertion(token, { audience: 'inventory', scope: 'inventory:read' });
        assert.deepEqual(workloadClaim(r), { iss: kube.issuer, sub: 'system:serviceaccount:shop:orders' });
        const claims = decodeJwt(r.body.access_token!);
        assert.equal(claims.sub, 'orders');
        assert.equal(claims.client_id, 'orders');
        assert.equal(claims.aud, 'inventory');
      }
    });

    it('Kubernetes: a rule on nested claims by JSON Pointer and a glob maps the billing namespace', async () => {
      const r = await assertion(await kubeToken('api-v2', 'billing'), { client_id: 'billing' });
      assert.equal(decodeJwt(r.body.access_token!).client_id, 'billing');
      assert.deepEqual(workloadClaim(r), { iss: kube.issuer, sub: 'system:serviceaccount:billing:api-v2' });
    });

    it('SPIFFE: a JWT-SVID as jwt-spiffe, matched by the trust domain of its SPIFFE ID', async () => {
      const svid = await spire.svid({ spiffeId: '/ns/shop/sa/orders', audience: t.url });
      const r = await t.form('/oauth/token', {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_SPIFFE,
        client_assertion: svid,
      });
      assert.deepEqual(workloadClaim(r), { iss: 'spiffe://example.org', sub: 'spiffe://example.org/ns/shop/sa/orders' });
    });

    it('GitHub Actions: the JWT bearer grant without client credentials; the audit log names client and workload', async () => {
      const token = await github.token({ repository: 'acme/orders', ref: 'refs/heads/main', audience: t.url });
      const r = await t.form('/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: token, scope: 'inventory:read' });
      assert.deepEqual(workloadClaim(r), { iss: github.issuer, sub: 'repo:acme/orders:ref:refs/heads/main' });
      assert.equal(decodeJwt(r.body.access_token!).scope, 'inventory:read');
      await contextOf(t.server).audit.flush();
      const issued = await auditEvents(t, 'token.issued.aggregate');
      assert.ok(
        issued.some(
          (e) =>
            e.client_id === 'orders' &&
            JSON.stringify(e.data.workload) === JSON.stringify({ issuer: 'github', sub: 'repo:acme/orders:ref:refs/heads/main' }),
        ),
        JSON.stringify(issued),
      );
    });
  });

  describe('refused', () => {
    it('an issuer Tessera does not trust', async () => {
      const stranger = await startKubernetesIssuer();
      try {
        const token = await stranger.token({ namespace: 'shop', serviceAccount: 'orders', audience: t.url });
        await refused(await assertion(token), 'unknown_issuer');
        assert.equal(stranger.requests, 0, 'nothing is fetched from an untrusted issuer');
      } finally {
        await stranger.close();
      }
    });

    it('another audience, an expired token, a token older than the maximum age', async () => {
      await refused(
        await assertion(await kube.token({ namespace: 'shop', serviceAccount: 'orders', audience: 'https://vault.example' })),
        'aud_mismatch',
      );
      await refused(
        await assertion(await kubeToken('orders', 'shop', { expirationSeconds: 600, iatOffset: -700 })),
        'exp_expired',
      );
      const svid = await spire.svid({ spiffeId: '/ns/shop/sa/orders', audience: t.url, ttlSeconds: 3600, iatOffset: -700 });
      const r = await t.form('/oauth/token', {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_SPIFFE,
        client_assertion: svid,
      });
      await refused(r, 'iat_too_old');
    });

    it('no matching rule; a rule naming another client; a rule naming a client that is not a workload_identity one or does not exist', async () => {
      await refused(await assertion(await kubeToken('payments')), 'no_rule');
      await refused(await assertion(await kubeToken(), { client_id: 'billing' }), 'other_client');
      await refused(await assertion(await kubeToken('legacy')), 'client');
      await refused(await assertion(await kubeToken('ghost')), 'client');
    });

    it('alg none, HS256 keyed with the public key, and a key or key URL carried in the token header', async () => {
      const good = await kubeToken();
      const [, payload] = good.split('.');
      const kid = kube.jwks().keys[0]!.kid;
      await refused(await assertion(`${b64({ alg: 'none', kid })}.${payload}.`), 'ERR_ALG_NOT_ALLOWED');
      const { createHmac, createPublicKey } = await import('node:crypto');
      const pem = createPublicKey({ key: kube.jwks().keys[0]! as JsonWebKey, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      const input = `${b64({ alg: 'HS256', kid })}.${payload}`;
      await refused(
        await assertion(`${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`),
        'ERR_ALG_NOT_ALLOWED',
      );
      // The attacker's own key, offered in the header (jwk) and at a URL of its own (jku): never used.
      const pair = await generateKeyPair('RS256');
      const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'attacker' };
      const jku = createHttpServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
      await new Promise<void>((resolve) => jku.listen(0, '127.0.0.1', resolve));
      let fetched = 0;
      jku.on('request', () => fetched++);
      try {
        const forged = await new SignJWT(decodeJwt(good))
          .setProtectedHeader({
            alg: 'RS256',
            kid: 'attacker',
            jwk,
            jku: `http://127.0.0.1:${(jku.address() as AddressInfo).port}/`,
          })
          .sign(pair.privateKey as KeyLike);
        await refused(await assertion(forged), 'ERR_KEY_NOT_FOUND');
        assert.equal(fetched, 0, 'the jku was not fetched');
      } finally {
        jku.close();
      }
    });

    it('the JWT bearer grant verifies its assertion even when a workload token authenticated the client', async () => {
      const kube2 = await kubeToken();
      const form = {
        grant_type: JWT_BEARER_GRANT,
        client_assertion_type: JWT_BEARER,
        client_assertion: kube2,
      };
      await refused(await t.form('/oauth/token', { ...form, assertion: 'not-a-jwt' }), 'malformed', 400, 'invalid_grant');
      const missing = await t.form('/oauth/token', form);
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error, 'invalid_request');
      // The assertion's workload is the one recorded.
      const gh = await github.token({ repository: 'acme/orders', ref: 'refs/heads/main', audience: t.url });
      const r = await t.form('/oauth/token', { ...form, assertion: gh });
      assert.deepEqual(workloadClaim(r), { iss: github.issuer, sub: 'repo:acme/orders:ref:refs/heads/main' });
    });

    it('a refused JWT bearer request (another client named) does not spend the single-use jti', async () => {
      const token = await github.token({ repository: 'acme/orders', ref: 'refs/heads/main', audience: t.url });
      const billing = await t.form('/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: token, client_id: 'billing' });
      assert.equal(billing.body.error, 'invalid_grant', 'the rule names orders, not billing');
      assert.equal((await t.form('/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: token })).status, 200);
    });

    it('a replayed jti of a single-use issuer (GitHub Actions)', async () => {
      const token = await github.token({ repository: 'acme/orders', ref: 'refs/heads/main', audience: t.url });
      assert.equal((await t.form('/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: token })).status, 200);
      await refused(
        await t.form('/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: token }),
        'replayed',
        400,
        'invalid_grant',
      );
      // A branch the rule does not name.
      const dev = await github.token({ repository: 'acme/orders', ref: 'refs/heads/dev', audience: t.url });
      await refused(
        await t.form('/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: dev }),
        'no_rule',
        400,
        'invalid_grant',
      );
    });

    it('a SPIFFE ID of another trust domain signed with the trust domain key, and jwt-spiffe without a SPIFFE ID', async () => {
      const now = Math.floor(Date.now() / 1000);
      const kid = spire.jwks().keys.find((k) => k.use === 'jwt-svid')!.kid!;
      const evil = await spire.sign(
        { sub: 'spiffe://evil.org/ns/shop/sa/orders', aud: [t.url], exp: now + 300, iat: now },
        { alg: 'ES256', kid, typ: 'JWT' },
      );
      const r = await t.form('/oauth/token', {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_SPIFFE,
        client_assertion: evil,
      });
      await refused(r, 'unknown_issuer');
      const notSpiffe = await t.form('/oauth/token', {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_SPIFFE,
        client_assertion: await kubeToken(),
      });
      await refused(notSpiffe, 'not_a_spiffe_id');
    });
  });

  describe('keys', () => {
    it('a rotation of the issuer key (the old one dropped) is followed by a refetch on the unknown kid', async () => {
      assert.equal((await assertion(await kubeToken())).status, 200);
      await kube.rotateKeys({ keepOld: false });
      clock.advance(31_000); // past the refetch cooldown since the last fetch
      const r = await assertion(await kubeToken());
      assert.deepEqual(workloadClaim(r), { iss: kube.issuer, sub: 'system:serviceaccount:shop:orders' });
    });

    it('fails closed when the issuer cannot be reached and nothing is cached, and recovers', async () => {
      const k8s = await startKubernetesIssuer();
      try {
        await trust(t, {
          name: 'kube-2',
          issuer: k8s.issuer,
          keys: { jwks_uri: k8s.jwksUri },
          audience: t.url,
          single_use: false,
          rules: [{ client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } }],
        });
        const token = await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: t.url });
        k8s.setUnreachable(true);
        const r = await assertion(token);
        assert.equal(r.status, 503);
        assert.equal(r.body.error, 'temporarily_unavailable');
        k8s.setUnreachable(false);
        clock.advance(60_000); // past the fetch backoff
        assert.equal((await assertion(token)).status, 200);
      } finally {
        await k8s.close();
      }
    });

    it('an issuer removed by another instance is refused here once the directory re-reads (5 s)', async () => {
      const k8s = await startKubernetesIssuer();
      try {
        await trust(t, {
          name: 'kube-gone',
          issuer: k8s.issuer,
          keys: { jwks_uri: k8s.jwksUri },
          audience: t.url,
          single_use: false,
          rules: [{ client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } }],
        });
        const token = await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: t.url });
        assert.equal((await assertion(token)).status, 200);
        // Another instance removes it: the store changes, this instance's directory is not told.
        assert.equal(await contextOf(t.server).store.workloadIssuers.delete('kube-gone'), true);
        clock.advance(5_000);
        await refused(await assertion(token), 'unknown_issuer');
      } finally {
        await k8s.close();
      }
    });

    it('keys behind a redirect are not followed (fail closed)', async () => {
      const k8s = await startKubernetesIssuer();
      const redirect = createHttpServer((_req, res) => res.writeHead(302, { location: k8s.jwksUri }).end());
      await new Promise<void>((resolve) => redirect.listen(0, '127.0.0.1', resolve));
      try {
        await trust(t, {
          name: 'redirected',
          issuer: k8s.issuer,
          keys: { jwks_uri: `http://127.0.0.1:${(redirect.address() as AddressInfo).port}/jwks` },
          audience: t.url,
          single_use: false,
          rules: [{ client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } }],
        });
        const r = await assertion(await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: t.url }));
        assert.equal(r.status, 503);
        assert.equal(k8s.requests, 0, 'the redirect target was never asked');
      } finally {
        redirect.close();
        await k8s.close();
      }
    });

    it('a discovery document naming another issuer is refused (fail closed)', async () => {
      const liar = createHttpServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: 'https://kubernetes.default.svc', jwks_uri: kube.jwksUri }));
      });
      await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
      try {
        const issuer = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
        await trust(t, {
          name: 'liar',
          issuer,
          keys: { discovery: true },
          audience: t.url,
          single_use: false,
          rules: [{ client: 'orders', claims: { sub: 'system:serviceaccount:shop:orders' } }],
        });
        const key = kube.jwks().keys[0]!;
        const now = Math.floor(Date.now() / 1000);
        const token = await kube.sign(
          { iss: issuer, sub: 'system:serviceaccount:shop:orders', aud: [t.url], exp: now + 600, iat: now },
          { alg: 'RS256', kid: key.kid },
        );
        const r = await assertion(token);
        assert.equal(r.status, 503);
        assert.equal(r.body.error, 'temporarily_unavailable');
      } finally {
        liar.close();
      }
    });
  });
});

/**
 * A workload_identity client `orders` and a trusted CI issuer `iss` whose key is given as a static JWKS (single use,
 * rule repository == acme/orders); returns the issuer's private key (kid ci-1).
 */
async function trustStaticIssuer(t: TestServer, iss: string): Promise<KeyLike> {
  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'ci-1', alg: 'ES256', use: 'sig' };
  await t.client({
    id: 'orders',
    authMethod: 'workload_identity',
    grantTypes: ['client_credentials'],
    scopes: ['inventory:read'],
    audiences: ['inventory'],
  });
  await trust(t, {
    name: 'ci',
    issuer: iss,
    keys: { jwks: { keys: [jwk] } },
    audience: t.url,
    algorithms: ['ES256'],
    rules: [{ client: 'orders', claims: { repository: 'acme/orders' } }],
  });
  return pair.privateKey;
}

describe('workload identity: a static JWKS issuer', () => {
  let t: TestServer;
  let privateKey: KeyLike;
  const iss = 'https://ci.example.com';

  before(async () => {
    t = await startServer();
    privateKey = await trustStaticIssuer(t, iss);
  });
  after(() => t.close());

  it('authenticates with the configured keys; a single-use issuer refuses a token without jti', async () => {
    const token = (jti?: string) => {
      const jwt = new SignJWT({ repository: 'acme/orders', ...(jti ? { jti } : {}) })
        .setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
        .setIssuer(iss)
        .setSubject('repo:acme/orders:ref:refs/heads/main')
        .setAudience(t.url)
        .setIssuedAt()
        .setExpirationTime('5m');
      return jwt.sign(privateKey);
    };
    const ok = await t.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await token('a-1'),
    });
    assert.equal(ok.status, 200);
    const noJti = await t.form('/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await token(),
    });
    assert.equal(noJti.status, 401);
    assert.equal(noJti.body.error, 'invalid_client');
  });
});

describe('workload identity with DPoP and server nonces', () => {
  let t: TestServer;
  let privateKey: KeyLike;
  const iss = 'https://ci.example.com';

  before(async () => {
    t = await startServer({ overrides: { dpopNonce: true } });
    privateKey = await trustStaticIssuer(t, iss);
  });
  after(() => t.close());

  it('a use_dpop_nonce refusal spends no single-use assertion: the retry with the nonce succeeds', async () => {
    const assertionToken = await new SignJWT({ repository: 'acme/orders', jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'ci-1', typ: 'JWT' })
      .setIssuer(iss)
      .setSubject('repo:acme/orders:ref:refs/heads/main')
      .setAudience(t.url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const holder = await generateKeyPair('ES256');
    const jwk = await exportJWK(holder.publicKey);
    const proof = (nonce?: string) =>
      new SignJWT({ htm: 'POST', htu: `${t.url}/oauth/token`, jti: randomUUID(), ...(nonce ? { nonce } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .sign(holder.privateKey);
    const form = { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertionToken };
    const first = await t.form('/oauth/token', form, { dpop: await proof() });
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce);
    const second = await t.form('/oauth/token', form, { dpop: await proof(nonce) });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.token_type, 'DPoP');
  });
});
