import { ConfigError, TokenClaimError } from '../errors.js';
import type { Algorithm } from '../algorithms.js';
import { epochSeconds } from '../lib/clock.js';
import { checkClaims, type ClaimRules } from './claims.js';
import { CLIENT_ASSERTION_ALGORITHMS, DEFAULT_ASSERTION_CLOCK_TOLERANCE, MAX_ASSERTION_JTI_LENGTH } from './client-assertion.js';
import { checkTypeHeader, resolveProfile, type ResolvedProfile, type TokenProfile } from './profile.js';
import type { JwsHeader } from './types.js';
import { clockOption, JwsVerifier, nonNegative, type KeySource } from './verify.js';

/**
 * What a workload token is, as a token profile: the identity documents platforms give their workloads
 * (Kubernetes projected service-account tokens carry no `typ`, SPIFFE JWT-SVIDs `JWT` or `JOSE` or none, GitHub
 * Actions `JWT`); sub, aud and exp required, iat and jti optional (a SPIFFE JWT-SVID need not carry either).
 */
export const WORKLOAD_TOKEN_PROFILE: TokenProfile = Object.freeze({
  typ: Object.freeze(['JWT', 'JOSE']),
  allowMissingTyp: true,
  optionalClaims: Object.freeze(['iat', 'jti'] as const),
});

/** Oldest workload token accepted by default, in seconds (by iat; by exp - now for a token without iat). */
export const DEFAULT_MAX_WORKLOAD_TOKEN_AGE = 3600;

export interface WorkloadTokenVerifyOptions {
  /** The exact `iss` the tokens carry; undefined for a SPIFFE trust domain whose JWT-SVIDs carry none. */
  issuer: string | undefined;
  /** The audience the tokens must carry (one of their `aud` values). */
  audience: string;
  /** Allowlist, a subset of the asymmetric algorithms (CLIENT_ASSERTION_ALGORITHMS). */
  algorithms: readonly Algorithm[];
  /** Seconds: iat at most this old; a token without iat may live at most this long from now. Default 3600. */
  maxTokenAge?: number;
  /** Require a `jti` (the caller uses it once). Default false. */
  requireJti?: boolean;
  /** Seconds of clock skew tolerated. Default 30. */
  clockTolerance?: number;
  /** Longest token accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
}

/** The claims of a verified workload token. */
export interface WorkloadTokenClaims {
  iss?: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

export interface VerifiedWorkloadToken {
  header: JwsHeader;
  claims: WorkloadTokenClaims;
}

/**
 * Strict verification of a workload token from a trusted external issuer, with the machinery every Tessera
 * verification uses (size cap, canonical base64url, strict JSON, alg allowlist, key by exact kid pinned to its
 * alg, signature; `jwk`, `jku`, `x5u`, `x5c` never read), then the claims: iss exact (or absent where the issuer
 * is a SPIFFE trust domain without one), aud holding the configured audience, exp required, nbf and iat not in
 * the future, and the age bound. Single use of the jti, and mapping the token to a client, are the caller's.
 */
export class WorkloadTokenVerifier extends JwsVerifier {
  readonly clockTolerance: number;
  private readonly profile: ResolvedProfile;
  private readonly rules: ClaimRules;
  private readonly maxAge: number;
  private readonly now: () => number;

  constructor(options: WorkloadTokenVerifyOptions) {
    const algorithms = options.algorithms;
    if (!Array.isArray(algorithms) || algorithms.length === 0) throw new ConfigError('algorithms', 'name at least one algorithm');
    for (const a of algorithms) {
      if (!CLIENT_ASSERTION_ALGORITHMS.includes(a))
        throw new ConfigError('algorithms', 'workload tokens are signed with asymmetric algorithms only');
    }
    if (typeof options.audience !== 'string' || options.audience === '') throw new ConfigError('audience', 'required');
    super({ algorithms, maxTokenLength: options.maxTokenLength });
    this.profile = resolveProfile(WORKLOAD_TOKEN_PROFILE, undefined, 'JWT');
    this.maxAge = nonNegative('maxTokenAge', options.maxTokenAge, DEFAULT_MAX_WORKLOAD_TOKEN_AGE);
    this.clockTolerance = nonNegative('clockTolerance', options.clockTolerance, DEFAULT_ASSERTION_CLOCK_TOLERANCE);
    this.now = clockOption(options.now);
    this.rules = {
      issuers: options.issuer === undefined ? undefined : [options.issuer],
      audiences: [options.audience],
      clockTolerance: this.clockTolerance,
      maxTokenAge: undefined,
      maxLifetime: undefined,
      requireExp: true,
      requireSub: true,
      requireIat: false,
      requireJti: options.requireJti === true,
      required: this.profile.required,
    };
  }

  /** Verifies `token` with one of `keys` (the issuer's published keys). */
  verifyWorkloadToken(token: string, keys: KeySource): VerifiedWorkloadToken {
    const at = this.split(token);
    const known = this.header(token, at.headerEnd);
    const payload = this.parseObject(token.slice(at.headerEnd + 1, at.signingInputLength), 'payload');
    const key = this.checkHeaderAndKey(known, keys);
    this.checkSignature(token, at.signingInputLength, key);
    const now = epochSeconds(this.now());
    // Without an issuer to compare with (a SPIFFE trust domain), a token that names one is still refused
    // unless it is a string: checkClaims checks its type.
    const claims = checkClaims(payload, this.rules, now) as WorkloadTokenClaims;
    const tol = this.clockTolerance;
    if (claims.iat !== undefined) {
      if (now - claims.iat > this.maxAge + tol)
        throw new TokenClaimError('iat', 'too_old', 'token is older than the maximum age');
    } else if (claims.exp > now + this.maxAge + tol) {
      throw new TokenClaimError('exp', 'too_far', 'token without iat lives longer than the maximum age');
    }
    if (claims.sub === '') throw new TokenClaimError('sub', 'empty', 'claim sub must not be empty');
    if (claims.jti !== undefined && (claims.jti.length === 0 || claims.jti.length > MAX_ASSERTION_JTI_LENGTH))
      throw new TokenClaimError('jti', 'length', `claim jti must hold 1 to ${MAX_ASSERTION_JTI_LENGTH} characters`);
    return { header: known.header, claims };
  }

  protected override checkType(header: JwsHeader): void {
    checkTypeHeader(header, this.profile, undefined);
  }
}
