import { ALGORITHMS, type Algorithm } from '../algorithms.js';
import { ConfigError, TokenClaimError } from '../errors.js';
import { epochSeconds } from '../lib/clock.js';
import { checkClaims, type ClaimRules } from './claims.js';
import { checkTypeHeader, resolveProfile, type ResolvedProfile, type TokenProfile } from './profile.js';
import type { JwsHeader } from './types.js';
import { clockOption, JwsVerifier, nonNegative, stringList, type KeySource } from './verify.js';

/**
 * The algorithms a client may sign an assertion with (RFC 7523 section 3, private_key_jwt): every asymmetric
 * algorithm Tessera verifies. The auth server advertises this list as
 * `token_endpoint_auth_signing_alg_values_supported` and accepts only keys of these algorithms in a client's JWKS.
 */
export const CLIENT_ASSERTION_ALGORITHMS: readonly Algorithm[] = Object.freeze(
  (Object.keys(ALGORITHMS) as Algorithm[]).filter((a) => ALGORITHMS[a].kty !== 'oct'),
);

/**
 * What a client assertion is, as a token profile: `typ` absent, `JWT`, or `client-authentication+jwt` (the
 * explicit type of draft-ietf-oauth-rfc7523bis); iss, sub, aud, exp and jti required; iat optional.
 */
export const CLIENT_ASSERTION_PROFILE: TokenProfile = Object.freeze({
  typ: Object.freeze(['JWT', 'client-authentication+jwt']),
  allowMissingTyp: true,
  optionalClaims: Object.freeze(['iat'] as const),
});

/** Longest lifetime (exp - now) accepted by default, in seconds. */
export const DEFAULT_MAX_ASSERTION_LIFETIME = 600;
/** Seconds of clock skew tolerated by default: assertions come from the clocks of other machines. */
export const DEFAULT_ASSERTION_CLOCK_TOLERANCE = 30;
/** Longest jti accepted: the auth server stores each one until the assertion expires. */
export const MAX_ASSERTION_JTI_LENGTH = 256;

export interface ClientAssertionVerifyOptions {
  /** Accepted audiences: the issuer and the token endpoint URL. The assertion's aud must hold one. */
  audience: string | readonly string[];
  /** Allowlist, a subset of CLIENT_ASSERTION_ALGORITHMS. Default: all of them. */
  algorithms?: readonly Algorithm[];
  /** Seconds: exp may lie at most this far ahead. Default 600. */
  maxLifetime?: number;
  /** Seconds of clock skew tolerated for exp, nbf, iat and the lifetime. Default 30. */
  clockTolerance?: number;
  /** Longest assertion accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
}

/** The claims of a verified client assertion: iss and sub are the client_id. */
export interface ClientAssertionClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  jti: string;
  iat?: number;
  nbf?: number;
  [claim: string]: unknown;
}

export interface VerifiedClientAssertion {
  header: JwsHeader;
  claims: ClientAssertionClaims;
}

/**
 * Strict verification of RFC 7523 client assertions (private_key_jwt), with the same machinery as access
 * tokens: size cap, canonical base64url, strict JSON (no duplicate members), alg allowlist, header rules,
 * key by exact kid pinned to its alg, signature; then the claims under CLIENT_ASSERTION_PROFILE with
 * iss = sub = the client_id, aud one of the configured audiences, exp within the maximum lifetime, and a jti
 * of 1 to 256 characters. Single use of the jti is the caller's (it needs a store).
 */
export class ClientAssertionVerifier extends JwsVerifier {
  /** Seconds of clock skew tolerated: keep a used jti at least until exp plus this. */
  readonly clockTolerance: number;
  private readonly profile: ResolvedProfile;
  private readonly audiences: readonly string[];
  private readonly maxLifetime: number;
  private readonly now: () => number;

  constructor(options: ClientAssertionVerifyOptions) {
    const algorithms = options.algorithms ?? CLIENT_ASSERTION_ALGORITHMS;
    for (const a of Array.isArray(algorithms) ? algorithms : []) {
      if (!CLIENT_ASSERTION_ALGORITHMS.includes(a))
        throw new ConfigError('algorithms', 'client assertions are signed with asymmetric algorithms only');
    }
    super({ algorithms, maxTokenLength: options.maxTokenLength });
    this.profile = resolveProfile(CLIENT_ASSERTION_PROFILE, undefined, 'JWT');
    this.audiences = stringList('audience', options.audience);
    this.maxLifetime = nonNegative('maxLifetime', options.maxLifetime, DEFAULT_MAX_ASSERTION_LIFETIME);
    this.clockTolerance = nonNegative('clockTolerance', options.clockTolerance, DEFAULT_ASSERTION_CLOCK_TOLERANCE);
    this.now = clockOption(options.now);
  }

  /** Verifies `assertion` as client `clientId`'s, signed by one of `keys` (the client's registered JWKS). */
  verifyClientAssertion(assertion: string, clientId: string, keys: KeySource): VerifiedClientAssertion {
    const at = this.split(assertion);
    const known = this.header(assertion, at.headerEnd);
    const payload = this.parseObject(assertion.slice(at.headerEnd + 1, at.signingInputLength), 'payload');
    const key = this.checkHeaderAndKey(known, keys);
    this.checkSignature(assertion, at.signingInputLength, key);
    const rules: ClaimRules = {
      issuers: [clientId],
      audiences: this.audiences,
      clockTolerance: this.clockTolerance,
      maxTokenAge: undefined,
      maxLifetime: this.maxLifetime,
      requireExp: this.profile.requireExp,
      requireSub: this.profile.requireSub,
      requireIat: this.profile.requireIat,
      requireJti: this.profile.requireJti,
      required: this.profile.required,
    };
    const claims = checkClaims(payload, rules, epochSeconds(this.now())) as ClientAssertionClaims;
    if (claims.sub !== clientId) throw new TokenClaimError('sub', 'mismatch', 'sub must be the client_id, as iss is');
    if (claims.jti.length === 0 || claims.jti.length > MAX_ASSERTION_JTI_LENGTH)
      throw new TokenClaimError('jti', 'length', `claim jti must hold 1 to ${MAX_ASSERTION_JTI_LENGTH} characters`);
    return { header: known.header, claims };
  }

  protected override checkType(header: JwsHeader): void {
    checkTypeHeader(header, this.profile, undefined);
  }
}
