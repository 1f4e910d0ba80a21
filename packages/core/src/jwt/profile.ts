import { ConfigError, TokenTypeError } from '../errors.js';
import type { JwsHeader } from './types.js';

/** RFC 9068 section 2.2 claims that a profile may make optional, each by name. */
export type OptionalClaim = 'sub' | 'iat' | 'jti';
const OPTIONAL_CLAIMS: readonly string[] = ['sub', 'iat', 'jti'];
/** Claims whose presence the default profile already requires or that their own setting governs. */
const GOVERNED = new Set(['iss', 'aud', 'exp', 'sub', 'iat', 'jti']);

/**
 * What a verifier accepts, for tokens that other issuers (Keycloak, Auth0, Microsoft Entra ID, a PyJWT
 * script) sign. Left out, every setting is the strict RFC 9068 profile: `typ` `at+jwt`; iss, exp, aud,
 * sub, iat and jti present; iss and aud compared with the configured issuer and audience. Each setting
 * that relaxes it names the relaxation; none is implied by another. The verifier README weighs the risk
 * of each.
 */
export interface TokenProfile {
  /**
   * Accepted `typ` header values, compared as media types (case-insensitive; `application/` optional).
   * Default `['at+jwt']`. Listing `JWT` accepts any JWT whose signature verifies, including ID tokens
   * and other token kinds the same issuer signs with the same key (RFC 8725 section 3.11).
   */
  typ?: readonly string[];
  /** Accept a token with no `typ` header at all. Default false. */
  allowMissingTyp?: boolean;
  /** RFC 9068 claims that may be absent, by name (`sub`, `iat`, `jti`). Default none. */
  optionalClaims?: readonly OptionalClaim[];
  /** Claims that must be present besides the RFC 9068 ones, e.g. `client_id` (RFC 9068 section 2.2). */
  requiredClaims?: readonly string[];
  /** Neither require nor compare `iss`: any issuer whose key verifies is accepted. Leave `issuer` out then. */
  ignoreIssuer?: boolean;
  /** Neither require nor compare `aud`: a token meant for any service is accepted. Leave `audience` out then. */
  ignoreAudience?: boolean;
  /** Accept a token without `exp`: such a token never expires. An `exp` that is present is still checked. */
  allowMissingExp?: boolean;
}

/** A profile resolved once, when a verifier is built: nothing of it is looked up per token. */
export interface ResolvedProfile {
  /** Normalized accepted typ values. */
  readonly typ: readonly string[];
  readonly allowMissingTyp: boolean;
  readonly requireExp: boolean;
  readonly requireSub: boolean;
  readonly requireIat: boolean;
  readonly requireJti: boolean;
  readonly required: readonly string[];
  readonly ignoreIssuer: boolean;
  readonly ignoreAudience: boolean;
}

const KNOWN = new Set([
  'typ',
  'allowMissingTyp',
  'optionalClaims',
  'requiredClaims',
  'ignoreIssuer',
  'ignoreAudience',
  'allowMissingExp',
]);

/** Media types compare case-insensitively, and `application/` may be omitted (RFC 7515 section 4.1.9). */
export function normalizeType(typ: string): string {
  const t = typ.toLowerCase();
  return t.startsWith('application/') ? t.slice(12) : t;
}

/**
 * The `typ` header rule of a resolved profile: absent only where the profile allows it, otherwise one of the
 * accepted media types. `only` is the one accepted type when there is exactly one (a string compare, no list).
 */
export function checkTypeHeader(header: JwsHeader, profile: ResolvedProfile, only: string | undefined): void {
  const typ = header.typ;
  if (typ === undefined) {
    if (profile.allowMissingTyp) return;
    throw new TokenTypeError('typ header is required');
  }
  if (typeof typ !== 'string') throw new TokenTypeError('typ header must be a string');
  const t = normalizeType(typ);
  if (only !== undefined ? t !== only : !profile.typ.includes(t)) throw new TokenTypeError('unexpected typ');
}

function flag(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`profile.${name}`, 'must be true or false');
  return v;
}

function names(name: string, v: unknown): readonly string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.length > 0))
    throw new ConfigError(`profile.${name}`, 'must be an array of non-empty strings');
  return v as string[];
}

/**
 * Checks a profile and resolves it. `typ` is the older single-value option (`typ: 'sub+jwt'`), the same as
 * `profile.typ: [typ]`; giving both is refused.
 */
export function resolveProfile(profile: TokenProfile | undefined, typ: string | undefined, defaultTyp: string): ResolvedProfile {
  if (profile !== undefined && (typeof profile !== 'object' || profile === null || Array.isArray(profile)))
    throw new ConfigError('profile', 'must be an object');
  const p = profile ?? {};
  for (const key of Object.keys(p)) {
    if (!KNOWN.has(key)) throw new ConfigError(`profile.${key}`, 'is not a profile setting');
  }
  if (typ !== undefined && p.typ !== undefined) throw new ConfigError('typ', 'give typ or profile.typ, not both');
  if (typ !== undefined && (typeof typ !== 'string' || typ.length === 0))
    throw new ConfigError('typ', 'must be a non-empty string');
  const types = typ !== undefined ? [typ] : p.typ === undefined ? [defaultTyp] : names('typ', p.typ);
  const allowMissingTyp = flag('allowMissingTyp', p.allowMissingTyp);
  if (types.length === 0 && !allowMissingTyp)
    throw new ConfigError('profile.typ', 'must hold at least one value (or set allowMissingTyp)');
  const optional = names('optionalClaims', p.optionalClaims);
  for (const c of optional) {
    if (!OPTIONAL_CLAIMS.includes(c)) {
      const hint =
        c === 'exp' ? ': use allowMissingExp' : c === 'iss' ? ': use ignoreIssuer' : c === 'aud' ? ': use ignoreAudience' : '';
      throw new ConfigError('profile.optionalClaims', `may name only sub, iat and jti${hint}`);
    }
  }
  const required = names('requiredClaims', p.requiredClaims);
  for (const c of required) {
    if (GOVERNED.has(c))
      throw new ConfigError('profile.requiredClaims', `${c} is required by default; list only further claims, such as client_id`);
  }
  return Object.freeze({
    typ: Object.freeze([...new Set(types.map(normalizeType))]),
    allowMissingTyp,
    requireExp: !flag('allowMissingExp', p.allowMissingExp),
    requireSub: !optional.includes('sub'),
    requireIat: !optional.includes('iat'),
    requireJti: !optional.includes('jti'),
    required: Object.freeze([...new Set(required)]),
    ignoreIssuer: flag('ignoreIssuer', p.ignoreIssuer),
    ignoreAudience: flag('ignoreAudience', p.ignoreAudience),
  });
}
