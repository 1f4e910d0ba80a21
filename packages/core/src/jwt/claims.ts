import { TokenClaimError, TokenExpiredError, TokenNotYetValidError } from '../errors.js';
import { isNumericDate } from '../lib/clock.js';
import { isScopeString } from '../scopes.js';
import type { AccessTokenClaims } from './types.js';

/** The claim rules of one verifier, resolved once from its options and profile (see profile.ts). */
export interface ClaimRules {
  /** Accepted issuers; undefined when the profile ignores iss (`ignoreIssuer`). */
  issuers: readonly string[] | undefined;
  /** Accepted audiences; undefined when the profile ignores aud (`ignoreAudience`). */
  audiences: readonly string[] | undefined;
  /** Seconds of clock skew tolerated on exp, nbf and iat. */
  clockTolerance: number;
  /** Seconds; when set, iat is required and may be at most this old. */
  maxTokenAge: number | undefined;
  /** Seconds; when set, exp may lie at most this far ahead (RFC 7523 section 3: no unreasonably far exp). */
  maxLifetime?: number | undefined;
  /** RFC 9068 section 2.2 claims, each required unless the profile relaxed it. */
  requireExp: boolean;
  requireSub: boolean;
  requireIat: boolean;
  requireJti: boolean;
  /** Further claims the profile requires (`requiredClaims`, e.g. client_id). */
  required: readonly string[];
}

const hasOwn = Object.prototype.hasOwnProperty;

function missing(claim: string): TokenClaimError {
  return new TokenClaimError(claim, 'missing', `claim ${claim} is required`);
}
function wrongType(claim: string, expected: string): TokenClaimError {
  return new TokenClaimError(claim, 'type', `claim ${claim} must be ${expected}`);
}

/**
 * Checks an access token's claim set: presence and types first (so a mistyped claim is reported as such,
 * never coerced), then iss and aud by exact string match, then the clock.
 */
export function checkClaims(c: Record<string, unknown>, rules: ClaimRules, nowSeconds: number): AccessTokenClaims {
  // Named reads rather than a loop over names: this runs for every token, and named reads are cheaper.
  const exp = c.exp;
  if (exp === undefined) {
    if (rules.requireExp) throw missing('exp');
  } else if (!isNumericDate(exp)) throw wrongType('exp', 'a NumericDate');
  if (c.nbf !== undefined && !isNumericDate(c.nbf)) throw wrongType('nbf', 'a NumericDate');
  const iat = c.iat;
  if (iat === undefined) {
    if (rules.requireIat) throw missing('iat');
  } else if (!isNumericDate(iat)) throw wrongType('iat', 'a NumericDate');
  if (c.sub === undefined) {
    if (rules.requireSub) throw missing('sub');
  } else if (typeof c.sub !== 'string') throw wrongType('sub', 'a string');
  if (c.jti === undefined) {
    if (rules.requireJti) throw missing('jti');
  } else if (typeof c.jti !== 'string') throw wrongType('jti', 'a string');
  if (c.client_id !== undefined && typeof c.client_id !== 'string') throw wrongType('client_id', 'a string');
  if (c.scope !== undefined) {
    if (typeof c.scope !== 'string') throw wrongType('scope', 'a string');
    if (c.scope !== '' && !isScopeString(c.scope)) {
      throw new TokenClaimError('scope', 'syntax', 'claim scope must be scope tokens separated by single spaces');
    }
  }
  const required = rules.required;
  for (let i = 0; i < required.length; i++) {
    const name = required[i]!;
    if (!hasOwn.call(c, name)) throw missing(name);
  }

  const issuers = rules.issuers;
  if (issuers !== undefined) {
    if (c.iss === undefined) throw missing('iss');
    if (typeof c.iss !== 'string') throw wrongType('iss', 'a string');
    if (!issuers.includes(c.iss)) throw new TokenClaimError('iss', 'mismatch', 'unexpected issuer');
  } else if (c.iss !== undefined && typeof c.iss !== 'string') throw wrongType('iss', 'a string');

  const aud = c.aud;
  const audiences = rules.audiences;
  if (aud === undefined) {
    if (audiences !== undefined) throw missing('aud');
  } else if (typeof aud === 'string') {
    if (audiences !== undefined && !audiences.includes(aud)) throw new TokenClaimError('aud', 'mismatch', 'unexpected audience');
  } else {
    if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string')) {
      throw wrongType('aud', 'a string or a non-empty array of strings');
    }
    if (audiences !== undefined && !aud.some((a: string) => audiences.includes(a)))
      throw new TokenClaimError('aud', 'mismatch', 'unexpected audience');
  }

  const tol = rules.clockTolerance;
  if (exp !== undefined && nowSeconds - tol >= (exp as number)) throw new TokenExpiredError(exp as number);
  if (c.nbf !== undefined && (c.nbf as number) > nowSeconds + tol)
    throw new TokenNotYetValidError('nbf', 'token is not valid yet (nbf)');
  if (iat !== undefined && (iat as number) > nowSeconds + tol)
    throw new TokenNotYetValidError('iat', 'token was issued in the future (iat)');
  if (rules.maxTokenAge !== undefined) {
    if (iat === undefined) throw missing('iat');
    if (nowSeconds - (iat as number) > rules.maxTokenAge + tol)
      throw new TokenClaimError('iat', 'too_old', 'token is older than the maximum age');
  }
  if (rules.maxLifetime !== undefined && exp !== undefined && (exp as number) > nowSeconds + rules.maxLifetime + tol)
    throw new TokenClaimError('exp', 'too_far', 'token lives longer than the maximum lifetime');
  return c as AccessTokenClaims;
}
