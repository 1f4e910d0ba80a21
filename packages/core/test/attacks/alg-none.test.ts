/**
 * alg "none" (RFC 7518 section 3.6): an unsecured JWS must never verify, however `none` is spelled and
 * whether or not a signature is attached, and no verifier may be built with `none` in its allowlist.
 */
import { describe, it } from 'node:test';

import {
  ALGORITHMS,
  AlgorithmNotAllowedError,
  ConfigError,
  generateKey,
  importJwk,
  isAlgorithm,
  JwsVerifier,
  KeyInvalidError,
  KeySet,
  type Algorithm,
  type KeySource,
} from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, unsigned } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const ALL = Object.keys(ALGORITHMS) as Algorithm[];
const SPELLINGS = ['none', 'None', 'NONE', 'nOnE', 'NoNe', 'none ', ' none', 'none\u0000', 'n\u043Ene' /* Cyrillic o */, ''];

const hs = generateKey('HS256', { kid: 'hs' });
const sources: Record<string, KeySource> = {
  'a key': hs,
  'a key set': new KeySet([hs]),
  'a key function': () => hs,
};

describe('alg none', () => {
  for (const alg of SPELLINGS) {
    const header = headerFor(hs, { alg });
    const tokens = {
      'with an empty signature': unsigned(header, claims()),
      'with an HMAC signature by the real key': forge(header, claims(), hs, 'HS256'),
    };
    for (const [how, token] of Object.entries(tokens)) {
      for (const [what, keys] of Object.entries(sources)) {
        it(`alg ${JSON.stringify(alg)} ${how}, verified with ${what}, is not allowed`, () => {
          rejects(() => accessVerifier(ALL).verifyAccessToken(token, keys), AlgorithmNotAllowedError, {
            code: 'ERR_ALG_NOT_ALLOWED',
          });
          rejects(() => new JwsVerifier({ algorithms: ALL }).verify(token, keys), AlgorithmNotAllowedError, {
            code: 'ERR_ALG_NOT_ALLOWED',
          });
        });
      }
    }
  }

  for (const [what, alg] of [
    ['missing', undefined],
    ['null', null],
    ['a number', 0],
    ['an array', ['HS256']],
    ['an object', { name: 'HS256' }],
  ] as const) {
    it(`a header whose alg is ${what} is not allowed`, () => {
      const token = forge({ typ: 'at+jwt', kid: hs.kid, alg }, claims(), hs, 'HS256');
      rejects(() => accessVerifier(['HS256']).verifyAccessToken(token, hs), AlgorithmNotAllowedError, {
        code: 'ERR_ALG_NOT_ALLOWED',
      });
    });
  }

  it('isAlgorithm is false for every spelling of none', () => {
    for (const alg of SPELLINGS) {
      if (isAlgorithm(alg)) throw new Error(`isAlgorithm(${JSON.stringify(alg)}) is true`);
    }
  });
});

describe('alg none in configuration', () => {
  for (const algorithms of [['none'], ['HS256', 'none'], ['None'], ['RS256', 'NONE'], ['none ']]) {
    it(`an allowlist of ${JSON.stringify(algorithms)} is refused at construction`, () => {
      const options = { algorithms: algorithms as Algorithm[] };
      rejects(() => new JwsVerifier(options), ConfigError, { code: 'ERR_CONFIG', option: 'algorithms' });
      rejects(() => accessVerifier(options.algorithms), ConfigError, { code: 'ERR_CONFIG', option: 'algorithms' });
    });
  }

  it('an empty or missing allowlist is refused at construction', () => {
    rejects(() => new JwsVerifier({ algorithms: [] }), ConfigError, { code: 'ERR_CONFIG', option: 'algorithms' });
    rejects(() => new JwsVerifier({} as never), ConfigError, { code: 'ERR_CONFIG', option: 'algorithms' });
    rejects(() => new JwsVerifier(undefined as never), ConfigError, { code: 'ERR_CONFIG', option: 'algorithms' });
  });

  it('no key can be generated or imported for none', () => {
    rejects(() => generateKey('none' as Algorithm), ConfigError, { code: 'ERR_CONFIG', option: 'alg' });
    const jwk = { ...hs.toJwk({ private: true }), alg: 'none' };
    rejects(() => importJwk(jwk), KeyInvalidError, { code: 'ERR_KEY_INVALID', reason: 'alg' });
    rejects(() => importJwk(hs.toJwk({ private: true }), { alg: 'none' as Algorithm }), KeyInvalidError, {
      code: 'ERR_KEY_INVALID',
      reason: 'alg',
    });
  });
});
