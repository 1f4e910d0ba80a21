/**
 * Workload tokens of trusted external issuers (Kubernetes projected service-account tokens, SPIFFE JWT-SVIDs,
 * GitHub Actions OIDC tokens) verified by the strict machinery: typ absent, JWT or JOSE; sub, aud, exp required;
 * iat and jti optional (jti required where the issuer is single-use); the age bound by iat, or by exp - now
 * without one; asymmetric algorithms only; keys only from the caller.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AlgorithmNotAllowedError,
  ConfigError,
  generateKey,
  KeyNotFoundError,
  parseJwks,
  spiffeBundleJwks,
  JwksInvalidError,
  TokenClaimError,
  TokenExpiredError,
  TokenTypeError,
  WorkloadTokenVerifier,
} from '@tessera/core';

import { forge, headerFor, NOW, now } from './helpers/forge.js';
import { rejects } from './helpers/rejects.js';

const KUBE = 'https://kubernetes.default.svc';
const AUD = 'https://auth.tessera.test';
const rsa = generateKey('RS256', { kid: 'kube-1' });
const ec = generateKey('ES256', { kid: 'spire-1' });
const kube = new WorkloadTokenVerifier({ issuer: KUBE, audience: AUD, algorithms: ['RS256'], now });
const spiffe = new WorkloadTokenVerifier({ issuer: undefined, audience: AUD, algorithms: ['ES256'], maxTokenAge: 600, now });
const once = new WorkloadTokenVerifier({ issuer: KUBE, audience: AUD, algorithms: ['RS256'], requireJti: true, now });

const kubeClaims = (o: Record<string, unknown> = {}) => ({
  aud: [AUD],
  exp: NOW + 3600,
  iat: NOW - 10,
  nbf: NOW - 10,
  iss: KUBE,
  jti: 'a1b2',
  'kubernetes.io': { namespace: 'shop', serviceaccount: { name: 'orders', uid: 'u-1' } },
  sub: 'system:serviceaccount:shop:orders',
  ...o,
});
const noTyp = (key = rsa) => {
  const h = headerFor(key);
  delete h.typ;
  return h;
};
const kubeVerify = (payload: Record<string, unknown>, header = noTyp(), v = kube) =>
  v.verifyWorkloadToken(forge(header, payload, rsa), rsa);

describe('WorkloadTokenVerifier', () => {
  it('accepts a Kubernetes token (no typ), a JWT-SVID (typ JWT, no iss, iat or jti) and a typ JOSE token with x5t', () => {
    assert.equal(kubeVerify(kubeClaims()).claims.sub, 'system:serviceaccount:shop:orders');
    const svid = { sub: 'spiffe://example.org/ns/shop/sa/orders', aud: [AUD], exp: NOW + 300 };
    assert.equal(spiffe.verifyWorkloadToken(forge(headerFor(ec, { typ: 'JWT' }), svid, ec), ec).claims.iss, undefined);
    assert.equal(kubeVerify(kubeClaims(), headerFor(rsa, { typ: 'JOSE', x5t: 'abc' })).claims.jti, 'a1b2');
  });

  it('refuses another typ, another issuer, another audience, no sub, an empty sub, an expired token', () => {
    rejects(() => kubeVerify(kubeClaims(), headerFor(rsa, { typ: 'at+jwt' })), TokenTypeError, { code: 'ERR_TOKEN_TYPE' });
    rejects(() => kubeVerify(kubeClaims({ iss: 'https://evil.example' })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'iss',
      reason: 'mismatch',
    });
    rejects(() => kubeVerify(kubeClaims({ aud: ['vault'] })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'mismatch',
    });
    rejects(() => kubeVerify(kubeClaims({ sub: undefined })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'sub',
      reason: 'missing',
    });
    rejects(() => kubeVerify(kubeClaims({ sub: '' })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'sub',
      reason: 'empty',
    });
    rejects(() => kubeVerify(kubeClaims({ exp: NOW - 60 })), TokenExpiredError, {
      code: 'ERR_TOKEN_EXPIRED',
      claim: 'exp',
      reason: 'expired',
    });
    rejects(() => kubeVerify(kubeClaims({ exp: undefined })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'exp',
      reason: 'missing',
    });
  });

  it('bounds the age: by iat, and without iat by how far exp lies ahead', () => {
    rejects(() => kubeVerify(kubeClaims({ iat: NOW - 3700, exp: NOW + 60 })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'iat',
      reason: 'too_old',
    });
    const far = { sub: 'spiffe://example.org/a', aud: AUD, exp: NOW + 7200 };
    rejects(() => spiffe.verifyWorkloadToken(forge(headerFor(ec, { typ: 'JWT' }), far, ec), ec), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'exp',
      reason: 'too_far',
    });
  });

  it('requires a jti of 1 to 256 characters for a single-use issuer', () => {
    rejects(() => kubeVerify(kubeClaims({ jti: undefined }), noTyp(), once), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'jti',
      reason: 'missing',
    });
    rejects(() => kubeVerify(kubeClaims({ jti: 'x'.repeat(257) }), noTyp(), once), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'jti',
      reason: 'length',
    });
    assert.equal(kubeVerify(kubeClaims(), noTyp(), once).claims.jti, 'a1b2');
  });

  it('refuses alg none, HS256, an algorithm off the list and a kid it does not know', () => {
    const payload = Buffer.from(JSON.stringify(kubeClaims())).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'kube-1' })).toString('base64url')}.${payload}.`;
    rejects(() => kube.verifyWorkloadToken(none, rsa), AlgorithmNotAllowedError, { code: 'ERR_ALG_NOT_ALLOWED' });
    const es = forge(headerFor(ec), kubeClaims(), ec);
    rejects(() => kube.verifyWorkloadToken(es, ec), AlgorithmNotAllowedError, { code: 'ERR_ALG_NOT_ALLOWED' });
    const other = generateKey('RS256', { kid: 'other' });
    rejects(
      () => kube.verifyWorkloadToken(forge(noTyp(other), kubeClaims(), other), parseJwks({ keys: [rsa.toJwk()] })),
      KeyNotFoundError,
      {
        code: 'ERR_KEY_NOT_FOUND',
      },
    );
  });

  it('is configured with asymmetric algorithms and an audience only', () => {
    rejects(() => new WorkloadTokenVerifier({ issuer: KUBE, audience: AUD, algorithms: ['HS256'] }), ConfigError, {
      code: 'ERR_CONFIG',
    });
    rejects(() => new WorkloadTokenVerifier({ issuer: KUBE, audience: AUD, algorithms: [] }), ConfigError, {
      code: 'ERR_CONFIG',
    });
    rejects(() => new WorkloadTokenVerifier({ issuer: KUBE, audience: '', algorithms: ['RS256'] }), ConfigError, {
      code: 'ERR_CONFIG',
    });
  });
});

describe('spiffeBundleJwks', () => {
  it('keeps the jwt-svid keys without their use, and leaves out the X.509 authorities', () => {
    const jwk = ec.toJwk() as Record<string, unknown>;
    const bundle = {
      spiffe_sequence: 3,
      spiffe_refresh_hint: 300,
      keys: [
        { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, use: 'x509-svid', x5c: ['MIIB'] },
        { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: 'spire-1', use: 'jwt-svid' },
      ],
    };
    const set = spiffeBundleJwks(bundle);
    assert.deepEqual(set.keys, [{ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: 'spire-1' }]);
    assert.equal(parseJwks(set, { algorithms: ['ES256'] }).keys.length, 1);
    rejects(() => spiffeBundleJwks([]), JwksInvalidError, { code: 'ERR_JWKS_INVALID' });
    rejects(() => spiffeBundleJwks({ keys: 'x' }), JwksInvalidError, { code: 'ERR_JWKS_INVALID' });
    rejects(() => spiffeBundleJwks({ keys: [1] }), JwksInvalidError, { code: 'ERR_JWKS_INVALID' });
  });
});
