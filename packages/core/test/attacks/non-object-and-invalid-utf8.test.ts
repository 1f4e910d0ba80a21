/**
 * Non-object JSON and invalid UTF-8: a JOSE header and a JWT claim set are JSON objects (RFC 7515
 * section 4, RFC 7519 section 7.2) encoded in UTF-8. Anything else is malformed: decoding invalid UTF-8
 * "leniently" replaces bytes with U+FFFD, so two byte strings would read as one claim value.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import { generateKey, JwsVerifier, TokenMalformedError } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('HS256', { kid: 'hs' });
const verifier = accessVerifier(['HS256']);
const jws = new JwsVerifier({ algorithms: ['HS256'] });
const HEADER = JSON.stringify(headerFor(key));
const PAYLOAD = JSON.stringify(claims());

const NOT_OBJECTS: Record<string, string> = {
  'an empty array': '[]',
  'an array of members': '["alg","HS256"]',
  'an array holding the object': `[${HEADER}]`,
  'a string': '"HS256"',
  'a string of the JSON': JSON.stringify(HEADER),
  'a number': '123',
  null: 'null',
  true: 'true',
  'empty text': '',
  'only whitespace': ' \n',
};

describe('header or payload that is not a JSON object', () => {
  for (const [what, json] of Object.entries(NOT_OBJECTS)) {
    it(`a header that is ${what} is malformed`, () => {
      const token = forge(json, PAYLOAD, key);
      rejects(() => verifier.verifyAccessToken(token, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'json' });
      rejects(() => jws.verify(token, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'json' });
    });

    it(`a payload that is ${what} is malformed`, () => {
      rejects(() => verifier.verifyAccessToken(forge(HEADER, json, key), key), TokenMalformedError, {
        code: 'ERR_TOKEN_MALFORMED',
        reason: 'json',
      });
    });
  }

  for (const [what, prefix, suffix] of [
    ['a byte-order mark before', '\ufeff', ''],
    ['a NUL after', '', '\u0000'],
    ['a second object after', '', '{}'],
    ['a vertical tab before', '\u000b', ''],
    ['a no-break space after', '', '\u00a0'],
  ] as const) {
    it(`an object with ${what} it is malformed`, () => {
      const payload = prefix + PAYLOAD + suffix;
      assert.throws(() => JSON.parse(payload), SyntaxError);
      rejects(() => verifier.verifyAccessToken(forge(HEADER, payload, key), key), TokenMalformedError, {
        code: 'ERR_TOKEN_MALFORMED',
        reason: 'json',
      });
      rejects(() => jws.verify(forge(prefix + HEADER + suffix, PAYLOAD, key), key), TokenMalformedError, {
        code: 'ERR_TOKEN_MALFORMED',
        reason: 'json',
      });
    });
  }

  it('a payload encoded as UTF-16 is malformed', () => {
    const payload = Buffer.from(PAYLOAD, 'utf16le');
    rejects(() => verifier.verifyAccessToken(forge(HEADER, payload, key), key), TokenMalformedError, {
      code: 'ERR_TOKEN_MALFORMED',
      reason: 'json',
    });
  });
});

/** Byte sequences that are not UTF-8 (RFC 3629), each placed inside a JSON string. */
const INVALID_UTF8: Record<string, number[]> = {
  'an overlong "/" (C0 AF)': [0xc0, 0xaf],
  'an overlong NUL (C0 80)': [0xc0, 0x80],
  'an overlong quote (C0 A2), which would close the string': [0xc0, 0xa2],
  'a three-byte overlong "/" (E0 80 AF)': [0xe0, 0x80, 0xaf],
  'a four-byte overlong "/" (F0 80 80 AF)': [0xf0, 0x80, 0x80, 0xaf],
  'a lone continuation byte (80)': [0x80],
  'a lone continuation byte (BF)': [0xbf],
  'two continuation bytes (80 80)': [0x80, 0x80],
  'a truncated sequence (E2 82)': [0xe2, 0x82],
  'a lead byte without continuation (C3)': [0xc3],
  'a high surrogate in UTF-8 (ED A0 80)': [0xed, 0xa0, 0x80],
  'a low surrogate in UTF-8 (ED BF BF)': [0xed, 0xbf, 0xbf],
  'a surrogate pair in UTF-8, CESU-8 style (ED A0 BD ED B8 80)': [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
  'a code point above U+10FFFF (F4 90 80 80)': [0xf4, 0x90, 0x80, 0x80],
  'a lead byte F5': [0xf5, 0x80, 0x80, 0x80],
  'the byte FE': [0xfe],
  'the byte FF': [0xff],
};

/** A JSON object text as bytes, with `bytes` inside the string value of `member`. */
function withBytes(json: string, member: string, bytes: number[]): Buffer {
  const marker = `"${member}":"`;
  const at = json.indexOf(marker) + marker.length;
  return Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from(bytes), Buffer.from(json.slice(at))]);
}

describe('invalid UTF-8', () => {
  for (const [what, bytes] of Object.entries(INVALID_UTF8)) {
    it(`${what} in the header is malformed`, () => {
      const token = forge(withBytes(HEADER, 'kid', bytes), PAYLOAD, key);
      rejects(() => verifier.verifyAccessToken(token, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'utf8' });
      rejects(() => jws.verify(token, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'utf8' });
    });

    it(`${what} in the payload is malformed`, () => {
      const token = forge(HEADER, withBytes(PAYLOAD, 'sub', bytes), key);
      rejects(() => verifier.verifyAccessToken(token, key), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'utf8' });
    });
  }

  it('valid multi-byte UTF-8, up to U+10FFFF and including noncharacters, is read exactly', () => {
    const sub = 'é中\u{1F600}\u{10FFFF}\uFFFE';
    const token = forge(HEADER, withBytes(PAYLOAD, 'sub', [...Buffer.from(sub)]), key);
    assert.equal(verifier.verifyAccessToken(token, key).claims.sub, sub + 'alice');
  });

  it('an escaped lone surrogate (\\ud800) is valid JSON and is kept as it is', () => {
    const payload = PAYLOAD.replace('"sub":"alice"', '"sub":"\\ud800"');
    assert.equal(verifier.verifyAccessToken(forge(HEADER, payload, key), key).claims.sub, '\ud800');
  });
});
