/**
 * A strict JSON parser for JOSE headers and JWT claim sets. Beyond RFC 8259 it refuses duplicate member
 * names (RFC 7515 section 5.2 lets a JWS parser reject them, and silently taking the last one lets two
 * parsers disagree about a token) and nesting deeper than a limit, so a hostile token costs bounded time
 * and stack. Member names such as `__proto__` become own properties, never prototypes. Tested against
 * JSON.parse as an oracle.
 *
 * Claim sets as issuers write them take a fast path through JSON.parse (see `parseWithoutEscapes`); any
 * text the fast path cannot vouch for goes through the full parser below, which gives the exact error.
 */

import { JsonSyntaxError } from '../errors.js';

const hasOwn = Object.prototype.hasOwnProperty;

export function parseStrictJson(text: string, maxDepth: number): unknown {
  const value = parseWithoutEscapes(text, maxDepth);
  return value === UNSURE ? parseFully(text, maxDepth) : value;
}

const UNSURE: unique symbol = Symbol('unsure');

/**
 * JSON.parse, for text without a backslash, with proof that the text had no duplicate member and no
 * nesting deeper than `maxDepth`; UNSURE for anything else (a backslash, a syntax error, a duplicate, too
 * deep), which the full parser then judges.
 *
 * The proof. Without a backslash a string literal holds exactly the characters of its parsed string, and
 * outside string literals a colon appears once per member, so the text holds T = M + Cn + Cv colons: M
 * members, Cn colons inside member names, Cv inside string values. The parsed value holds K keys and
 * string values with Sv colons, and (as every parsed key and string comes from its own literal) K <= M and
 * Sv <= Cv, with K < M exactly when some member name repeated (the repeat is dropped, with its value). So
 * T = K + Sv proves K = M (and Cn = 0); failing that, T = K + Sn + Sv, counting the colons Sn in the
 * parsed names too, proves it. JSON.parse is iterative in V8, so deep nesting costs it no stack; the
 * count stops at `maxDepth`.
 */
function parseWithoutEscapes(text: string, maxDepth: number): unknown {
  if (text.indexOf('\\') !== -1) return UNSURE;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return UNSURE;
  }
  const inText = colonsIn(text);
  const counted = countColons(value, 0, maxDepth, false);
  if (counted === inText) return value;
  // Member names seldom hold colons, so they are counted only when the first count falls short.
  return counted >= 0 && counted < inText && countColons(value, 0, maxDepth, true) === inText ? value : UNSURE;
}

function colonsIn(s: string): number {
  let n = 0;
  for (let i = s.indexOf(':'); i !== -1; i = s.indexOf(':', i + 1)) n++;
  return n;
}

/**
 * The colons of `value` written as JSON: one per member, those in string values and, with `inNames`,
 * those in member names; -1 if it nests deeper than `maxDepth` (or if some object inherits an enumerable
 * property, which JSON.parse never makes: someone polluted a prototype, and the full parser decides).
 */
function countColons(value: unknown, depth: number, maxDepth: number, inNames: boolean): number {
  if (typeof value === 'string') return colonsIn(value);
  if (typeof value !== 'object' || value === null) return 0;
  if (++depth > maxDepth) return -1;
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const c = countColons(value[i], depth, maxDepth, inNames);
      if (c < 0) return -1;
      n += c;
    }
    return n;
  }
  // for-in rather than Object.keys: V8 walks its enum cache without building an array.
  for (const name in value) {
    if (!hasOwn.call(value, name)) return -1;
    const c = countColons((value as Record<string, unknown>)[name], depth, maxDepth, inNames);
    if (c < 0) return -1;
    n += 1 + c + (inNames ? colonsIn(name) : 0);
  }
  return n;
}

function parseFully(text: string, maxDepth: number): unknown {
  const p = new Parser(text, maxDepth);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail('trailing characters after the JSON value');
  return value;
}

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly maxDepth: number,
  ) {}

  fail(message: string, reason: 'syntax' | 'duplicate' | 'depth' = 'syntax'): never {
    throw new JsonSyntaxError(reason, message);
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  value(depth: number): unknown {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b /* { */:
        return this.object(depth + 1);
      case 0x5b /* [ */:
        return this.array(depth + 1);
      case 0x22 /* " */:
        return this.string();
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      case 0x6e /* n */:
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail('unexpected character');
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail('invalid literal');
    this.i += word.length;
    return v;
  }

  object(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) this.fail('JSON nested too deeply', 'depth');
    const s = this.s;
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    for (;;) {
      if (s.charCodeAt(this.i) !== 0x22) this.fail('expected a member name');
      const key = this.string();
      this.ws();
      if (s.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      this.ws();
      const v = this.value(depth);
      if (hasOwn.call(out, key)) this.fail('duplicate member name', 'duplicate');
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = s.charCodeAt(this.i++);
      if (c === 0x2c) {
        this.ws();
        continue;
      }
      if (c === 0x7d) return out;
      this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): unknown[] {
    if (depth > this.maxDepth) this.fail('JSON nested too deeply', 'depth');
    const s = this.s;
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.ws();
      const c = s.charCodeAt(this.i++);
      if (c === 0x2c) {
        this.ws();
        continue;
      }
      if (c === 0x5d) return out;
      this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    const s = this.s;
    const start = ++this.i;
    let i = start;
    // Fast path: no escapes.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === 0x5c) break;
      if (c < 0x20 || Number.isNaN(c)) this.fail('unterminated string or control character in string');
      i++;
    }
    let out = s.slice(start, i);
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return out;
      }
      if (c < 0x20 || Number.isNaN(c)) this.fail('unterminated string or control character in string');
      if (c !== 0x5c) {
        out += s[i];
        i++;
        continue;
      }
      const e = s.charCodeAt(i + 1);
      i += 2;
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const hex = s.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          this.fail('invalid escape');
      }
    }
  }

  number(): number {
    const s = this.s;
    const start = this.i;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++;
    let c = s.charCodeAt(i);
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      do i++;
      while ((c = s.charCodeAt(i)) >= 0x30 && c <= 0x39);
    } else this.fail('invalid number');
    if (s.charCodeAt(i) === 0x2e) {
      i++;
      c = s.charCodeAt(i);
      if (!(c >= 0x30 && c <= 0x39)) this.fail('invalid number');
      do i++;
      while ((c = s.charCodeAt(i)) >= 0x30 && c <= 0x39);
    }
    c = s.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      i++;
      c = s.charCodeAt(i);
      if (c === 0x2b || c === 0x2d) i++;
      c = s.charCodeAt(i);
      if (!(c >= 0x30 && c <= 0x39)) this.fail('invalid number');
      do i++;
      while ((c = s.charCodeAt(i)) >= 0x30 && c <= 0x39);
    }
    this.i = i;
    return Number(s.slice(start, i));
  }
}
