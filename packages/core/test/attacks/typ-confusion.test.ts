/**
 * typ confusion (RFC 8725 section 3.11, RFC 9068 section 4): an ID token, a logout token or any other JWT
 * signed by the same issuer must not pass as an access token. The typ header must be `at+jwt`, compared
 * as a media type: case-insensitively, with an optional `application/` prefix, and nothing more lenient.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError, generateKey, JwsVerifier, signJwt, TokenTypeError } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('ES256', { kid: 'ec' });
const verifier = accessVerifier(['ES256']);
const WRONG_TYPE = { code: 'ERR_TOKEN_TYPE' };

function withTyp(typ: unknown): string {
  return forge(headerFor(key, { typ }), claims(), key);
}

describe('typ confusion', () => {
  for (const typ of ['at+jwt', 'at+JWT', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT', 'APPLICATION/at+jwt']) {
    it(`typ ${JSON.stringify(typ)} is accepted`, () => {
      assert.equal(verifier.verifyAccessToken(withTyp(typ), key).header.typ, typ);
    });
  }

  it('a header without typ is refused', () => {
    rejects(() => verifier.verifyAccessToken(withTyp(undefined), key), TokenTypeError, WRONG_TYPE);
  });

  for (const typ of [
    'JWT',
    'jwt',
    'application/jwt',
    'at+jwt ',
    ' at+jwt',
    'at+jwt\u0000',
    'at+jwt; charset=utf-8',
    'at+jws',
    'at-jwt',
    'atjwt',
    'at+jwt+jwt',
    'application/application/at+jwt',
    'application/ at+jwt',
    'applicationat+jwt',
    'x-application/at+jwt',
    'secevent+jwt',
    'logout+jwt',
    'dpop+jwt',
    'JOSE',
    'JOSE+JSON',
    '',
  ]) {
    it(`typ ${JSON.stringify(typ)} is refused`, () => {
      rejects(() => verifier.verifyAccessToken(withTyp(typ), key), TokenTypeError, WRONG_TYPE);
    });
  }

  for (const [what, typ] of [
    ['null', null],
    ['a number', 1],
    ['an array', ['at+jwt']],
    ['an object', { typ: 'at+jwt' }],
    ['true', true],
  ] as const) {
    it(`a typ that is ${what} is refused`, () => {
      rejects(() => verifier.verifyAccessToken(withTyp(typ), key), TokenTypeError, WRONG_TYPE);
    });
  }

  it('an ID token (typ JWT) signed by the same key with the same claims is refused', () => {
    rejects(() => verifier.verifyAccessToken(signJwt(claims(), key), key), TokenTypeError, WRONG_TYPE);
  });

  it('a plain JwsVerifier does not judge typ', () => {
    const jws = new JwsVerifier({ algorithms: ['ES256'] });
    jws.verify(withTyp('JWT'), key);
    jws.verify(withTyp(undefined), key);
  });

  it('a verifier configured for another typ accepts it and refuses at+jwt', () => {
    const logout = accessVerifier(['ES256'], { typ: 'application/logout+jwt' });
    logout.verifyAccessToken(withTyp('logout+jwt'), key);
    rejects(() => logout.verifyAccessToken(withTyp('at+jwt'), key), TokenTypeError, WRONG_TYPE);
  });

  it('an empty or non-string typ option is refused at construction', () => {
    rejects(() => accessVerifier(['ES256'], { typ: '' }), ConfigError, { code: 'ERR_CONFIG', option: 'typ' });
    rejects(() => accessVerifier(['ES256'], { typ: 1 as never }), ConfigError, { code: 'ERR_CONFIG', option: 'typ' });
  });
});
