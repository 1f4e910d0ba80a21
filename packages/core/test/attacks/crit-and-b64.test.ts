/**
 * crit and b64 (RFC 7515 section 4.1.11, RFC 7797): a verifier must refuse a token whose crit header names
 * an extension it does not implement, and Tessera implements none, so any crit is refused, even an empty
 * one. b64 changes what the signature covers (an unencoded payload); Tessera refuses it either way.
 */
import { describe, it } from 'node:test';

import { generateKey, JwsVerifier, KeySet, TokenMalformedError, UnsupportedHeaderError } from '@tessera/core';

import { accessVerifier, b64url, claims, encodePart, forge, headerFor, signature } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('ES256', { kid: 'ec' });
const sources = { 'a key': key.publicKey(), 'a key set': new KeySet([key]) };

function refused(token: string, parameter: 'crit' | 'b64'): void {
  const expected = { code: 'ERR_HEADER_UNSUPPORTED', parameter };
  for (const keys of Object.values(sources)) {
    rejects(() => accessVerifier(['ES256']).verifyAccessToken(token, keys), UnsupportedHeaderError, expected);
    rejects(() => new JwsVerifier({ algorithms: ['ES256'] }).verify(token, keys), UnsupportedHeaderError, expected);
  }
}

describe('crit header', () => {
  for (const [what, extra] of Object.entries({
    'an empty crit array': { crit: [] },
    'crit naming an extension that is present': { crit: ['urn:example:ext'], 'urn:example:ext': true },
    'crit naming an absent extension': { crit: ['urn:example:ext'] },
    'crit naming a registered header (exp)': { crit: ['exp'], exp: 1 },
    'crit naming b64 with b64 true': { crit: ['b64'], b64: true },
    'crit naming b64 with b64 false': { crit: ['b64'], b64: false },
    'crit as a string': { crit: 'b64' },
    'crit as null': { crit: null },
    'crit as an object': { crit: {} },
    'crit as false': { crit: false },
  })) {
    it(`${what} is refused`, () => refused(forge(headerFor(key, extra), claims(), key), 'crit'));
  }
});

describe('b64 header', () => {
  for (const [what, b64] of Object.entries({
    'b64 false': false,
    'b64 true': true,
    'b64 "false"': 'false',
    'b64 0': 0,
    'b64 null': null,
  })) {
    it(`${what} without crit is refused`, () => refused(forge(headerFor(key, { b64 }), claims(), key), 'b64'));
  }

  it('an RFC 7797 token with an unencoded payload, signed as such, is refused', () => {
    const header = encodePart(headerFor(key, { b64: false }));
    const payload = JSON.stringify(claims());
    const sig = signature('ES256', key, `${header}.${payload}`);
    const detached = `${header}..${sig.toString('base64url')}`;
    // An access token needs a JSON payload, so the detached form fails there before the header is judged.
    rejects(() => accessVerifier(['ES256']).verifyAccessToken(detached, key), TokenMalformedError, {
      code: 'ERR_TOKEN_MALFORMED',
      reason: 'json',
    });
    for (const keys of Object.values(sources)) {
      rejects(() => new JwsVerifier({ algorithms: ['ES256'] }).verify(detached, keys), UnsupportedHeaderError, {
        code: 'ERR_HEADER_UNSUPPORTED',
        parameter: 'b64',
      });
    }
    refused(`${header}.${b64url(payload)}.${sig.toString('base64url')}`, 'b64');
  });
});
