/**
 * Missing claims: a verifier that checks a claim only when present accepts a token that never expires
 * (no exp), was issued by anyone (no iss) or for any service (no aud), or that no revocation can reach (no
 * jti, no sub). Tessera requires the claims RFC 9068 section 2.2 requires (iss, exp, aud, sub, iat, jti;
 * client_id when the profile asks for it), and relaxes one only when the verifier's profile names it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, TokenClaimError } from '@tessera/core';

import { accessVerifier, claims, claimsWithout, forge, headerFor, NOW } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('ES256', { kid: 'ec' });
const verifier = accessVerifier(['ES256']);

function token(payload: Record<string, unknown> | string): string {
  return forge(headerFor(key), payload, key);
}

function missing(fn: () => unknown, claim: string): void {
  rejects(fn, TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim, reason: 'missing' });
}

describe('missing claims', () => {
  for (const claim of ['exp', 'iss', 'aud', 'sub', 'iat', 'jti']) {
    it(`a token without ${claim} is refused`, () =>
      missing(() => verifier.verifyAccessToken(token(claimsWithout(claim)), key), claim));

    it(`a token whose ${claim} is spelled in another case is refused as missing ${claim}`, () => {
      const payload = { ...claimsWithout(claim), [claim.toUpperCase()]: claims()[claim] };
      missing(() => verifier.verifyAccessToken(token(payload), key), claim);
    });
  }

  it('an empty claim set is refused for its missing exp first', () =>
    missing(() => verifier.verifyAccessToken(token({}), key), 'exp'));

  it('a token without exp is refused even with nbf and iat', () => {
    missing(() => verifier.verifyAccessToken(token({ ...claimsWithout('exp'), nbf: NOW, iat: NOW }), key), 'exp');
  });

  it('a token whose claims sit one level down (nested claims object) is refused', () => {
    missing(() => verifier.verifyAccessToken(token({ claims: claims() }), key), 'exp');
  });

  it('client_id is required when the profile asks for it (RFC 9068 section 2.2), not by default', () => {
    assert.equal(verifier.verifyAccessToken(token(claimsWithout('client_id')), key).claims.client_id, undefined);
    const strict = accessVerifier(['ES256'], { profile: { requiredClaims: ['client_id'] } });
    missing(() => strict.verifyAccessToken(token(claimsWithout('client_id')), key), 'client_id');
    assert.equal(strict.verifyAccessToken(token(claims()), key).claims.client_id, claims().client_id);
  });

  describe('iat with maxTokenAge', () => {
    const aged = accessVerifier(['ES256'], { maxTokenAge: 600 });

    it('a token without iat is refused when maxTokenAge is set', () => {
      missing(() => aged.verifyAccessToken(token(claimsWithout('iat')), key), 'iat');
    });

    it('a token without iat is accepted only when the profile names iat optional and maxTokenAge is not set', () => {
      missing(() => verifier.verifyAccessToken(token(claimsWithout('iat')), key), 'iat');
      const relaxed = accessVerifier(['ES256'], { profile: { optionalClaims: ['iat'] } });
      assert.equal(relaxed.verifyAccessToken(token(claimsWithout('iat')), key).claims.iat, undefined);
      const relaxedAged = accessVerifier(['ES256'], { profile: { optionalClaims: ['iat'] }, maxTokenAge: 600 });
      missing(() => relaxedAged.verifyAccessToken(token(claimsWithout('iat')), key), 'iat');
    });

    it('a token with iat older than maxTokenAge (plus tolerance) is refused as too old', () => {
      rejects(() => aged.verifyAccessToken(token(claims({ iat: NOW - 606 })), key), TokenClaimError, {
        code: 'ERR_CLAIM_INVALID',
        claim: 'iat',
        reason: 'too_old',
      });
      assert.equal(aged.verifyAccessToken(token(claims({ iat: NOW - 605 })), key).claims.iat, NOW - 605);
    });
  });
});
