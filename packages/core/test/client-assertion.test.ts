/**
 * Client assertions (RFC 7523, private_key_jwt) verified by the same strict machinery as access tokens,
 * under their own profile: typ absent, JWT or client-authentication+jwt (never at+jwt: an access token is
 * no client assertion); iss = sub = the client_id; aud one of the configured audiences; exp required and
 * within the maximum lifetime; a jti of 1 to 256 characters; asymmetric algorithms only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AlgorithmNotAllowedError,
  CLIENT_ASSERTION_ALGORITHMS,
  ClientAssertionVerifier,
  ConfigError,
  generateKey,
  TokenClaimError,
  TokenExpiredError,
  TokenMalformedError,
  TokenTypeError,
} from '@tessera/core';

import { forge, headerFor, NOW, now } from './helpers/forge.js';
import { rejects } from './helpers/rejects.js';

const ENDPOINT = 'https://auth.tessera.test/oauth/token';
const key = generateKey('ES256', { kid: 'client' });
const verifier = new ClientAssertionVerifier({ audience: ['https://auth.tessera.test', ENDPOINT], now });
const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: 'svc',
  sub: 'svc',
  aud: ENDPOINT,
  exp: NOW + 60,
  jti: 'a-1',
  ...overrides,
});
const noTyp = (): Record<string, unknown> => {
  const h = headerFor(key);
  delete h.typ;
  return h;
};
const verify = (payload: Record<string, unknown> | string, header = noTyp()) =>
  verifier.verifyClientAssertion(forge(header, payload, key), 'svc', key);

describe('ClientAssertionVerifier', () => {
  it('accepts a typ-less, JWT or client-authentication+jwt assertion, and refuses at+jwt', () => {
    assert.equal(verify(claims()).claims.jti, 'a-1');
    for (const typ of ['JWT', 'client-authentication+jwt', 'application/client-authentication+jwt'])
      assert.equal(verify(claims(), headerFor(key, { typ })).claims.sub, 'svc', typ);
    rejects(() => verify(claims(), headerFor(key, { typ: 'at+jwt' })), TokenTypeError, { code: 'ERR_TOKEN_TYPE' });
  });

  it('requires iss = sub = the client_id and an accepted audience', () => {
    rejects(() => verify(claims({ iss: 'other' })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'iss',
      reason: 'mismatch',
    });
    rejects(() => verify(claims({ sub: 'other' })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'sub',
      reason: 'mismatch',
    });
    rejects(() => verify(claims({ sub: undefined })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'sub',
      reason: 'missing',
    });
    rejects(() => verify(claims({ aud: 'https://auth.tessera.test/oauth/introspect' })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'mismatch',
    });
  });

  it('requires exp, within the maximum lifetime and the clock tolerance', () => {
    rejects(() => verify(claims({ exp: undefined })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'exp',
      reason: 'missing',
    });
    rejects(() => verify(claims({ exp: String(NOW + 60) })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'exp',
      reason: 'type',
    });
    rejects(() => verify(claims({ exp: NOW - 31 })), TokenExpiredError, { code: 'ERR_TOKEN_EXPIRED' });
    assert.equal(verify(claims({ exp: NOW - 29 })).claims.exp, NOW - 29, 'within the 30 s tolerance');
    assert.equal(verify(claims({ exp: NOW + 630 })).claims.exp, NOW + 630);
    rejects(() => verify(claims({ exp: NOW + 631 })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'exp',
      reason: 'too_far',
    });
  });

  it('requires a jti of 1 to 256 characters', () => {
    rejects(() => verify(claims({ jti: undefined })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'jti',
      reason: 'missing',
    });
    rejects(() => verify(claims({ jti: '' })), TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim: 'jti', reason: 'length' });
    rejects(() => verify(claims({ jti: 'j'.repeat(257) })), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'jti',
      reason: 'length',
    });
  });

  it('parses the payload strictly: a duplicate claim is refused', () => {
    const dup = '{"iss":"svc","sub":"other","aud":"' + ENDPOINT + `","exp":${NOW + 60},"jti":"a","sub":"svc"}`;
    rejects(() => verify(dup), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED' });
  });

  it('allows asymmetric algorithms only', () => {
    assert.equal(
      CLIENT_ASSERTION_ALGORITHMS.some((a) => a.startsWith('HS')),
      false,
    );
    assert.throws(() => new ClientAssertionVerifier({ audience: ENDPOINT, algorithms: ['HS256'] }), ConfigError);
    const hs = generateKey('HS256', { kid: 'hs' });
    rejects(() => verifier.verifyClientAssertion(forge(headerFor(hs), claims(), hs), 'svc', hs), AlgorithmNotAllowedError, {
      code: 'ERR_ALG_NOT_ALLOWED',
    });
  });
});
