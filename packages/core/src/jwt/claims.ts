import { TokenClaimError, TokenExpiredError, TokenNotYetValidError } from '../errors.js';
import { isNumericDate } from '../lib/clock.js';
import { isScopeString } from '../scopes.js';
import type { AccessTokenClaims } from './types.js';

export interface ClaimRules {
  issuers: readonly string[];
  audiences: readonly string[];
  /** Seconds of clock skew tolerated on exp, nbf and iat. */
  clockTolerance: number;
  /** Seconds; when set, iat is required and may be at most this old. */
  maxTokenAge: number | undefined;
}

function missing(claim: string): TokenClaimError {
  return new TokenClaimError(claim, 'missing', `claim ${claim} is required`);
}
function wrongType(claim: string, expected: string): TokenClaimError {
  return new TokenClaimError(claim, 'type', `claim ${claim} must be ${expected}`);
}

/**
 * Checks an access token's claim set: types first (so a mistyped claim is reported as such, never
 * coerced), then iss and aud by exact string match, then the clock.
 */
export function checkClaims(c: Record<string, unknown>, rules: ClaimRules, nowSeconds: number): AccessTokenClaims {
  if (c.exp === undefined) throw missing('exp');
  if (!isNumericDate(c.exp)) throw wrongType('exp', 'a NumericDate');
  if (c.nbf !== undefined && !isNumericDate(c.nbf)) throw wrongType('nbf', 'a NumericDate');
  if (c.iat !== undefined && !isNumericDate(c.iat)) throw wrongType('iat', 'a NumericDate');
  // Named reads rather than a loop over names: this runs for every token, and named reads are cheaper.
  if (c.sub !== undefined && typeof c.sub !== 'string') throw wrongType('sub', 'a string');
  if (c.jti !== undefined && typeof c.jti !== 'string') throw wrongType('jti', 'a string');
  if (c.client_id !== undefined && typeof c.client_id !== 'string') throw wrongType('client_id', 'a string');
  if (c.scope !== undefined) {
    if (typeof c.scope !== 'string') throw wrongType('scope', 'a string');
    if (c.scope !== '' && !isScopeString(c.scope)) {
      throw new TokenClaimError('scope', 'syntax', 'claim scope must be scope tokens separated by single spaces');
    }
  }

  if (c.iss === undefined) throw missing('iss');
  if (typeof c.iss !== 'string') throw wrongType('iss', 'a string');
  if (!rules.issuers.includes(c.iss)) throw new TokenClaimError('iss', 'mismatch', 'unexpected issuer');

  const aud = c.aud;
  if (aud === undefined) throw missing('aud');
  if (typeof aud === 'string') {
    if (!rules.audiences.includes(aud)) throw new TokenClaimError('aud', 'mismatch', 'unexpected audience');
  } else {
    if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string')) {
      throw wrongType('aud', 'a string or a non-empty array of strings');
    }
    if (!aud.some((a: string) => rules.audiences.includes(a)))
      throw new TokenClaimError('aud', 'mismatch', 'unexpected audience');
  }

  const tol = rules.clockTolerance;
  if (nowSeconds - tol >= c.exp) throw new TokenExpiredError(c.exp);
  if (c.nbf !== undefined && (c.nbf as number) > nowSeconds + tol)
    throw new TokenNotYetValidError('nbf', 'token is not valid yet (nbf)');
  if (c.iat !== undefined && (c.iat as number) > nowSeconds + tol)
    throw new TokenNotYetValidError('iat', 'token was issued in the future (iat)');
  if (rules.maxTokenAge !== undefined) {
    if (c.iat === undefined) throw missing('iat');
    if (nowSeconds - (c.iat as number) > rules.maxTokenAge + tol)
      throw new TokenClaimError('iat', 'too_old', 'token is older than the maximum age');
  }
  return c as AccessTokenClaims;
}
