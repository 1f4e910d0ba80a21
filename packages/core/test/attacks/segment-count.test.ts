/**
 * Wrong segment counts: a compact JWS has exactly three segments (RFC 7515 section 7.1). Two segments is
 * an unsecured token with its signature stripped, five is a JWE (RFC 7516), and empty segments must not
 * stand in for a header, a payload or a signature.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, JwsVerifier, SignatureInvalidError, TokenMalformedError } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, segments } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('HS256', { kid: 'hs' });
const token = forge(headerFor(key), claims(), key);
const [h, p, s] = segments(token);
const verifier = accessVerifier(['HS256']);
const jws = new JwsVerifier({ algorithms: ['HS256'] });

function malformed(t: unknown, reason: string): void {
  const expected = { code: 'ERR_TOKEN_MALFORMED', reason };
  rejects(() => verifier.verifyAccessToken(t as string, key), TokenMalformedError, expected);
  rejects(() => jws.verify(t as string, key), TokenMalformedError, expected);
}

describe('segment count', () => {
  it('the three-segment token verifies', () => {
    verifier.verifyAccessToken(token, key);
  });

  for (const [what, t] of Object.entries({
    'an empty string': '',
    'one segment (the header)': h,
    'one segment (the whole token without dots)': `${h}${p}${s}`,
    'two segments (signature and its dot stripped)': `${h}.${p}`,
    'two segments (payload and signature)': `${p}.${s}`,
    'four segments (signature repeated)': `${token}.${s}`,
    'four segments (a trailing dot)': `${token}.`,
    'four segments (a leading dot)': `.${token}`,
    'four segments (a doubled dot)': `${h}..${p}.${s}`,
    'six segments': `${token}.${h}.${p}.${s}`,
    'seven segments': `${token}.${token}.`,
    'a single dot': '.',
    'three dots': '...',
  })) {
    it(`${what} is malformed (segments)`, () => malformed(t, 'segments'));
  }

  for (const [what, t] of Object.entries({
    'five segments': `${token}.${p}.${s}`,
    'five empty segments': '....',
    'two tokens joined by a dot minus one segment': `${h}.${p}.${h}.${p}.${s}`,
  })) {
    it(`${what} is malformed as a JWE`, () => malformed(t, 'jwe'));
  }

  it('three empty segments are malformed (json: the header is empty)', () => malformed('..', 'json'));
  it('an empty header segment is malformed (json)', () => malformed(`.${p}.${s}`, 'json'));

  it('an empty payload segment is malformed for an access token, and breaks the signature of a JWS', () => {
    const t = `${h}..${s}`;
    rejects(() => verifier.verifyAccessToken(t, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'json' });
    rejects(() => jws.verify(t, key), SignatureInvalidError, { code: 'ERR_SIGNATURE_INVALID' });
  });

  it('an empty payload signed as such is a valid JWS with an empty payload, and not an access token', () => {
    const t = forge(headerFor(key), '', key);
    assert.equal(jws.verify(t, key).payload.length, 0);
    rejects(() => verifier.verifyAccessToken(t, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'json' });
  });

  it('an empty signature segment is an invalid signature', () => {
    const t = `${h}.${p}.`;
    rejects(() => verifier.verifyAccessToken(t, key), SignatureInvalidError, { code: 'ERR_SIGNATURE_INVALID' });
    rejects(() => jws.verify(t, key), SignatureInvalidError, { code: 'ERR_SIGNATURE_INVALID' });
  });

  for (const [what, t] of Object.entries({
    undefined: undefined,
    null: null,
    'a number': 42,
    'a Buffer of the token': Buffer.from(token),
    'an object': { token },
    'a String object': new String(token),
  })) {
    it(`a token that is ${what} is malformed (type)`, () => malformed(t, 'type'));
  }
});
