/**
 * Duplicate JSON member names (RFC 7515 section 5.2, RFC 8259 section 4): JSON.parse keeps the last
 * value, other parsers the first, so `{"alg":"ES256","alg":"none"}` can mean two things to two services.
 * Tessera refuses any duplicate, however it is spelled, with reason `duplicate`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateKey, JwsVerifier, TokenMalformedError } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, NOW } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const DUPLICATE = { code: 'ERR_TOKEN_MALFORMED', reason: 'duplicate' };

const key = generateKey('HS256', { kid: 'hs' });
const verifier = accessVerifier(['HS256']);
const HEADER = JSON.stringify(headerFor(key));
const PAYLOAD = JSON.stringify(claims());

/** JSON text with `members` spliced in after the opening brace. */
function prepend(json: string, members: string): string {
  return `{${members},${json.slice(1)}`;
}

describe('duplicate member names in the header', () => {
  for (const [what, header] of Object.entries({
    'alg twice, none last': HEADER.replace(/}$/, ',"alg":"none"}'),
    'alg twice, none first': prepend(HEADER, '"alg":"none"'),
    'alg twice with the same value': prepend(HEADER, '"alg":"HS256"'),
    'kid twice': prepend(HEADER, '"kid":"other"'),
    'typ twice': prepend(HEADER, '"typ":"JWT"'),
    'alg and \\u0061lg': prepend(HEADER, '"\\u0061lg":"HS256"'),
    'kid and \\u006B\\u0069\\u0064 (upper-case hex)': prepend(HEADER, '"\\u006B\\u0069\\u0064":"hs"'),
    'crit twice': prepend(HEADER, '"crit":[],"crit":[]'),
  })) {
    it(`${what} is refused`, () => {
      assert.doesNotThrow(() => JSON.parse(header), 'JSON.parse accepts it, keeping one of the values');
      const token = forge(header, PAYLOAD, key);
      rejects(() => verifier.verifyAccessToken(token, key), TokenMalformedError, DUPLICATE);
      rejects(() => new JwsVerifier({ algorithms: ['HS256'] }).verify(token, key), TokenMalformedError, DUPLICATE);
    });
  }
});

describe('duplicate member names in the payload', () => {
  for (const [what, payload] of Object.entries({
    'iss twice': prepend(PAYLOAD, '"iss":"https://evil.example"'),
    'aud twice': prepend(PAYLOAD, '"aud":"admin"'),
    'exp twice': prepend(PAYLOAD, `"exp":${NOW + 10 ** 9}`),
    'scope twice': prepend(PAYLOAD, '"scope":"orders:admin"'),
    'sub and \\u0073ub': prepend(PAYLOAD, '"\\u0073ub":"root"'),
    'a and \\u0061': prepend(PAYLOAD, '"a":1,"\\u0061":2'),
    'a/b and a\\/b': prepend(PAYLOAD, '"a/b":1,"a\\/b":2'),
    'an astral character and its surrogate-pair escape': prepend(PAYLOAD, '"\u{1F600}":1,"\\ud83d\\ude00":2'),
    '__proto__ twice': prepend(PAYLOAD, '"__proto__":{},"__proto__":{"admin":true}'),
    'the empty name twice': prepend(PAYLOAD, '"":1,"":2'),
    'a duplicate inside a nested object': prepend(PAYLOAD, '"act":{"sub":"svc-a","sub":"svc-b"}'),
    'a duplicate inside an object in an array': prepend(PAYLOAD, '"roles":[{"r":1,"r":2}]'),
  })) {
    it(`${what} is refused`, () => {
      assert.doesNotThrow(() => JSON.parse(payload), 'JSON.parse accepts it, keeping one of the values');
      rejects(() => verifier.verifyAccessToken(forge(HEADER, payload, key), key), TokenMalformedError, DUPLICATE);
    });
  }

  it('names that differ only in case, whitespace or normalization are distinct, not duplicates', () => {
    const payload = prepend(PAYLOAD, '"a":1,"A":2,"a ":3,"\u00e9":4,"e\u0301":5');
    const { claims: c } = verifier.verifyAccessToken(forge(HEADER, payload, key), key);
    assert.deepEqual([c.a, c.A, c['a '], c['\u00e9'], c['e\u0301']], [1, 2, 3, 4, 5]);
  });

  it('the same name in two different objects is not a duplicate', () => {
    const payload = prepend(PAYLOAD, '"act":{"sub":"svc"},"cnf":{"sub":"x"}');
    const { claims: c } = verifier.verifyAccessToken(forge(HEADER, payload, key), key);
    assert.deepEqual([c.sub, c.act, c.cnf], ['alice', { sub: 'svc' }, { sub: 'x' }]);
  });
});
