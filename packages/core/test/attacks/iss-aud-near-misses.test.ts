/**
 * iss and aud near misses: issuers and audiences compare as exact strings (RFC 7519 section 4.1.1, 4.1.3).
 * A prefix, suffix or "normalizing" comparison lets `https://auth.tessera.test.evil.example` pass for
 * `https://auth.tessera.test`, or a token for one service pass at another.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, TokenClaimError } from '@tessera/core';

import { accessVerifier, AUDIENCE, claims, forge, headerFor, ISSUER } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('EdDSA', { kid: 'ed' });
const verifier = accessVerifier(['EdDSA']);

function verify(overrides: Record<string, unknown>) {
  return verifier.verifyAccessToken(forge(headerFor(key), claims(overrides), key), key);
}

function nearMisses(expected: string): Record<string, string> {
  return {
    'a prefix': expected.slice(0, -1),
    'a suffix added': `${expected}.evil.example`,
    'a path added': `${expected}/evil`,
    'a trailing slash': `${expected}/`,
    'a trailing space': `${expected} `,
    'a leading space': ` ${expected}`,
    'a trailing newline': `${expected}\n`,
    'a trailing NUL': `${expected}\u0000`,
    'upper case': expected.toUpperCase(),
    'a first letter in upper case': expected.replace(/[a-z]/, (c) => c.toUpperCase()),
    'a Cyrillic lookalike letter': expected.replace('o', '\u043e').replace('e', '\u0435'),
    'a fullwidth letter': expected.replace(/[a-z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
    'a zero-width space': `${expected.slice(0, 3)}\u200b${expected.slice(3)}`,
    'a percent-encoded letter': expected.replace('s', '%73'),
    'the empty string': '',
  };
}

describe('iss near misses', () => {
  for (const [what, iss] of Object.entries(nearMisses(ISSUER))) {
    it(`iss with ${what} is refused`, () => {
      rejects(() => verify({ iss }), TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim: 'iss', reason: 'mismatch' });
    });
  }

  it('iss with another scheme or port is refused', () => {
    for (const iss of [ISSUER.replace('https:', 'http:'), `${ISSUER}:443`, ISSUER.replace('https://', 'https://user@')]) {
      rejects(() => verify({ iss }), TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim: 'iss', reason: 'mismatch' });
    }
  });

  it('iss in a composed and a decomposed spelling are different issuers', () => {
    const composed = accessVerifier(['EdDSA'], { issuer: 'https://caf\u00e9.example' });
    const token = forge(headerFor(key), claims({ iss: 'https://cafe\u0301.example' }), key);
    rejects(() => composed.verifyAccessToken(token, key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'iss',
      reason: 'mismatch',
    });
  });

  it('the exact issuer is accepted', () => {
    assert.equal(verify({}).claims.iss, ISSUER);
  });
});

describe('aud near misses', () => {
  for (const [what, aud] of Object.entries(nearMisses(AUDIENCE))) {
    it(`aud with ${what} is refused, alone and in an array`, () => {
      rejects(() => verify({ aud }), TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim: 'aud', reason: 'mismatch' });
      rejects(() => verify({ aud: ['billing', aud] }), TokenClaimError, {
        code: 'ERR_CLAIM_INVALID',
        claim: 'aud',
        reason: 'mismatch',
      });
    });
  }

  it('aud as a space-separated list holding the audience is one audience, and not ours', () => {
    rejects(() => verify({ aud: `billing ${AUDIENCE}` }), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'mismatch',
    });
  });

  it('aud as an array holding the audience one level deeper is refused (as mistyped)', () => {
    rejects(() => verify({ aud: ['billing', [AUDIENCE]] }), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'type',
    });
    rejects(() => verify({ aud: [[AUDIENCE]] }), TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim: 'aud', reason: 'type' });
  });

  it('the exact audience is accepted, alone or among others', () => {
    assert.equal(verify({}).claims.aud, AUDIENCE);
    assert.deepEqual(verify({ aud: ['billing', AUDIENCE] }).claims.aud, ['billing', AUDIENCE]);
  });

  it('a verifier accepting several audiences accepts each exactly, and no near miss', () => {
    const multi = accessVerifier(['EdDSA'], { audience: [AUDIENCE, 'billing'] });
    const t = (aud: unknown): string => forge(headerFor(key), claims({ aud }), key);
    multi.verifyAccessToken(t('billing'), key);
    multi.verifyAccessToken(t(['billing']), key);
    rejects(() => multi.verifyAccessToken(t('billing/'), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'mismatch',
    });
    rejects(() => multi.verifyAccessToken(t(['Billing', 'ORDERS']), key), TokenClaimError, {
      code: 'ERR_CLAIM_INVALID',
      claim: 'aud',
      reason: 'mismatch',
    });
  });
});
