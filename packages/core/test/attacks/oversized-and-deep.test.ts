/**
 * Oversized tokens and deeply nested JSON: a token is read before anyone knows who sent it, so its cost
 * must be bounded. Tessera refuses a token over the length limit before splitting it, and JSON nested
 * deeper than the depth limit before it can exhaust the stack. Only the refusal is asserted here; how
 * fast it comes is the benchmarks' business.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ConfigError,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_TOKEN_LENGTH,
  generateKey,
  JwsVerifier,
  TokenMalformedError,
  TokenTooLargeError,
} from '@tessera/core';

import { accessVerifier, claims, forge, headerFor } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const key = generateKey('HS256', { kid: 'hs' });
const HEADER = JSON.stringify(headerFor(key));
const DEPTH = { code: 'ERR_TOKEN_MALFORMED', reason: 'depth' };

/** A valid token of exactly `length` characters, padded with a claim and with spaces in the header. */
function tokenOfLength(length: number): string {
  const base = forge(HEADER, claims({ pad: '' }), key).length;
  // Every 3 characters of JSON add 4 of base64url; spaces in the header reach the lengths the pad skips.
  for (let pad = Math.max(0, Math.floor(((length - base) * 3) / 4) - 3); pad < length; pad++) {
    for (let spaces = 0; spaces < 3; spaces++) {
      const token = forge(
        HEADER.replace(/}$/, () => `${' '.repeat(spaces)}}`),
        claims({ pad: 'x'.repeat(pad) }),
        key,
      );
      if (token.length === length) return token;
    }
  }
  throw new Error(`no token of exactly ${length} characters`);
}

function nestedArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
function nestedObjects(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
/** The claim set with `json` as the value of claim `x`. */
function payloadWith(json: string): string {
  return JSON.stringify(claims()).replace(/}$/, () => `,"x":${json}}`);
}

describe('oversized tokens', () => {
  it(`a token of exactly ${DEFAULT_MAX_TOKEN_LENGTH} characters is accepted`, () => {
    accessVerifier(['HS256']).verifyAccessToken(tokenOfLength(DEFAULT_MAX_TOKEN_LENGTH), key);
  });

  it(`a token of ${DEFAULT_MAX_TOKEN_LENGTH + 1} characters is too large`, () => {
    rejects(
      () => accessVerifier(['HS256']).verifyAccessToken(tokenOfLength(DEFAULT_MAX_TOKEN_LENGTH + 1), key),
      TokenTooLargeError,
      {
        code: 'ERR_TOKEN_TOO_LARGE',
        limit: 8192,
      },
    );
  });

  it('a 1 MiB token is too large, whatever it holds', () => {
    const huge = forge(HEADER, claims({ pad: 'x'.repeat(1 << 20) }), key);
    for (const t of [huge, 'x'.repeat(1 << 20), '.'.repeat(1 << 20), `{${' '.repeat(1 << 20)}}`]) {
      rejects(() => accessVerifier(['HS256']).verifyAccessToken(t, key), TokenTooLargeError, {
        code: 'ERR_TOKEN_TOO_LARGE',
        limit: 8192,
      });
      rejects(() => new JwsVerifier({ algorithms: ['HS256'] }).verify(t, key), TokenTooLargeError, {
        code: 'ERR_TOKEN_TOO_LARGE',
        limit: 8192,
      });
    }
  });

  it('a custom maxTokenLength is the limit, both ways', () => {
    const verifier = accessVerifier(['HS256'], { maxTokenLength: 1024 });
    verifier.verifyAccessToken(tokenOfLength(1024), key);
    rejects(() => verifier.verifyAccessToken(tokenOfLength(1025), key), TokenTooLargeError, {
      code: 'ERR_TOKEN_TOO_LARGE',
      limit: 1024,
    });
    const larger = accessVerifier(['HS256'], { maxTokenLength: 65_536 });
    larger.verifyAccessToken(tokenOfLength(20_000), key);
  });

  it('maxTokenLength 0 refuses every token', () => {
    const verifier = accessVerifier(['HS256'], { maxTokenLength: 0 });
    rejects(() => verifier.verifyAccessToken(forge(HEADER, claims(), key), key), TokenTooLargeError, {
      code: 'ERR_TOKEN_TOO_LARGE',
      limit: 0,
    });
  });

  for (const [what, value] of [
    ['negative', -1],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['a string', '8192'],
  ] as const) {
    it(`a ${what} maxTokenLength or maxJsonDepth is refused at construction`, () => {
      for (const option of ['maxTokenLength', 'maxJsonDepth']) {
        rejects(() => new JwsVerifier({ algorithms: ['HS256'], [option]: value }), ConfigError, { code: 'ERR_CONFIG', option });
      }
    });
  }
});

describe('deeply nested JSON', () => {
  const roomy = { maxTokenLength: 4 << 20 };

  it('100,000 nested arrays in the payload are too large for the default limit', () => {
    const token = forge(HEADER, payloadWith(nestedArrays(100_000)), key);
    rejects(() => accessVerifier(['HS256']).verifyAccessToken(token, key), TokenTooLargeError, {
      code: 'ERR_TOKEN_TOO_LARGE',
      limit: 8192,
    });
  });

  for (const [what, json] of [
    ['100,000 nested arrays', nestedArrays(100_000)],
    ['100,000 nested objects', nestedObjects(100_000)],
    ['100,000 unclosed arrays', '['.repeat(100_000)],
  ] as const) {
    it(`${what} in the payload are too deep once the length limit allows them`, () => {
      const token = forge(HEADER, payloadWith(json), key);
      rejects(() => accessVerifier(['HS256'], roomy).verifyAccessToken(token, key), TokenMalformedError, DEPTH);
    });

    it(`${what} in the header are too deep once the length limit allows them`, () => {
      const token = forge(
        HEADER.replace(/}$/, () => `,"x":${json}}`),
        claims(),
        key,
      );
      rejects(() => accessVerifier(['HS256'], roomy).verifyAccessToken(token, key), TokenMalformedError, DEPTH);
      rejects(() => new JwsVerifier({ algorithms: ['HS256'], ...roomy }).verify(token, key), TokenMalformedError, DEPTH);
    });
  }

  it(`nesting of exactly ${DEFAULT_MAX_JSON_DEPTH} levels (the claim set counts as one) is accepted, one more is too deep`, () => {
    assert.equal(DEFAULT_MAX_JSON_DEPTH, 16);
    const verifier = accessVerifier(['HS256']);
    const ok = verifier.verifyAccessToken(forge(HEADER, payloadWith(nestedArrays(15)), key), key);
    assert.equal(JSON.stringify(ok.claims.x), nestedArrays(15));
    verifier.verifyAccessToken(forge(HEADER, payloadWith(nestedObjects(15)), key), key);
    rejects(() => verifier.verifyAccessToken(forge(HEADER, payloadWith(nestedArrays(16)), key), key), TokenMalformedError, DEPTH);
    rejects(
      () => verifier.verifyAccessToken(forge(HEADER, payloadWith(nestedObjects(16)), key), key),
      TokenMalformedError,
      DEPTH,
    );
  });

  it('a custom maxJsonDepth is the limit', () => {
    const verifier = accessVerifier(['HS256'], { maxJsonDepth: 3 });
    verifier.verifyAccessToken(forge(HEADER, payloadWith('[[1]]'), key), key);
    rejects(() => verifier.verifyAccessToken(forge(HEADER, payloadWith('[[[1]]]'), key), key), TokenMalformedError, DEPTH);
  });

  it('maxJsonDepth is at most 1000, and at 1000 a 100,000-deep payload is refused, not a stack overflow', () => {
    rejects(() => new JwsVerifier({ algorithms: ['HS256'], maxJsonDepth: 1001 }), ConfigError, {
      code: 'ERR_CONFIG',
      option: 'maxJsonDepth',
    });
    rejects(() => new JwsVerifier({ algorithms: ['HS256'], maxJsonDepth: 1e9 }), ConfigError, {
      code: 'ERR_CONFIG',
      option: 'maxJsonDepth',
    });
    const deepest = accessVerifier(['HS256'], { ...roomy, maxJsonDepth: 1000 });
    deepest.verifyAccessToken(forge(HEADER, payloadWith(nestedArrays(999)), key), key);
    for (const json of [nestedArrays(1000), nestedArrays(100_000), nestedObjects(100_000)]) {
      rejects(() => deepest.verifyAccessToken(forge(HEADER, payloadWith(json), key), key), TokenMalformedError, DEPTH);
    }
  });
});
