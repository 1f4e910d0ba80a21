/**
 * signAccessToken writes the JSON text of a token of registered claims directly (internal,
 * jwt/claims-json.ts) rather than building an object for JSON.stringify. JSON.stringify is the oracle:
 * for any input signAccessToken accepts (strings that need escapes, lone surrogates, an aud list, numbers
 * of any size, any clock), the payload segment is byte for byte the one JSON.stringify gives for the
 * claims object signAccessToken used to build, with or without extra claims.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { generateKey, signAccessToken, type AccessTokenInput } from '@tessera/core';

import { segments } from './helpers/forge.js';

const key = generateKey('HS256');

/** Strings of any UTF-16 code units (quotes, backslashes, controls, lone surrogates), never empty. */
const text = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 12,
});
const plain = fc.string({ unit: fc.constantFrom(...'abcXYZ019:/.-_ '), minLength: 1, maxLength: 12 });
const anyText = fc.oneof(
  text,
  plain,
  fc.constantFrom('https://auth.example.com', 'a"b', 'a\\b', '\u2028', '\ud83d\ude00', '\udc00x'),
);
const scopeToken = fc.string({ unit: fc.constantFrom(...'abc:*!#[]~'), minLength: 1, maxLength: 6 });

const input = fc.record(
  {
    iss: anyText,
    sub: anyText,
    aud: fc.oneof(anyText, fc.array(anyText, { minLength: 1, maxLength: 3 })),
    client_id: anyText,
    scope: fc.oneof(
      fc.constant(''),
      fc.array(scopeToken, { maxLength: 3 }).map((t) => t.join(' ')),
      fc.array(scopeToken, { maxLength: 3 }),
    ),
    ttl: fc.oneof(fc.integer({ min: 1, max: 1e9 }), fc.constantFrom(1e21, Number.MAX_SAFE_INTEGER, 2 ** 80)),
    jti: anyText,
    claims: fc.oneof(
      fc.constant({}),
      fc.dictionary(fc.constantFrom('act', 'roles', 'sid', '1', '__proto__', 'x y'), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 3,
      }),
    ),
  },
  { requiredKeys: ['iss', 'sub', 'aud', 'client_id', 'ttl'] },
);

/** Any clock reading, in milliseconds, including ones no clock gives (NaN, infinite, negative, fractional). */
const clock = fc.oneof(fc.integer({ min: 0, max: 4e12 }), fc.double());

/** The claims object signAccessToken built before it wrote registered claims directly. */
function oracle(i: AccessTokenInput, iat: number, jti: string): Record<string, unknown> {
  const c: Record<string, unknown> = {
    iss: i.iss,
    sub: i.sub,
    aud: typeof i.aud === 'string' ? i.aud : [...i.aud],
    exp: iat + i.ttl,
    iat,
    jti,
    client_id: i.client_id,
  };
  if (i.scope !== undefined) c.scope = typeof i.scope === 'string' ? i.scope : [...new Set(i.scope)].join(' ');
  for (const name of Object.keys(i.claims ?? {})) {
    Object.defineProperty(c, name, { value: i.claims![name], enumerable: true, writable: true, configurable: true });
  }
  return c;
}

describe('claims JSON against JSON.stringify', () => {
  it('the payload segment is the UTF-8 of JSON.stringify of the claims object, byte for byte', () => {
    fc.assert(
      fc.property(input, clock, (i, ms) => {
        const [, payload] = segments(signAccessToken(i, key, { now: () => ms }));
        // Without a jti the signer draws a UUID: read it back (a UUID needs no escape), then compare.
        const jti = i.jti ?? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti: string }).jti;
        const expected = Buffer.from(JSON.stringify(oracle(i, Math.floor(ms / 1000), jti)), 'utf8').toString('base64url');
        assert.equal(payload, expected);
      }),
      { numRuns: 2000 },
    );
  });
});
