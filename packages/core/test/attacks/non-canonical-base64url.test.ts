/**
 * Non-canonical base64url (RFC 7515 section 2, RFC 4648 section 3.5): padding, whitespace, the standard
 * alphabet's `+` and `/`, and non-zero unused bits all decode, in a lenient decoder, to the same bytes as
 * the canonical segment. A token would then have many spellings with one signature, and caches, replay
 * lists or logs keyed by the token text could be bypassed. Tessera accepts only the canonical form.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import { generateKey, JwsVerifier, KeySet, TokenMalformedError, type Key } from '@tessera/core';

import { accessVerifier, claims, forge, headerFor, segments, withTrailingBits } from '../helpers/forge.js';
import { rejects } from '../helpers/rejects.js';

const MALFORMED = { code: 'ERR_TOKEN_MALFORMED', reason: 'base64url' };
const SEGMENTS = ['header', 'payload', 'signature'] as const;

/** Spellings of a segment that a lenient decoder reads as the same bytes. */
const SAME_BYTES: Record<string, (s: string) => string> = {
  'padding (=)': (s) => s + '='.repeat((4 - (s.length % 4)) % 4),
  'one padding character too many': (s) => s + '='.repeat(((4 - (s.length % 4)) % 4) + 1),
  'the standard alphabet (+ and /)': (s) => s.replace(/-/g, '+').replace(/_/g, '/'),
  'non-zero unused trailing bits': withTrailingBits,
  'a space inside': (s) => `${s.slice(0, 8)} ${s.slice(8)}`,
  'a trailing newline': (s) => `${s}\n`,
  'a leading tab': (s) => `\t${s}`,
  'a CRLF line break (MIME style)': (s) => `${s.slice(0, 12)}\r\n${s.slice(12)}`,
};

/** Spellings that change or break the bytes. */
const BROKEN: Record<string, (s: string) => string> = {
  "a '?' inside": (s) => `${s.slice(0, 5)}?${s.slice(5)}`,
  "a '%' escape": (s) => `${s.slice(0, 5)}%41${s.slice(5)}`,
  "a '*'": (s) => `${s}*`,
  'a non-ASCII letter': (s) => `${s.slice(0, 5)}\u00e9${s.slice(5)}`,
  'a NUL character': (s) => `${s}\u0000`,
  'one character too many (length 4k + 1)': (s) => s + 'A'.repeat((5 - (s.length % 4)) % 4 || 4),
};

/**
 * A token whose every segment holds '-' or '_' and has unused bits, so that every spelling above applies.
 * '?', '>' and '~' have the high bits that encode to '-' and '_'.
 */
function everySpellingApplies(key: Key): string {
  for (let i = 0; i < 1000; i++) {
    const token = forge(headerFor(key, { n: '?>~'.repeat(1 + (i % 4)) }), claims({ jti: `jti-${i}`, x: '~>?' }), key);
    if (segments(token).every((s) => /[-_]/.test(s) && s.length % 4 !== 0)) return token;
  }
  throw new Error('no token found to which every spelling applies');
}

for (const alg of ['HS256', 'ES256'] as const) {
  describe(`non-canonical base64url, ${alg}`, () => {
    const key = generateKey(alg, { kid: 'k' });
    const token = everySpellingApplies(key);
    const parts = segments(token);
    const verifier = accessVerifier([alg]);
    const jws = new JwsVerifier({ algorithms: [alg] });

    it('the canonical token verifies', () => {
      verifier.verifyAccessToken(token, key.publicKey());
      jws.verify(token, key.publicKey());
    });

    SEGMENTS.forEach((segment, index) => {
      const respell = (f: (s: string) => string): string => parts.map((s, i) => (i === index ? f(s) : s)).join('.');

      for (const [what, f] of Object.entries(SAME_BYTES)) {
        it(`${segment} with ${what} is malformed, though a lenient decoder reads the same bytes`, () => {
          const original = parts[index]!;
          const variant = f(original);
          assert.notEqual(variant, original);
          assert.deepEqual(Buffer.from(variant, 'base64'), Buffer.from(original, 'base64url'));
          const t = respell(f);
          rejects(() => verifier.verifyAccessToken(t, key.publicKey()), TokenMalformedError, MALFORMED);
          rejects(() => verifier.verifyAccessToken(t, new KeySet([key])), TokenMalformedError, MALFORMED);
          rejects(() => jws.verify(t, key.publicKey()), TokenMalformedError, MALFORMED);
        });
      }

      for (const [what, f] of Object.entries(BROKEN)) {
        it(`${segment} with ${what} is malformed`, () => {
          const t = respell(f);
          rejects(() => verifier.verifyAccessToken(t, key.publicKey()), TokenMalformedError, MALFORMED);
          rejects(() => jws.verify(t, key.publicKey()), TokenMalformedError, MALFORMED);
        });
      }
    });

    it('whitespace around the whole token is malformed', () => {
      for (const t of [` ${token}`, `${token} `, `${token}\n`, `\r\n${token}`]) {
        rejects(() => verifier.verifyAccessToken(t, key.publicKey()), TokenMalformedError, MALFORMED);
      }
    });
  });
}
