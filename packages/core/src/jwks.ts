import { ALGORITHMS, type Algorithm } from './algorithms.js';
import { AlgorithmKeyMismatchError, JwksInvalidError, KeyInvalidError, KeyNotFoundError } from './errors.js';
import { importJwk } from './key/import.js';
import type { Key } from './key/key.js';

export interface JsonWebKeySet {
  keys: Record<string, unknown>[];
}

/** Maximum number of keys a JWKS may hold; more is refused as a resource-exhaustion attempt. */
export const MAX_JWKS_KEYS = 100;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

/** A key refused while a JWKS was parsed, kept so that operators can see why a kid is unusable. */
export interface SkippedKey {
  kid: string | undefined;
  reason: string;
  message: string;
}

/**
 * Verification keys by exact `kid`, each pinned to one algorithm. Lookups go through a `Map`, so a kid
 * such as `__proto__` or `constructor` finds nothing unless a key has that exact id.
 */
export class KeySet {
  readonly keys: readonly Key[];
  readonly skipped: readonly SkippedKey[];
  private readonly byKid: Map<string, Key>;

  constructor(keys: readonly Key[], skipped: readonly SkippedKey[] = []) {
    const byKid = new Map<string, Key>();
    for (const key of keys) {
      if (byKid.has(key.kid)) throw new JwksInvalidError('duplicate_kid', 'two keys share one kid');
      byKid.set(key.kid, key.publicKey());
    }
    const kinds = new Set([...byKid.values()].map((k) => k.kind));
    if (kinds.has('secret') && kinds.size > 1) {
      throw new JwksInvalidError('mixed_symmetric', 'a key set must not mix HMAC secrets with asymmetric keys');
    }
    this.byKid = byKid;
    this.keys = Object.freeze([...byKid.values()]);
    this.skipped = Object.freeze([...skipped]);
    Object.freeze(this);
  }

  get size(): number {
    return this.byKid.size;
  }

  has(kid: string): boolean {
    return this.byKid.has(kid);
  }

  /**
   * The key for a token header: by exact kid when the token names one, otherwise the single key pinned to
   * the token's alg. The key's pinned alg must equal the token's.
   */
  select(kid: string | undefined, alg: string): Key {
    if (kid !== undefined) {
      const key = this.byKid.get(kid);
      if (!key) throw new KeyNotFoundError();
      if (key.alg !== alg) throw new AlgorithmKeyMismatchError();
      return key;
    }
    let found: Key | undefined;
    for (const key of this.byKid.values()) {
      if (key.alg !== alg) continue;
      if (found) throw new KeyNotFoundError('the token has no kid and several keys fit its alg');
      found = key;
    }
    if (!found) throw new KeyNotFoundError();
    return found;
  }
}

/** The public JWKS for a set of keys, as an issuer publishes it. HMAC secrets are never published. */
export function buildJwks(keys: Iterable<Key>): JsonWebKeySet {
  const out: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (key.kind === 'secret') throw new KeyInvalidError('secret', 'an HMAC secret must never be published in a JWKS');
    if (seen.has(key.kid)) throw new JwksInvalidError('duplicate_kid', 'two keys share one kid');
    seen.add(key.kid);
    out.push(key.toJwk());
  }
  return { keys: out };
}

export interface ParseJwksOptions {
  /**
   * The verifier's algorithm allowlist. A key without `alg` is pinned to the one allowed algorithm that
   * fits it (e.g. an RSA key when exactly one RS/PS algorithm is allowed); a key that fits none is skipped.
   */
  algorithms?: readonly Algorithm[];
}

/**
 * Parses a JWKS (RFC 7517 section 5). The whole set is refused for ambiguity or a leak: duplicate kids,
 * HMAC secrets mixed with asymmetric keys, private key material, more than MAX_JWKS_KEYS keys. A single
 * unusable key (`use: enc`, weak, unknown alg) is skipped, and listed in `KeySet.skipped`.
 */
export function parseJwks(input: unknown, options: ParseJwksOptions = {}): KeySet {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new JwksInvalidError('shape', 'a JWKS must be a JSON object');
  const list = (input as Record<string, unknown>).keys;
  if (!Array.isArray(list)) throw new JwksInvalidError('shape', 'a JWKS must have a "keys" array');
  if (list.length > MAX_JWKS_KEYS) throw new JwksInvalidError('too_many', `a JWKS may hold at most ${MAX_JWKS_KEYS} keys`);
  const kids = new Set<string>();
  for (const jwk of list) {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
      throw new JwksInvalidError('shape', 'every JWKS entry must be an object');
    const j = jwk as Record<string, unknown>;
    if (typeof j.kid === 'string') {
      if (kids.has(j.kid)) throw new JwksInvalidError('duplicate_kid', 'two keys share one kid');
      kids.add(j.kid);
    }
    if (j.kty !== 'oct' && PRIVATE_MEMBERS.some((m) => j[m] !== undefined)) {
      throw new JwksInvalidError('private_key', 'the JWKS holds private key material; publish public keys only');
    }
  }
  const keys: Key[] = [];
  const skipped: SkippedKey[] = [];
  for (const jwk of list as Record<string, unknown>[]) {
    const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
    try {
      const alg = jwk.alg === undefined ? pinFromAllowlist(jwk, options.algorithms) : undefined;
      keys.push(importJwk(jwk, alg ? { alg } : {}));
    } catch (err) {
      if (!(err instanceof KeyInvalidError)) throw err;
      skipped.push({ kid, reason: err.reason, message: err.message });
    }
  }
  return new KeySet(keys, skipped);
}

function pinFromAllowlist(jwk: Record<string, unknown>, algorithms: readonly Algorithm[] | undefined): Algorithm | undefined {
  if (jwk.kty !== 'RSA' && jwk.kty !== 'oct') return undefined; // EC and OKP keys name their curve
  const fits = (algorithms ?? []).filter((a) => ALGORITHMS[a]?.kty === jwk.kty);
  return fits.length === 1 ? fits[0] : undefined;
}

/**
 * The JWT authorities of a SPIFFE bundle (SPIFFE Trust Domain and Bundle, section 4) as a JWKS: the keys whose
 * `use` is `jwt-svid`, without their `use` (they verify JWT-SVID signatures); X.509 authorities and keys of any
 * other use are left out. The result goes through `parseJwks` like any JWKS.
 */
export function spiffeBundleJwks(bundle: unknown): JsonWebKeySet {
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle))
    throw new JwksInvalidError('shape', 'a SPIFFE bundle must be a JSON object');
  const list = (bundle as Record<string, unknown>).keys;
  if (!Array.isArray(list)) throw new JwksInvalidError('shape', 'a SPIFFE bundle must have a "keys" array');
  const keys: Record<string, unknown>[] = [];
  for (const jwk of list) {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
      throw new JwksInvalidError('shape', 'every SPIFFE bundle entry must be an object');
    const { use, ...rest } = jwk as Record<string, unknown>;
    if (use === 'jwt-svid') keys.push(rest);
  }
  return { keys };
}
