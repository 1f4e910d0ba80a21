/**
 * Wrong claim types: a verifier that coerces (`"1700000000" > now`, `[aud].includes`, `Number(null)`)
 * can be made to accept what it should refuse. Tessera checks every registered claim's JSON type before
 * using it, and reports a mistyped claim as reason `type`, never as a mismatch or an expiry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, TokenClaimError, TokenExpiredError, TokenNotYetValidError } from '@tessera/core';

import { accessVerifier, AUDIENCE, claims, forge, headerFor, ISSUER, NOW } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('HS256', { kid: 'hs' });
const verifier = accessVerifier(['HS256']);
const HEADER = headerFor(key);

/** The payload of `claims()` with `name` set to the raw JSON text `json`. */
function payloadWith(name: string, json: string): string {
  return JSON.stringify(claims({ [name]: '\u0000placeholder' })).replace('"\\u0000placeholder"', () => json);
}

function verify(name: string, json: string) {
  return verifier.verifyAccessToken(forge(HEADER, payloadWith(name, json), key), key);
}

function mistyped(name: string, json: string): void {
  rejects(() => verify(name, json), TokenClaimError, { code: 'ERR_CLAIM_INVALID', claim: name, reason: 'type' });
}

const NOT_NUMERIC_DATES: Record<string, string> = {
  'a string': `"${NOW + 300}"`,
  'an empty string': '""',
  null: 'null',
  'an array': `[${NOW + 300}]`,
  'an empty array': '[]',
  true: 'true',
  false: 'false',
  'an object': `{"value":${NOW + 300}}`,
  '1e400 (Infinity)': '1e400',
  '-1e400 (-Infinity)': '-1e400',
  'a negative number': '-1',
  'a negative fraction': '-0.5',
};

for (const name of ['exp', 'nbf', 'iat']) {
  describe(`${name} of the wrong type`, () => {
    for (const [what, json] of Object.entries(NOT_NUMERIC_DATES)) {
      it(`${name} as ${what} is refused as mistyped`, () => mistyped(name, json));
    }
  });
}

describe('NumericDate fractions and bounds', () => {
  it('a fractional exp in the future is accepted and kept exactly', () => {
    assert.equal(verify('exp', `${NOW + 300.5}`).claims.exp, NOW + 300.5);
    assert.equal(verify('exp', `${NOW}.000001e0`).claims.exp, NOW + 0.000001);
  });

  it('a fractional exp in the past is an expiry, not a type error', () => {
    const err = rejects(() => verify('exp', `${NOW - 10.25}`), TokenExpiredError, {
      code: 'ERR_TOKEN_EXPIRED',
      claim: 'exp',
      reason: 'expired',
    });
    assert.equal(err.expiredAt, NOW - 10.25);
  });

  it('fractional nbf and iat are accepted, and judged against the clock', () => {
    assert.equal(verify('nbf', `${NOW - 0.5}`).claims.nbf, NOW - 0.5);
    assert.equal(verify('iat', `${NOW - 0.5}`).claims.iat, NOW - 0.5);
    rejects(() => verify('nbf', `${NOW + 60.5}`), TokenNotYetValidError, {
      code: 'ERR_TOKEN_NOT_YET_VALID',
      claim: 'nbf',
      reason: 'future',
    });
  });

  it('exp written as an exponent (1.7000003e9) is the same number', () => {
    assert.equal(verify('exp', '1.7000003e9').claims.exp, 1_700_000_300);
  });

  it('exp of 0 is a NumericDate, long expired', () => {
    rejects(() => verify('exp', '0'), TokenExpiredError, { code: 'ERR_TOKEN_EXPIRED', claim: 'exp', reason: 'expired' });
  });
});

const NOT_STRINGS: Record<string, string> = {
  'a number': '42',
  null: 'null',
  true: 'true',
  'an array': '["x"]',
  'an object': '{"value":"x"}',
};

for (const name of ['iss', 'sub', 'jti', 'client_id', 'scope']) {
  describe(`${name} of the wrong type`, () => {
    for (const [what, json] of Object.entries(NOT_STRINGS)) {
      it(`${name} as ${what} is refused as mistyped`, () => mistyped(name, json));
    }
  });
}

describe('iss holding the expected issuer in the wrong type', () => {
  it('iss as an array holding the issuer is refused as mistyped', () => mistyped('iss', JSON.stringify([ISSUER])));
  it('iss as an object keyed by the issuer is refused as mistyped', () => mistyped('iss', JSON.stringify({ [ISSUER]: true })));
});

describe('scope syntax', () => {
  for (const [what, scope] of Object.entries({
    'two spaces between tokens': 'orders:read  orders:write',
    'a leading space': ' orders:read',
    'a trailing space': 'orders:read ',
    'a tab separator': 'orders:read\torders:write',
    'a newline separator': 'orders:read\norders:write',
    'a double quote': 'orders:"read"',
    'a backslash': 'orders:read\\',
    'a non-ASCII character': 'orders:lire\u00e9',
  })) {
    it(`a scope with ${what} is refused`, () => {
      rejects(() => verify('scope', JSON.stringify(scope)), TokenClaimError, {
        code: 'ERR_CLAIM_INVALID',
        claim: 'scope',
        reason: 'syntax',
      });
    });
  }

  it('an empty scope is a valid, empty grant', () => {
    assert.equal(verify('scope', '""').claims.scope, '');
  });
});

describe('aud of the wrong type', () => {
  for (const [what, json] of Object.entries({
    'a number': '1',
    null: 'null',
    true: 'true',
    'an object keyed by the audience': JSON.stringify({ [AUDIENCE]: true }),
    'an empty array': '[]',
    'a nested array holding the audience': JSON.stringify([[AUDIENCE]]),
    'an array holding the audience and a nested array': JSON.stringify([AUDIENCE, [AUDIENCE]]),
    'an array holding the audience and a number': JSON.stringify([AUDIENCE, 1]),
    'an array holding the audience and null': JSON.stringify([AUDIENCE, null]),
    'an array holding the audience and an object': JSON.stringify([AUDIENCE, {}]),
  })) {
    it(`aud as ${what} is refused as mistyped`, () => mistyped('aud', json));
  }

  it('aud as an array of strings holding the audience is accepted', () => {
    assert.deepEqual(verify('aud', JSON.stringify(['billing', AUDIENCE])).claims.aud, ['billing', AUDIENCE]);
  });
});
