/**
 * Property tests: for each algorithm the auth server signs with, no mutation of a valid token verifies,
 * unless it leaves the token text unchanged, and every refusal is a TokenError. Mutations work on the
 * text (flip, insert, delete, truncate, swap segments) and on the content (a header or claim set changed
 * and re-encoded as fresh, canonical base64url, which only the signature can catch).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { generateKey, JwsVerifier, KeySet, signAccessToken, TokenError, type Algorithm } from '@tessera/core';

import { accessVerifier, AUDIENCE, claims, encodePart, forge, headerFor, ISSUER, now, segments } from './helpers/forge.js';

const NUM_RUNS = 300;

/** Characters a mutation writes: the base64url alphabet, its near misses, separators and a few others. */
const character = fc.oneof(
  fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  fc.constantFrom('.', '=', '+', '/', ' ', '\n', '\t', '\u0000', '{', '"', '\u00e9', '\ud800', '\u{1F600}'),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);

const HEADER_MEMBERS = ['alg', 'typ', 'kid', 'crit', 'b64', 'jwk', 'jku', 'cty', 'x'];
const CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope', 'x'];

/** A member change: set `name` to `value`, or delete it when `value` is undefined. */
const memberChange = (names: string[]) =>
  fc.record({ name: fc.constantFrom(...names), value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) });

type Mutation =
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'swap'; order: readonly [number, number, number] }
  | { kind: 'header'; changes: { name: string; value: unknown }[] }
  | { kind: 'payload'; changes: { name: string; value: unknown }[] }
  | { kind: 'respell'; segment: 0 | 1; indent: number; reverse: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: character }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ unit: character, minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('swap' as const),
    order: fc.constantFrom(
      [0, 2, 1] as const,
      [1, 0, 2] as const,
      [1, 2, 0] as const,
      [2, 0, 1] as const,
      [2, 1, 0] as const,
      [0, 0, 2] as const,
      [1, 1, 2] as const,
    ),
  }),
  fc.record({
    kind: fc.constant('header' as const),
    changes: fc.array(memberChange(HEADER_MEMBERS), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('payload' as const), changes: fc.array(memberChange(CLAIMS), { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('respell' as const),
    segment: fc.constantFrom(0 as const, 1 as const),
    indent: fc.integer({ min: 0, max: 2 }),
    reverse: fc.boolean(),
  }),
);

function changed(json: Record<string, unknown>, changes: { name: string; value: unknown }[]): Record<string, unknown> {
  const out = { ...json };
  for (const { name, value } of changes) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function apply(token: string, m: Mutation): string {
  const at = (n: number): number => n % (token.length + 1);
  const parts = segments(token);
  switch (m.kind) {
    case 'replace':
      return token.slice(0, at(m.at)) + m.text + token.slice(at(m.at) + 1);
    case 'insert':
      return token.slice(0, at(m.at)) + m.text + token.slice(at(m.at));
    case 'delete':
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + m.count);
    case 'truncate':
      return token.slice(0, at(m.at));
    case 'swap':
      return m.order.map((i) => parts[i]).join('.');
    case 'header':
      return [encodePart(changed(decodeSegment(parts[0]), m.changes)), parts[1], parts[2]].join('.');
    case 'payload':
      return [parts[0], encodePart(changed(decodeSegment(parts[1]), m.changes)), parts[2]].join('.');
    case 'respell': {
      // The same JSON value, written with other whitespace or member order.
      const value = decodeSegment(parts[m.segment]);
      const entries = Object.entries(value);
      const text = JSON.stringify(Object.fromEntries(m.reverse ? entries.reverse() : entries), null, m.indent);
      return parts.map((p, i) => (i === m.segment ? encodePart(text) : p)).join('.');
    }
  }
}

for (const alg of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const satisfies readonly Algorithm[]) {
  describe(`mutations of an ${alg} token`, () => {
    const key = generateKey(alg, { kid: `${alg}-key` });
    const token = forge(headerFor(key), claims(), key);
    const access = accessVerifier([alg]);
    const jws = new JwsVerifier({ algorithms: [alg] });
    const keys = new KeySet([key]);
    const verifiers = [(t: string) => access.verifyAccessToken(t, keys), (t: string) => jws.verify(t, key.publicKey())];

    it('the token itself verifies', () => {
      for (const verify of verifiers) verify(token);
    });

    it('no mutation verifies unless it is a no-op, and every refusal is a TokenError', () => {
      fc.assert(
        fc.property(mutation, (m) => {
          const mutated = apply(token, m);
          for (const verify of verifiers) {
            let refusal: unknown;
            try {
              verify(mutated);
            } catch (err) {
              refusal = err;
            }
            if (mutated === token) {
              assert.equal(refusal, undefined, 'a no-op mutation must still verify');
              continue;
            }
            assert.ok(refusal !== undefined, `the mutated token verified: ${mutated}`);
            assert.ok(refusal instanceof TokenError, `a mutation threw a non-TokenError: ${String(refusal)}`);
          }
        }),
        { numRuns: NUM_RUNS },
      );
    });
  });
}

describe('round trip of signed claims', () => {
  for (const alg of ['HS256', 'ES256', 'EdDSA'] as const) {
    it(`${alg}: any extra claims signed by Tessera come back unchanged`, () => {
      const key = generateKey(alg);
      const verifier = accessVerifier([alg]);
      const extra = fc.dictionary(
        fc.string().filter((name) => !['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'scope'].includes(name)),
        fc.jsonValue({ maxDepth: 3 }),
        { maxKeys: 5 },
      );
      fc.assert(
        fc.property(extra, fc.string({ minLength: 1 }), (extraClaims, sub) => {
          const token = signAccessToken(
            { iss: ISSUER, sub, aud: AUDIENCE, client_id: 'web', ttl: 60, claims: extraClaims },
            key,
            { now },
          );
          const { claims: verified } = verifier.verifyAccessToken(token, key);
          assert.equal(verified.sub, sub);
          for (const [name, value] of Object.entries(extraClaims))
            assert.deepEqual(verified[name], JSON.parse(JSON.stringify(value)));
        }),
        { numRuns: 100 },
      );
    });
  }
});
