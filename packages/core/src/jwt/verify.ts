import { Buffer } from 'node:buffer';
import { createHmac, verify as cryptoVerify } from 'node:crypto';

import { ALGORITHMS, isAlgorithm, type Algorithm } from '../algorithms.js';
import {
  AlgorithmKeyMismatchError,
  AlgorithmNotAllowedError,
  ConfigError,
  JsonSyntaxError,
  SignatureInvalidError,
  TokenMalformedError,
  TokenTooLargeError,
  UnsupportedHeaderError,
} from '../errors.js';
import { KeySet } from '../jwks.js';
import { Key } from '../key/key.js';
import { decodeBase64url } from '../lib/base64url.js';
import { epochSeconds } from '../lib/clock.js';
import { equalsTail } from '../lib/equals-tail.js';
import { parseStrictJson } from '../lib/json.js';
import { decodeUtf8 } from '../lib/utf8.js';
import { checkClaims, type ClaimRules } from './claims.js';
import { checkTypeHeader, resolveProfile, type ResolvedProfile, type TokenProfile } from './profile.js';
import { ACCESS_TOKEN_TYPE } from './sign.js';
import type { AccessTokenClaims, JwsHeader } from './types.js';

export const DEFAULT_MAX_TOKEN_LENGTH = 8192;
export const DEFAULT_MAX_JSON_DEPTH = 16;
/** The parser recurses once per nesting level; above this a deep enough token would overflow the stack. */
const MAX_JSON_DEPTH_LIMIT = 1000;
export const DEFAULT_CLOCK_TOLERANCE = 5;
/** Parsed headers kept per verifier; headers repeat (one per signing key), so this saves a parse. */
const HEADER_CACHE_SIZE = 64;

/** Where the verification key comes from: one key, a key set, or a function of the header. */
export type KeySource = Key | KeySet | ((header: JwsHeader) => Key);

export interface JwsVerifyOptions {
  /** Exact allowlist of algorithms. Required; `none` is never accepted. */
  algorithms: readonly Algorithm[];
  /** Longest token accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  /** Deepest JSON nesting accepted in the header and payload. Default 16, at most 1000. */
  maxJsonDepth?: number;
}

export interface AccessTokenVerifyOptions extends JwsVerifyOptions {
  /** Accepted issuer(s), compared as exact strings. Required unless the profile says `ignoreIssuer: true`. */
  issuer?: string | readonly string[];
  /**
   * Accepted audience(s): the token's aud must hold at least one, compared as exact strings. Required
   * unless the profile says `ignoreAudience: true`.
   */
  audience?: string | readonly string[];
  /** Seconds of clock skew tolerated for exp, nbf and iat. Default 5. */
  clockTolerance?: number;
  /** Seconds: refuse tokens whose iat is older (iat then becomes required). */
  maxTokenAge?: number;
  /**
   * Required `typ` header (RFC 8725 section 3.11 explicit typing). Default `at+jwt` (RFC 9068), which also
   * matches `application/at+jwt`, case-insensitively. The same as `profile: { typ: [typ] }`.
   */
  typ?: string;
  /**
   * Relaxations of the strict RFC 9068 profile for tokens of other issuers, each named (see TokenProfile).
   * Default: none.
   */
  profile?: TokenProfile;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
}

export interface VerifiedJws {
  header: JwsHeader;
  payload: Buffer;
  key: Key;
}

export interface VerifiedAccessToken {
  header: JwsHeader;
  claims: AccessTokenClaims;
  key: Key;
}

function malformed(reason: string, message: string): TokenMalformedError {
  return new TokenMalformedError(reason, message);
}

/** The `now` option of a verifier: a clock in milliseconds, Date.now when left out. */
export function clockOption(now: (() => number) | undefined): () => number {
  if (now !== undefined && typeof now !== 'function') throw new ConfigError('now', 'must be a function');
  return now ?? Date.now;
}

export function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(name, 'must be a non-negative number');
  return v;
}

export function stringList(name: string, v: string | readonly string[] | undefined): readonly string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new ConfigError(name, 'must be a non-empty string or a non-empty array of non-empty strings');
  }
  return Object.freeze([...list]);
}

/** Where a compact token's two dots are. */
interface Segments {
  /** The first dot: the header segment's length. */
  readonly headerEnd: number;
  /** The second dot: the signing input's length. */
  readonly signingInputLength: number;
}

/** A header segment seen before: its parsed header, and whether it passed this verifier's header rules. */
interface KnownHeader {
  readonly segment: string;
  readonly header: JwsHeader;
  accepted: boolean;
}

/** The compact-JWS half of verification: everything but the claims. */
export class JwsVerifier {
  protected readonly allowed: ReadonlySet<string>;
  protected readonly maxLength: number;
  protected readonly maxDepth: number;
  private readonly headers = new Map<string, KnownHeader>();
  private lastHeader: KnownHeader | undefined;

  constructor(options: JwsVerifyOptions) {
    const algs = options?.algorithms;
    if (!Array.isArray(algs) || algs.length === 0)
      throw new ConfigError('algorithms', 'an explicit, non-empty allowlist is required');
    for (const a of algs) {
      if (!isAlgorithm(a)) throw new ConfigError('algorithms', `unsupported algorithm ${JSON.stringify(String(a)).slice(0, 40)}`);
    }
    this.allowed = new Set(algs);
    this.maxLength = nonNegative('maxTokenLength', options.maxTokenLength, DEFAULT_MAX_TOKEN_LENGTH);
    this.maxDepth = nonNegative('maxJsonDepth', options.maxJsonDepth, DEFAULT_MAX_JSON_DEPTH);
    if (this.maxDepth > MAX_JSON_DEPTH_LIMIT) throw new ConfigError('maxJsonDepth', `must be at most ${MAX_JSON_DEPTH_LIMIT}`);
  }

  /** Verifies a compact JWS and returns its header, raw payload and the key that verified it. */
  verify(token: string, keys: KeySource): VerifiedJws {
    const at = this.split(token);
    const known = this.header(token, at.headerEnd);
    const payload = decodeBase64url(token.slice(at.headerEnd + 1, at.signingInputLength));
    if (payload === undefined) throw malformed('base64url', 'payload is not canonical base64url');
    const key = this.checkHeaderAndKey(known, keys);
    this.checkSignature(token, at.signingInputLength, key);
    return { header: known.header, payload, key };
  }

  protected split(token: string): Segments {
    if (typeof token !== 'string') throw malformed('type', 'token must be a string');
    if (token.length > this.maxLength) throw new TokenTooLargeError(this.maxLength);
    const d1 = token.indexOf('.');
    const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1);
    // JSON serialization may hold exactly two dots (in an unprotected kid or jku), so test for it first.
    if (d2 === -1 || token.indexOf('.', d2 + 1) !== -1 || isJsonSerialization(token)) {
      if (isJsonSerialization(token))
        throw malformed('json-serialization', 'JWS JSON serialization is not accepted; use compact');
      if (token.split('.').length === 5) throw malformed('jwe', 'encrypted tokens (JWE) are not accepted');
      throw malformed('segments', 'token must have exactly three segments');
    }
    return { headerEnd: d1, signingInputLength: d2 };
  }

  /** The token's header, its first `end` characters, parsed once per distinct segment. */
  protected header(token: string, end: number): KnownHeader {
    // One issuer's tokens repeat one header segment: comparing it with the last one costs less than the
    // lookup, which hashes it (and less than startsWith, which V8 compiles into a loop over characters).
    const segment = token.slice(0, end);
    const last = this.lastHeader;
    if (last !== undefined && last.segment === segment) return last;
    let known = this.headers.get(segment);
    if (known === undefined) {
      const header = this.parseObject(segment, 'header') as JwsHeader;
      if (typeof header.alg !== 'string') throw new AlgorithmNotAllowedError('header has no alg');
      if (header.kid !== undefined && typeof header.kid !== 'string')
        throw new UnsupportedHeaderError('kid', 'kid must be a string');
      Object.freeze(header);
      known = { segment, header, accepted: false };
      if (this.headers.size >= HEADER_CACHE_SIZE) this.headers.clear();
      this.headers.set(segment, known);
    }
    this.lastHeader = known;
    return known;
  }

  protected parseObject(segment: string, what: 'header' | 'payload'): Record<string, unknown> {
    // A fresh Buffer per segment: decoding into a buffer reused across calls (module state) saved 1,500 of
    // 53,000 instructions per HS256 verification (valgrind), not worth a buffer shared by every caller.
    const bytes = decodeBase64url(segment);
    if (bytes === undefined) throw malformed('base64url', `${what} is not canonical base64url`);
    const text = decodeUtf8(bytes);
    if (text === undefined) throw malformed('utf8', `${what} is not valid UTF-8`);
    let value: unknown;
    try {
      value = parseStrictJson(text, this.maxDepth);
    } catch (err) {
      if (err instanceof JsonSyntaxError)
        throw malformed(err.reason === 'syntax' ? 'json' : err.reason, `${what}: ${err.message}`);
      throw err;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw malformed('json', `${what} must be a JSON object`);
    return value as Record<string, unknown>;
  }

  /**
   * Header rules before the signature: alg allowlist, typ (subclass), crit and b64, then the key. The
   * rules depend on the header and this verifier's options only, so a header that passed them once is
   * not checked again; one that failed is, and fails the same way.
   */
  protected checkHeaderAndKey(known: KnownHeader, keys: KeySource): Key {
    const header = known.header;
    if (!known.accepted) {
      if (!this.allowed.has(header.alg)) throw new AlgorithmNotAllowedError('alg is not in the allowlist');
      this.checkType(header);
      if (header.crit !== undefined) throw new UnsupportedHeaderError('crit', 'no critical header extension is supported');
      if (header.b64 !== undefined) throw new UnsupportedHeaderError('b64', 'unencoded payloads (RFC 7797) are not accepted');
      known.accepted = true;
    }
    // jwk, jku, x5u, x5c and x5t are never read: keys come only from the caller's KeySource.
    let key: Key;
    if (keys instanceof Key) key = keys;
    else if (keys instanceof KeySet) return keys.select(header.kid, header.alg);
    else key = keys(header);
    if (key.alg !== header.alg) throw new AlgorithmKeyMismatchError();
    return key;
  }

  protected checkType(_header: JwsHeader): void {}

  /** The signature segment (after the second dot) against the signing input, under the key's algorithm. */
  protected checkSignature(token: string, signingInputLength: number, key: Key): void {
    const info = ALGORITHMS[key.alg];
    if (info.kty === 'oct') {
      // The signing input is the token's first two segments, already checked to be base64url (ASCII). The
      // MAC comes base64url-encoded, and an encoder's output is canonical: a segment equal to it is the
      // canonical spelling of the right MAC. Any other segment is refused below, as for other algorithms.
      // node:crypto's createHmac, per token: a hand-written HMAC (two one-shot hashes over padded key blocks
      // kept per key) saved 7,600 of 59,100 instructions per HS256 verification (valgrind, 20,000 vs 60,000
      // verifications), less than an HTTP request costs around it, and none on the Verifier's cached path.
      const mac = createHmac(info.hash as string, key.keyObject)
        .update(token.slice(0, signingInputLength), 'latin1')
        .digest('base64url');
      if (equalsTail(token, signingInputLength + 1, mac)) return;
      if (decodeBase64url(token.slice(signingInputLength + 1)) === undefined) throw malformedSignature();
      throw new SignatureInvalidError();
    }
    const sig = decodeBase64url(token.slice(signingInputLength + 1));
    if (sig === undefined) throw malformedSignature();
    if (sig.length !== key.signatureLength) throw new SignatureInvalidError();
    if (info.order !== undefined && !scalarsInRange(sig, info.order)) throw new SignatureInvalidError();
    let ok: boolean;
    try {
      ok = cryptoVerify(info.hash, Buffer.from(token.slice(0, signingInputLength), 'latin1'), key.verifyInput as never, sig);
    } catch {
      ok = false;
    }
    if (!ok) throw new SignatureInvalidError();
  }
}

/** A token that opens with `{`, after any whitespace: the JWS JSON serialization. */
function isJsonSerialization(token: string): boolean {
  // A compact token opens with a base64url character, which is neither '{' nor whitespace: no need to trim.
  const c = token.charCodeAt(0);
  const base64url = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
  return !base64url && token.trimStart().startsWith('{');
}

function malformedSignature(): TokenMalformedError {
  return malformed('base64url', 'signature is not canonical base64url');
}

/** ECDSA r and s, big-endian halves of the signature, must both lie in [1, n-1]. */
function scalarsInRange(sig: Uint8Array, n: Uint8Array): boolean {
  const size = n.length;
  return inRange(sig, 0, n) && inRange(sig, size, n);
}

function inRange(sig: Uint8Array, offset: number, n: Uint8Array): boolean {
  let zero = true;
  let cmp = 0; // sign of (value - n), decided by the first differing byte
  for (let i = 0; i < n.length; i++) {
    const b = sig[offset + i]!;
    if (b !== 0) zero = false;
    if (cmp === 0 && b !== n[i]) cmp = b < n[i]! ? -1 : 1;
  }
  return !zero && cmp < 0;
}

/**
 * Strict verification of RFC 9068 access tokens, in this order: size cap; three segments of canonical
 * base64url; header and payload as JSON objects (valid UTF-8, no duplicate members, bounded depth); alg
 * in the allowlist; typ; no crit or b64; the key by exact kid, pinned to the token's alg; the signature;
 * then the claims (see checkClaims).
 */
export class AccessTokenVerifier extends JwsVerifier {
  private readonly rules: ClaimRules;
  private readonly profile: ResolvedProfile;
  /** The one accepted typ when there is exactly one (the usual case): a string compare, no list. */
  private readonly onlyType: string | undefined;
  private readonly now: () => number;

  constructor(options: AccessTokenVerifyOptions) {
    super(options);
    const profile = resolveProfile(options.profile, options.typ, ACCESS_TOKEN_TYPE);
    this.rules = Object.freeze({
      issuers: claimValues('issuer', options.issuer, profile.ignoreIssuer, 'ignoreIssuer'),
      audiences: claimValues('audience', options.audience, profile.ignoreAudience, 'ignoreAudience'),
      clockTolerance: nonNegative('clockTolerance', options.clockTolerance, DEFAULT_CLOCK_TOLERANCE),
      maxTokenAge: options.maxTokenAge === undefined ? undefined : nonNegative('maxTokenAge', options.maxTokenAge, 0),
      requireExp: profile.requireExp,
      requireSub: profile.requireSub,
      requireIat: profile.requireIat,
      requireJti: profile.requireJti,
      required: profile.required,
    });
    this.profile = profile;
    this.onlyType = profile.typ.length === 1 ? profile.typ[0] : undefined;
    this.now = clockOption(options.now);
  }

  verifyAccessToken(token: string, keys: KeySource): VerifiedAccessToken {
    const at = this.split(token);
    const known = this.header(token, at.headerEnd);
    const payload = this.parseObject(token.slice(at.headerEnd + 1, at.signingInputLength), 'payload');
    const key = this.checkHeaderAndKey(known, keys);
    this.checkSignature(token, at.signingInputLength, key);
    const claims = checkClaims(payload, this.rules, epochSeconds(this.now()));
    return { header: known.header, claims, key };
  }

  protected override checkType(header: JwsHeader): void {
    checkTypeHeader(header, this.profile, this.onlyType);
  }
}

/** The issuer or audience list; absent exactly when the profile ignores the claim. */
function claimValues(
  name: 'issuer' | 'audience',
  v: string | readonly string[] | undefined,
  ignored: boolean,
  setting: string,
): readonly string[] | undefined {
  if (!ignored) return stringList(name, v);
  if (v !== undefined) throw new ConfigError(name, `is not checked under profile.${setting}: leave one of the two out`);
  return undefined;
}

/** One-shot access-token verification; build an `AccessTokenVerifier` once to verify many tokens. */
export function verifyAccessToken(token: string, keys: KeySource, options: AccessTokenVerifyOptions): VerifiedAccessToken {
  return new AccessTokenVerifier(options).verifyAccessToken(token, keys);
}
