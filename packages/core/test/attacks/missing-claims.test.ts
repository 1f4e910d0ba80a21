/**
 * Missing claims: a verifier that checks a claim only when present accepts a token that never expires
 * (no exp), was issued by anyone (no iss) or for any service (no aud). Tessera requires all three, and
 * iat as well when a maximum token age is set.
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
  for (const claim of ['exp', 'iss', 'aud']) {
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

  describe('iat with maxTokenAge', () => {
    const aged = accessVerifier(['ES256'], { maxTokenAge: 600 });

    it('a token without iat is refused when maxTokenAge is set', () => {
      missing(() => aged.verifyAccessToken(token(claimsWithout('iat')), key), 'iat');
    });

    it('a token without iat is accepted when maxTokenAge is not set', () => {
      assert.equal(verifier.verifyAccessToken(token(claimsWithout('iat')), key).claims.iat, undefined);
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
