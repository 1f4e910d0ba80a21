/**
 * The workload-identity stand-ins, checked from outside as a relying party would: jose (a third party) fetches the
 * served keys over HTTP and verifies what each stand-in mints; the documents and tokens have the members, order and
 * values of the real systems; rotation keeps old tokens verifiable only while the old key stays published; an
 * unreachable stand-in fails the fetch; the projected token file is laid out and rotated as kubelet does.
 */
import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate, type JsonWebKey } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  GITHUB_CLAIMS_SUPPORTED,
  KUBE_API_ACCESS_EXPIRATION_SECONDS,
  kubernetesKeyId,
  startGitHubActionsIssuer,
  startKubernetesIssuer,
  startSpireServer,
  writeProjectedToken,
  writeSvid,
  type GitHubActionsIssuer,
  type KubernetesIssuer,
  type SpireServer,
  type StandIn,
} from '@tessera/testing';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, exportJWK, jwtVerify, type JWK } from 'jose';

const TESSERA = 'https://tessera.test';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The decoded JSON texts of a compact JWS, member order kept. */
function parts(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>,
  };
}

async function getJson(url: string): Promise<{ res: Response; body: Record<string, unknown> }> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return { res, body: (await res.json()) as Record<string, unknown> };
}

/** SPIRE's bundle as a plain JWKS for a JOSE library: its jwt-svid keys, with the SPIFFE `use` dropped. */
async function jwtAuthorities(bundleUrl: string) {
  const { body } = await getJson(bundleUrl);
  const keys = (body.keys as JWK[]).filter((k) => k.use === 'jwt-svid').map(({ use: _use, ...k }) => k);
  return createLocalJWKSet({ keys });
}

/** A relying party with no cache: fetches the keys now and verifies `token`'s signature with them. */
async function verifiesNow(token: string, keysUrl: string, spire = false): Promise<boolean> {
  const keys = spire ? await jwtAuthorities(keysUrl) : createRemoteJWKSet(new URL(keysUrl), { cacheMaxAge: 0 });
  try {
    await jwtVerify(token, keys, { algorithms: [spire ? 'ES256' : 'RS256'] });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY') return false;
    throw e;
  }
}

describe('Kubernetes service-account issuer', () => {
  let k8s: KubernetesIssuer;
  before(async () => {
    k8s = await startKubernetesIssuer();
  });
  after(() => k8s.close());

  it('computes the key id as kube-apiserver does (its stability test vector)', () => {
    const pem = [
      '-----BEGIN PUBLIC KEY-----',
      'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA249XwEo9k4tM8fMxV7zx',
      'OhcrP+WvXn917koM5Qr2ZXs4vo26e4ytdlrV0bQ9SlcLpQVSYjIxNfhTZdDt+ecI',
      'zshKuv1gKIxbbLQMOuK1eA/4HALyEkFgmS/tleLJrhc65tKPMGD+pKQ/xhmzRuCG',
      '51RoiMgbQxaCyYxGfNLpLAZK9L0Tctv9a0mJmGIYnIOQM4kC1A1I1n3EsXMWmeJU',
      'j7OTh/AjjCnMnkgvKT2tpKxYQ59PgDgU8Ssc7RDSmSkLxnrv+OrN80j6xrw0OjEi',
      'B4Ycr0PqfzZcvy8efTtFQ/Jnc4Bp1zUtFXt7+QeevePtQ2EcyELXE0i63T1CujRM',
      'WwIDAQAB',
      '-----END PUBLIC KEY-----',
    ].join('\n');
    assert.equal(kubernetesKeyId(createPublicKey(pem)), 'JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU');
  });

  it('serves discovery and keys as kube-apiserver, and a projected token verifies against them', async () => {
    const { res, body: discovery } = await getJson(`${k8s.url}/.well-known/openid-configuration`);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
    assert.deepEqual(discovery, {
      issuer: k8s.issuer,
      jwks_uri: `${k8s.url}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const keysRes = await fetch(discovery.jwks_uri as string);
    assert.equal(keysRes.headers.get('content-type'), 'application/jwk-set+json');
    const [key] = ((await keysRes.json()) as { keys: JWK[] }).keys;
    assert.deepEqual(Object.keys(key!), ['use', 'kty', 'kid', 'alg', 'n', 'e']);
    assert.equal(key!.kid, kubernetesKeyId(createPublicKey({ key: key as JsonWebKey, format: 'jwk' })));

    const token = await k8s.token({
      namespace: 'shop',
      serviceAccount: 'orders',
      audience: TESSERA,
      podName: 'orders-7d9',
      nodeName: 'node-a',
    });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri as string)), {
      issuer: k8s.issuer,
      audience: TESSERA,
      algorithms: ['RS256'],
    });
    const { header, claims } = parts(token);
    assert.deepEqual(header, { alg: 'RS256', kid: key!.kid });
    assert.deepEqual(Object.keys(claims), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    assert.deepEqual(payload.aud, [TESSERA]);
    assert.equal(payload.sub, 'system:serviceaccount:shop:orders');
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.exp! - payload.iat!, 3600);
    assert.match(payload.jti!, UUID);
    assert.deepEqual(payload['kubernetes.io'], {
      namespace: 'shop',
      node: { name: 'node-a', uid: k8s.uidOf('node', '', 'node-a') },
      pod: { name: 'orders-7d9', uid: k8s.uidOf('pod', 'shop', 'orders-7d9') },
      serviceaccount: { name: 'orders', uid: k8s.uidOf('serviceaccount', 'shop', 'orders') },
    });
    const again = parts(await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: TESSERA })).claims;
    assert.deepEqual(again['kubernetes.io'], {
      namespace: 'shop',
      serviceaccount: { name: 'orders', uid: k8s.uidOf('serviceaccount', 'shop', 'orders') },
    });
    assert.notEqual(again.jti, payload.jti);

    const stale = await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: TESSERA, iatOffset: -7200 });
    await assert.rejects(jwtVerify(stale, createRemoteJWKSet(new URL(k8s.jwksUri)), { audience: TESSERA }), {
      code: 'ERR_JWT_EXPIRED',
    });
  });

  it('extends only the kube-api-access token (3607 s, its own audience, pod-bound), with warnafter', async () => {
    const extended = parts(
      await k8s.token({
        namespace: 'shop',
        serviceAccount: 'orders',
        podName: 'p',
        expirationSeconds: KUBE_API_ACCESS_EXPIRATION_SECONDS,
      }),
    ).claims;
    const iat = extended.iat as number;
    assert.equal(extended.exp, iat + 365 * 24 * 3600);
    assert.equal((extended['kubernetes.io'] as { warnafter: number }).warnafter, iat + 3607);
    const forTessera = parts(
      await k8s.token({ namespace: 'shop', serviceAccount: 'orders', podName: 'p', audience: TESSERA, expirationSeconds: 3607 }),
    ).claims;
    assert.equal(forTessera.exp, (forTessera.iat as number) + 3607);
    assert.equal('warnafter' in (forTessera['kubernetes.io'] as object), false);
  });

  it('refuses what the TokenRequest API refuses', async () => {
    await assert.rejects(k8s.token({ namespace: 'shop', serviceAccount: 'orders', expirationSeconds: 599 }), /expirationSeconds/);
    await assert.rejects(k8s.token({ namespace: 'shop', serviceAccount: 'orders', nodeName: 'n' }), /nodeName/);
  });

  it('writes the token as kubelet does: ..data swapped to a new timestamped directory, token -> ..data/token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-projected-'));
    try {
      const first = await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: TESSERA });
      const path = await writeProjectedToken(dir, first);
      assert.equal(path, join(dir, 'token'));
      assert.equal(await readlink(path), '..data/token');
      assert.ok((await lstat(join(dir, '..data'))).isSymbolicLink());
      const firstTs = await readlink(join(dir, '..data'));
      assert.match(firstTs, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
      assert.equal((await stat(join(dir, firstTs))).mode & 0o777, 0o755);
      assert.equal(await readFile(path, 'utf8'), first);

      const second = await k8s.token({ namespace: 'shop', serviceAccount: 'orders', audience: TESSERA });
      assert.equal(await writeProjectedToken(dir, second), path);
      assert.equal(await readFile(path, 'utf8'), second);
      const secondTs = await readlink(join(dir, '..data'));
      assert.notEqual(secondTs, firstTs);
      assert.deepEqual((await readdir(dir)).sort(), ['..data', secondTs, 'token'].sort());
      await writeProjectedToken(dir, second);
      assert.equal(await readlink(join(dir, '..data')), secondTs, 'the same token again changes nothing');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SPIRE server', () => {
  let spire: SpireServer;
  before(async () => {
    spire = await startSpireServer({ trustDomain: 'prod.acme.test' });
  });
  after(() => spire.close());

  it('serves the SPIFFE bundle as SPIRE marshals it', async () => {
    const res = await fetch(spire.bundleUrl);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const text = await res.text();
    const bundle = JSON.parse(text) as { keys: JWK[]; spiffe_sequence: number; spiffe_refresh_hint: number };
    assert.equal(text, JSON.stringify(bundle, null, 4));
    assert.deepEqual(Object.keys(bundle), ['keys', 'spiffe_sequence', 'spiffe_refresh_hint']);
    assert.equal(bundle.spiffe_sequence, 1);
    assert.equal(bundle.spiffe_refresh_hint, 300);
    const [x509, jwt, ...rest] = bundle.keys;
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(x509!), ['use', 'kty', 'crv', 'x', 'y', 'x5c']);
    assert.equal(x509!.use, 'x509-svid');
    const ca = new X509Certificate(Buffer.from(x509!.x5c![0]!, 'base64'));
    assert.ok(ca.ca);
    assert.equal(ca.subjectAltName, 'URI:spiffe://prod.acme.test');
    const caJwk = await exportJWK(ca.publicKey);
    assert.deepEqual([caJwk.x, caJwk.y], [x509!.x, x509!.y]);
    assert.deepEqual(Object.keys(jwt!), ['use', 'kty', 'kid', 'crv', 'x', 'y']);
    assert.equal(jwt!.use, 'jwt-svid');
    assert.match(jwt!.kid!, /^[a-zA-Z0-9]{32}$/);
  });

  it('mints JWT-SVIDs that verify against the bundle’s JWT authorities', async () => {
    const token = await spire.svid({ spiffeId: '/ns/shop/sa/orders', audience: TESSERA });
    const { payload, protectedHeader } = await jwtVerify(token, await jwtAuthorities(spire.bundleUrl), {
      audience: TESSERA,
      algorithms: ['ES256'],
      typ: 'JWT',
    });
    const { header, claims } = parts(token);
    assert.deepEqual(Object.keys(header), ['alg', 'kid', 'typ']);
    assert.equal(protectedHeader.alg, 'ES256');
    assert.deepEqual(Object.keys(claims), ['aud', 'exp', 'iat', 'sub']);
    assert.deepEqual(payload.aud, [TESSERA]);
    assert.equal(payload.sub, 'spiffe://prod.acme.test/ns/shop/sa/orders');
    assert.equal(payload.exp! - payload.iat!, 300);
    await assert.rejects(spire.svid({ spiffeId: 'spiffe://other.test/x', audience: TESSERA }), /trust domain/);
    await assert.rejects(spire.svid({ spiffeId: '/x', audience: [] }), /audience/);
  });

  it('names the issuer only when the server has a jwt_issuer', async () => {
    const withIssuer = await startSpireServer({ trustDomain: 'acme.test', jwtIssuer: 'https://oidc.acme.test' });
    try {
      assert.equal(withIssuer.issuer, 'https://oidc.acme.test');
      const token = await withIssuer.svid({ spiffeId: 'spiffe://acme.test/api', audience: TESSERA, includeJti: true });
      const { payload } = await jwtVerify(token, await jwtAuthorities(withIssuer.bundleUrl), {
        issuer: 'https://oidc.acme.test',
        audience: TESSERA,
      });
      assert.deepEqual(Object.keys(parts(token).claims), ['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
      assert.match(payload.jti!, /^[A-Za-z0-9_-]{22}$/);
    } finally {
      await withIssuer.close();
    }
  });

  it('writes the jwt_svid file as spiffe-helper: in place, mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-svid-'));
    try {
      const file = join(dir, 'jwt_svid.token');
      const first = await spire.svid({ spiffeId: '/a', audience: TESSERA });
      await writeSvid(file, first);
      assert.equal(await readFile(file, 'utf8'), first);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const second = await spire.svid({ spiffeId: '/a', audience: TESSERA });
      await writeSvid(file, second);
      assert.equal(await readFile(file, 'utf8'), second);
      assert.ok((await lstat(file)).isFile());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GitHub Actions OIDC provider', () => {
  let gh: GitHubActionsIssuer;
  before(async () => {
    gh = await startGitHubActionsIssuer();
  });
  after(() => gh.close());

  it('derives kid and x5t from the certificate as GitHub’s published keys do', async () => {
    const { body } = await getJson(gh.jwksUri);
    const [key] = body.keys as JWK[];
    assert.deepEqual(Object.keys(key!), ['n', 'kty', 'kid', 'alg', 'e', 'use', 'x5c', 'x5t']);
    const cert = new X509Certificate(Buffer.from(key!.x5c![0]!, 'base64'));
    assert.equal(key!.kid, cert.fingerprint.replaceAll(':', ''));
    assert.equal(key!.x5t, Buffer.from(cert.fingerprint.replaceAll(':', ''), 'hex').toString('base64url'));
    assert.equal((await exportJWK(cert.publicKey)).n, key!.n);
  });

  it('serves GitHub’s discovery document, and a workflow token verifies against its jwks_uri', async () => {
    const { body: discovery } = await getJson(`${gh.url}/.well-known/openid-configuration`);
    assert.deepEqual(Object.keys(discovery), [
      'issuer',
      'jwks_uri',
      'subject_types_supported',
      'response_types_supported',
      'claims_supported',
      'id_token_signing_alg_values_supported',
      'scopes_supported',
    ]);
    assert.equal(discovery.jwks_uri, `${gh.url}/.well-known/jwks`);
    assert.deepEqual(discovery.scopes_supported, ['openid']);

    const token = await gh.token({ repository: 'acme/orders', ref: 'refs/heads/main', audience: TESSERA });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri as string)), {
      issuer: gh.issuer,
      audience: TESSERA,
      algorithms: ['RS256'],
    });
    const { header, claims } = parts(token);
    const [key] = gh.jwks().keys;
    assert.deepEqual(header, { typ: 'JWT', alg: 'RS256', x5t: key!.x5t, kid: key!.kid });
    assert.equal(payload.sub, 'repo:acme/orders:ref:refs/heads/main');
    assert.equal(payload.aud, TESSERA);
    assert.equal(payload.iat! - payload.nbf!, 600);
    assert.equal(payload.exp! - payload.iat!, 300);
    for (const name of Object.keys(claims)) {
      assert.ok(GITHUB_CLAIMS_SUPPORTED.includes(name), `${name} is in claims_supported`);
      assert.equal(typeof claims[name], ['nbf', 'exp', 'iat'].includes(name) ? 'number' : 'string', name);
    }
    for (const name of [
      'repository_owner_id',
      'repository_id',
      'actor_id',
      'run_id',
      'run_attempt',
      'ref_protected',
      'job_workflow_sha',
    ]) {
      assert.ok(name in claims, name);
    }
    assert.equal(claims.workflow_ref, 'acme/orders/.github/workflows/ci.yml@refs/heads/main');
  });

  it('writes sub and aud as GitHub does', async () => {
    const claims = async (req: Parameters<GitHubActionsIssuer['token']>[0]) => parts(await gh.token(req)).claims;
    assert.equal((await claims({ repository: 'acme/orders' })).aud, 'https://github.com/acme');
    assert.equal(
      (await claims({ repository: 'acme/orders', environment: 'prod:eu' })).sub,
      'repo:acme/orders:environment:prod%3Aeu',
    );
    assert.equal(
      (await claims({ repository: 'acme/orders', eventName: 'pull_request', ref: 'refs/pull/7/merge' })).sub,
      'repo:acme/orders:pull_request',
    );
    const immutable = await claims({ repository: 'acme/orders', immutableSubject: true });
    assert.equal(
      immutable.sub,
      `repo:acme@${immutable.repository_owner_id}/orders@${immutable.repository_id}:ref:refs/heads/main`,
    );
  });
});

describe('every stand-in', () => {
  const cases: {
    name: string;
    start: () => Promise<StandIn>;
    mint: (s: StandIn) => Promise<string>;
    spire?: boolean;
  }[] = [
    {
      name: 'Kubernetes',
      start: () => startKubernetesIssuer(),
      mint: (s) => (s as KubernetesIssuer).token({ namespace: 'shop', serviceAccount: 'orders', audience: TESSERA }),
    },
    {
      name: 'SPIRE',
      start: () => startSpireServer({ trustDomain: 'acme.test' }),
      mint: (s) => (s as SpireServer).svid({ spiffeId: '/orders', audience: TESSERA }),
      spire: true,
    },
    {
      name: 'GitHub Actions',
      start: () => startGitHubActionsIssuer(),
      mint: (s) => (s as GitHubActionsIssuer).token({ repository: 'acme/orders', audience: TESSERA }),
    },
  ];
  const keysUrlOf = (s: StandIn) =>
    'bundleUrl' in s ? (s as SpireServer).bundleUrl : (s as KubernetesIssuer | GitHubActionsIssuer).jwksUri;

  for (const c of cases) {
    it(`${c.name}: rotation keeps old tokens verifiable while the old key stays published, and only then`, async () => {
      const s = await c.start();
      try {
        const old = await c.mint(s);
        await s.rotateKeys();
        const fresh = await c.mint(s);
        assert.notEqual(decodeProtectedHeader(fresh).kid, decodeProtectedHeader(old).kid);
        assert.equal(await verifiesNow(old, keysUrlOf(s), c.spire), true);
        assert.equal(await verifiesNow(fresh, keysUrlOf(s), c.spire), true);
        await s.rotateKeys({ keepOld: false });
        const newest = await c.mint(s);
        assert.equal(await verifiesNow(fresh, keysUrlOf(s), c.spire), false);
        assert.equal(await verifiesNow(newest, keysUrlOf(s), c.spire), true);
        if (c.spire) assert.equal(s.jwks().spiffe_sequence, 3);
      } finally {
        await s.close();
      }
    });

    it(`${c.name}: unreachable resets every connection and serves nothing, then recovers`, async () => {
      const s = await c.start();
      try {
        const url = keysUrlOf(s);
        await getJson(url);
        const served = s.requests;
        assert.equal(served, 1);
        s.setUnreachable(true);
        await assert.rejects(fetch(url), (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.equal((e.cause as { code?: string }).code, 'ECONNRESET');
          return true;
        });
        assert.equal(s.requests, served);
        s.setUnreachable(false);
        await getJson(url);
        assert.equal(s.requests, served + 1);
        const signed = await s.sign(
          { aud: 'someone-else' },
          { alg: c.spire ? 'ES256' : 'RS256', kid: decodeProtectedHeader(await c.mint(s)).kid },
        );
        assert.equal(await verifiesNow(signed, url, c.spire), true);
      } finally {
        await s.close();
      }
    });
  }
});
