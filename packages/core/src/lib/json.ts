/**
 * A strict JSON parser for JOSE headers and JWT claim sets. Beyond RFC 8259 it refuses duplicate member
 * names (RFC 7515 section 5.2 lets a JWS parser reject them, and silently taking the last one lets two
 * parsers disagree about a token) and nesting deeper than a limit, so a hostile token costs bounded time
 * and stack. Member names such as `__proto__` become own properties, never prototypes. Tested against
 * JSON.parse as an oracle.
 */

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: 'syntax' | 'duplicate' | 'depth',
    message: string,
  ) {
    super(message);
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

export function parseStrictJson(text: string, maxDepth: number): unknown {
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
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
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
