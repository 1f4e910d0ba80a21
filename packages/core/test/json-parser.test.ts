/**
 * Tessera's strict JSON parser (internal, lib/json.ts), tested through the public verify path with
 * JSON.parse as the oracle: every JSON text JSON.parse reads, Tessera reads to the same value (when it
 * has no duplicate member and is not nested too deep), and every text JSON.parse refuses, Tessera
 * refuses as malformed JSON. Tokens are built by hand and MACed with node:crypto's createHmac.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { importSecret, JsonSyntaxError, JwsVerifier, parseStrictJson, TesseraError, TokenMalformedError } from '@tessera/core';

import { accessVerifier, claims, forge } from './helpers/forge.js';
import { rejects } from './helpers/rejects.js';

const key = importSecret(randomBytes(32), { alg: 'HS256', kid: 'hs' });
const HEADER = '{"alg":"HS256","typ":"at+jwt","kid":"hs"}';
// Room for any generated value: the oracle compares values, not Tessera's size and depth limits.
const roomy = { maxTokenLength: 1 << 22, maxJsonDepth: 64 };
const verifier = accessVerifier(['HS256'], roomy);
const jws = new JwsVerifier({ algorithms: ['HS256'], ...roomy });

/** The valid claim set as JSON text, with `json` spliced in verbatim as the value of claim `x`. */
function payloadWith(json: string): string {
  return JSON.stringify(claims()).replace(/}$/, () => `,"x":${json}}`);
}
function headerWith(json: string): string {
  return HEADER.replace(/}$/, () => `,"x":${json}}`);
}

/** What Tessera reads from `payload` (JSON text, sent as UTF-8). */
function readPayload(payload: string): unknown {
  return verifier.verifyAccessToken(forge(HEADER, payload, key), key).claims;
}

/** JSON.parse of the text as it travels: UTF-8 encoding turns lone surrogates into U+FFFD. */
function oracle(text: string): unknown {
  return JSON.parse(Buffer.from(text, 'utf8').toString('utf8'));
}

function parsesLikeJsonParse(json: string): void {
  assert.deepEqual(readPayload(payloadWith(json)), oracle(payloadWith(json)));
  const { header } = jws.verify(forge(headerWith(json), claims(), key), key);
  assert.deepEqual({ ...header }, oracle(headerWith(json)));
}

function refusedAsJson(payload: string): void {
  rejects(() => readPayload(payload), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED', reason: 'json' });
}

/**
 * Any Unicode scalar value, ASCII more often, or any UTF-16 code unit (lone surrogates included). Built from
 * integers: fast-check's own 'binary' unit is slow to start.
 */
const anyCharacter = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);

/** Whitespace strings JSON allows between tokens. */
const whitespace = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), maxLength: 6 });

describe('the JSON parser against JSON.parse: accepted texts', () => {
  it('any JSON value (fc.json) reads as JSON.parse reads it, in the payload and the header', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 8 }), parsesLikeJsonParse), { numRuns: 200 });
  });

  it('any JSON value with full-Unicode strings reads as JSON.parse reads it', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 4, stringUnit: anyCharacter }), parsesLikeJsonParse), { numRuns: 200 });
  });

  it('any JSON value, indented with any JSON whitespace, reads as JSON.parse reads it', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), whitespace, (value, indent) =>
        parsesLikeJsonParse(JSON.stringify(value, null, indent)),
      ),
      { numRuns: 200 },
    );
  });

  it('whitespace around every token of the claim set is allowed', () => {
    fc.assert(
      fc.property(whitespace, whitespace, (a, b) => {
        const payload = `${a}${JSON.stringify(claims(), null, b)}${a}`;
        assert.deepEqual(readPayload(payload), oracle(payload));
      }),
      { numRuns: 100 },
    );
  });

  it('any number spelling reads as JSON.parse reads it', () => {
    const digits = (min: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: 25 });
    const number = fc
      .record({
        minus: fc.boolean(),
        int: fc.oneof(
          fc.constant('0'),
          fc.tuple(fc.constantFrom(...'123456789'), digits(0)).map(([a, b]) => a + b),
        ),
        frac: fc.option(digits(1), { nil: undefined }),
        exp: fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1)), { nil: undefined }),
      })
      .map(
        ({ minus, int, frac, exp }) =>
          `${minus ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}${exp ? exp.join('') : ''}`,
      );
    fc.assert(fc.property(number, parsesLikeJsonParse), { numRuns: 300 });
  });

  it('any string, with any mix of literal characters and escapes, reads as JSON.parse reads it', () => {
    const SHORT: Record<string, string> = {
      '"': '\\"',
      '\\': '\\\\',
      '/': '\\/',
      '\b': '\\b',
      '\f': '\\f',
      '\n': '\\n',
      '\r': '\\r',
      '\t': '\\t',
    };
    const spelled = fc
      .array(fc.tuple(anyCharacter, fc.nat(3)), { maxLength: 20 })
      .map((chars) =>
        chars
          .map(([c, how]) => {
            const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
            const literalOk = c >= ' ' && c !== '"' && c !== '\\' && !/[\ud800-\udfff]/.test(c);
            if (how === 0 && literalOk) return c;
            if (how === 1 && SHORT[c]) return SHORT[c];
            if (c.length === 2) return `\\u${c.charCodeAt(0).toString(16)}\\u${c.charCodeAt(1).toString(16).toUpperCase()}`;
            return `\\u${how === 2 ? hex : hex.toUpperCase()}`;
          })
          .join(''),
      )
      .map((s) => `"${s}"`);
    fc.assert(fc.property(spelled, parsesLikeJsonParse), { numRuns: 300 });
  });

  for (const [what, json] of Object.entries({
    'the largest integers and beyond': '[9007199254740991,9007199254740993,12345678901234567890123]',
    'numbers that overflow and underflow': '[1e400,-1e400,1e-400,5e-324,2.4703282292062328e-324]',
    'negative zero spelled four ways': '[-0,-0.0,-0e0,-0E-5]',
    'upper-case exponents with signs': '[1E5,1e+5,1E-5,0.5e1]',
    'every short escape': '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    'escaped NUL and DEL': '"\\u0000\\u007f"',
    'escaped lone surrogates, high and low': '["\\ud800","\\uDFFF","\\udc00\\ud800"]',
    'a surrogate pair in lower and upper case': '["\\ud83d\\ude00","\\uD83D\\uDE00"]',
    'literal DEL, U+2028 and U+2029': '"\u007f\u2028\u2029"',
    'an empty member name, and names that look special': '{"":1,"__proto__":{"isAdmin":true},"constructor":2,"toString":3}',
    'empty containers': '[{},[],[{}],{"a":[]}]',
  })) {
    it(`${what} read as JSON.parse reads them`, () => parsesLikeJsonParse(json));
  }

  it('a __proto__ member becomes an own property, never the prototype', () => {
    const read = readPayload(payloadWith('{"__proto__":{"isAdmin":true}}')) as Record<string, Record<string, unknown>>;
    const x = read.x!;
    assert.equal(Object.getPrototypeOf(x), Object.prototype);
    assert.equal(x.isAdmin, undefined);
    assert.deepEqual(Object.keys(x), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });
});

describe('the JSON parser against JSON.parse: refused texts', () => {
  for (const [what, json] of Object.entries({
    'a trailing comma in an object': '{"a":1,}',
    'a trailing comma in an array': '[1,]',
    'a missing value': '{"a":}',
    'a missing colon': '{"a" 1}',
    'a missing comma': '[1 2]',
    'two commas': '[1,,2]',
    'a leading comma': '[,1]',
    'single quotes': "{'a':1}",
    'an unquoted name': '{a:1}',
    'a leading zero': '01',
    'a leading plus': '+1',
    'a bare fraction': '.5',
    'a trailing dot': '1.',
    'an exponent without digits': '1e',
    'an exponent sign without digits': '1e+',
    'a minus alone': '-',
    hexadecimal: '0x10',
    NaN: 'NaN',
    Infinity: 'Infinity',
    'a truncated literal': 'tru',
    'a capitalized literal': 'True',
    undefined: 'undefined',
    'an invalid escape': '"\\x41"',
    'a short \\u escape': '"\\u12"',
    'a \\u escape with a non-hex digit': '"\\u12g4"',
    'an escaped single quote': '"\\\'"',
    'a raw newline in a string': '"a\nb"',
    'a raw tab in a string': '"a\tb"',
    'a raw NUL in a string': '"a\u0000b"',
    'an unterminated string': '"abc',
    'an unterminated array': '[1,2',
    'an unterminated object': '{"a":1',
    'a comment': '1 /* c */',
    'a line comment': '1 // c',
    'a second value': '1 2',
  })) {
    it(`${what} is refused in the payload and in the header`, () => {
      const payload = payloadWith(json);
      assert.throws(() => JSON.parse(payload), SyntaxError);
      refusedAsJson(payload);
      rejects(() => jws.verify(forge(headerWith(json), claims(), key), key), TokenMalformedError, {
        code: 'ERR_TOKEN_MALFORMED',
        reason: 'json',
      });
    });
  }

  it('any text JSON.parse refuses, Tessera refuses as malformed JSON; any object it reads, Tessera does not call malformed JSON', () => {
    const JSONISH = [...'{}[]:,"\\ \n0123456789.-+eEtrufalsnx'];
    // Valid JSON texts with a few characters replaced, inserted or deleted: mostly broken, sometimes not.
    const text = fc
      .tuple(
        fc.json({ maxDepth: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...JSONISH)), { minLength: 1, maxLength: 3 }),
      )
      .map(([json, edits]) =>
        edits.reduce((s, [at, how, c]) => {
          const i = at % (s.length + 1);
          return how === 0
            ? s.slice(0, i) + c + s.slice(i + 1)
            : how === 1
              ? s.slice(0, i) + c + s.slice(i)
              : s.slice(0, i) + s.slice(i + 1);
        }, json),
      );
    let refused = 0;
    fc.assert(
      fc.property(text, (candidate) => {
        let expected: unknown;
        let valid = true;
        try {
          expected = JSON.parse(candidate);
        } catch {
          valid = false;
        }
        const payload = payloadWith(candidate);
        if (!valid) {
          refused++;
          // A text may hold a duplicate member before its syntax error; the parser reports what it meets first.
          const err = rejects(() => readPayload(payload), TokenMalformedError, { code: 'ERR_TOKEN_MALFORMED' });
          assert.ok(err.reason === 'json' || err.reason === 'duplicate', `reason ${err.reason}`);
          return;
        }
        try {
          const read = readPayload(payload) as Record<string, unknown>;
          assert.deepEqual(read.x, expected);
        } catch (err) {
          assert.ok(err instanceof TesseraError, `a non-Tessera error: ${String(err)}`);
          // JSON.parse read it; Tessera may refuse only a duplicate member or a claim the edit broke.
          assert.ok(
            !(err instanceof TokenMalformedError && err.reason === 'json'),
            `JSON.parse reads ${JSON.stringify(candidate)}`,
          );
        }
      }),
      { numRuns: 600 },
    );
    assert.ok(refused > 100, 'the edits broke enough texts');
  });
});

describe('parseStrictJson called directly (public, used for request bodies)', () => {
  it('refuses with JsonSyntaxError, a TesseraError whose reason says why', () => {
    for (const [text, reason] of [
      ['{"a":1,"a":2}', 'duplicate'],
      ['[[[[1]]]]', 'depth'],
      ['{"a":}', 'syntax'],
    ] as const) {
      assert.throws(
        () => parseStrictJson(text, 3),
        (err: unknown) =>
          err instanceof JsonSyntaxError &&
          err instanceof TesseraError &&
          err.code === 'ERR_JSON_SYNTAX' &&
          err.reason === reason,
        text,
      );
    }
    assert.deepEqual(parseStrictJson('{"a":[1]}', 3), { a: [1] });
  });
});
