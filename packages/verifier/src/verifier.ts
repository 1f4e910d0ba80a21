import {
  AccessTokenVerifier,
  ConfigError,
  DEFAULT_CLOCK_TOLERANCE,
  importKey,
  importSecret,
  Key,
  KeyNotFoundError,
  KeySet,
  parseJwks,
  requireScopes,
  type AccessTokenVerifyOptions,
  type Algorithm,
  type JsonWebKeySet,
  type ScopeMode,
  type TokenProfile,
} from '@tessera/core';

import { KeysUnavailableError, TokenMissingError, TokenRevokedError } from './errors.js';
import { Lru } from './lru.js';
import { principalFromClaims, type Principal } from './principal.js';
import { RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js';
import type { RevocationList } from './revocation/list.js';
import { revokes } from './revocation/set.js';

export interface VerifierOptions {
  /** Accepted issuer(s), exact match. Required unless `profile.ignoreIssuer` is true. */
  issuer?: string | readonly string[];
  /** This service's audience identifier(s); the token's aud must hold one. Required unless `profile.ignoreAudience` is true. */
  audience?: string | readonly string[];
  /** Exact algorithm allowlist, e.g. ['ES256']. Required. */
  algorithms: readonly Algorithm[];

  /** Keys: exactly one of jwks, jwksUri, publicKey, secret, keys. */
  jwks?: JsonWebKeySet | KeySet;
  jwksUri?: string | URL;
  /** A Key, or a public key as PEM, JWK (object or text) or OpenSSH line. */
  publicKey?: Key | string | Record<string, unknown>;
  /** HMAC secret, single-app mode only (algorithms must be HS256/384/512). */
  secret?: Uint8Array;
  /**
   * Keys held in this process that may change while the verifier lives, such as an issuer's own live
   * signing keys: a synchronous function called on every verification, returning a KeySet (a token names
   * its key by kid) or a single Key. A cached verification counts only while the function returns the very
   * object it was verified against, so a key taken out of the source is refused at once, cached or not:
   * return the same object for as long as the keys do not change (a new object per call is correct, but
   * makes every verification a full one). Anything else returned fails closed with ERR_KEYS_UNAVAILABLE.
   */
  keys?: () => Key | KeySet;

  clockTolerance?: number;
  maxTokenAge?: number;
  maxTokenLength?: number;
  maxJsonDepth?: number;
  typ?: string;
  /**
   * Relaxations of the strict RFC 9068 profile, for tokens other issuers sign (Keycloak, Auth0, Entra ID,
   * PyJWT): accepted typ values, optional or further required claims, iss / aud not checked, no exp. Each
   * is named; see TokenProfile and the README for the risk of each. Default: none.
   */
  profile?: TokenProfile;

  /** Verified-token cache. On by default with 10,000 entries; `false` turns it off. */
  cache?: false | { maxEntries?: number };
  /** Remote JWKS tuning (timeouts, cooldown, cache bounds, max stale age). */
  jwksOptions?: RemoteJwksOptions;
  /**
   * Revocation hook, consulted on every verification, cached or not. Return true to refuse the token
   * with ERR_TOKEN_REVOKED. The revocation list of @tessera/verifier plugs in here.
   */
  isRevoked?: (principal: Principal) => boolean;
  /**
   * A revocation list (createRevocationList): consulted on every verification, cached or not, and each new
   * revocation drops the cached verifications it revokes. While the list is not current it fails closed
   * with ERR_REVOCATIONS_UNAVAILABLE (unless built with `whenStale: 'accept'`).
   */
  revocations?: RevocationList;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
}

export interface AuthorizeOptions {
  /** Scopes the caller must hold. */
  scopes?: readonly string[];
  /** `all` (default) or `any` of `scopes`. */
  mode?: ScopeMode;
}

const DEFAULT_CACHE_ENTRIES = 10_000;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/**
 * The verified-token cache is keyed by a token's last characters (its signature's, unpredictable): hashing a
 * whole token, a fresh string on every request, costs more than the rest of a cache hit. The entry keeps
 * the whole token, and only a token equal to it in full is a hit.
 */
const CACHE_KEY_CHARS = 24;

interface CacheEntry {
  readonly token: string;
  readonly principal: Principal;
  /** With a `keys` function: what it returned when the token was verified; the entry holds only while it still does. */
  readonly keys: Key | KeySet | undefined;
  /** Until when (ms) the verification holds: the token's exp, or its iat plus maxTokenAge if sooner. */
  readonly validUntil: number;
}

function cacheKey(token: string): string {
  return token.length > CACHE_KEY_CHARS ? token.slice(-CACHE_KEY_CHARS) : token;
}

/**
 * Verifies access tokens locally: no call to the issuer per request. Build one per service and share it;
 * every adapter (Fastify, Express, node:http, fetch, RPC, gateway) wraps the same instance.
 */
export class Verifier {
  private readonly core: AccessTokenVerifier;
  private readonly staticKeys: Key | KeySet | undefined;
  private readonly keySource: (() => Key | KeySet) | undefined;
  private readonly remote: RemoteJwks | undefined;
  private readonly cache: Lru<string, CacheEntry> | undefined;
  private readonly isRevoked: ((p: Principal) => boolean) | undefined;
  private readonly now: () => number;
  /** maxTokenAge plus the clock tolerance, in seconds, or undefined when there is no maximum age. */
  private readonly maxAge: number | undefined;
  private readonly stopRevocations: (() => void) | undefined;

  constructor(options: VerifierOptions) {
    if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'required');
    const coreOptions: AccessTokenVerifyOptions = {
      algorithms: options.algorithms,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxTokenAge,
      maxTokenLength: options.maxTokenLength,
      maxJsonDepth: options.maxJsonDepth,
      typ: options.typ,
      profile: options.profile,
      now: options.now,
    };
    this.core = new AccessTokenVerifier(coreOptions);
    this.now = options.now ?? Date.now;
    this.maxAge =
      options.maxTokenAge === undefined ? undefined : options.maxTokenAge + (options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE);
    const sources = (['jwks', 'jwksUri', 'publicKey', 'secret', 'keys'] as const).filter((s) => options[s] !== undefined);
    if (sources.length !== 1) throw new ConfigError('keys', 'give exactly one of jwks, jwksUri, publicKey, secret, keys');
    if (options.keys !== undefined) {
      if (typeof options.keys !== 'function') throw new ConfigError('keys', 'must be a function returning a Key or a KeySet');
      this.keySource = options.keys;
    } else if (options.jwksUri !== undefined) {
      this.remote = new RemoteJwks(options.jwksUri, options.algorithms, { now: options.now, ...options.jwksOptions });
    } else if (options.jwks !== undefined) {
      this.staticKeys =
        options.jwks instanceof KeySet ? options.jwks : parseJwks(options.jwks, { algorithms: options.algorithms });
    } else if (options.publicKey !== undefined) {
      const pk = options.publicKey;
      const single = options.algorithms.length === 1 ? { alg: options.algorithms[0]! } : {};
      this.staticKeys = (pk instanceof Key ? pk : importKey(pk, single)).publicKey();
    } else {
      const alg = options.algorithms.find((a) => a.startsWith('HS'));
      if (!alg || options.algorithms.length !== 1)
        throw new ConfigError('secret', 'a secret needs algorithms to be exactly one of HS256, HS384, HS512');
      this.staticKeys = importSecret(options.secret!, { alg: alg as 'HS256' });
    }
    const cache = options.cache ?? {};
    if (cache !== false) {
      const max = cache.maxEntries ?? DEFAULT_CACHE_ENTRIES;
      if (!Number.isInteger(max) || max < 1) throw new ConfigError('cache.maxEntries', 'must be a positive integer');
      this.cache = new Lru(max);
    }
    if (options.isRevoked !== undefined && typeof options.isRevoked !== 'function')
      throw new ConfigError('isRevoked', 'must be a function');
    const hook = options.isRevoked;
    const list = options.revocations;
    this.isRevoked =
      list === undefined ? hook : hook === undefined ? (p) => list.isRevoked(p) : (p) => list.isRevoked(p) || hook(p);
    this.stopRevocations = list?.onRevocation((entry) => {
      const now = this.now();
      this.invalidate((p) => revokes(entry, p.claims, now));
    });
  }

  /**
   * Verifies a token and returns its Principal. Throws a TesseraError: a TokenError subclass when the
   * token is refused, KeysUnavailableError when no keys can be used (fail closed).
   */
  async verify(token: string): Promise<Principal> {
    const cache = this.cache;
    if (cache !== undefined) {
      const hit = this.cached(token);
      if (hit !== undefined) {
        if (hit.validUntil > this.now()) return this.checkRevoked(hit.principal);
        cache.delete(cacheKey(token));
      }
    }
    // The keys a `keys` function returns now are the ones the cache entry is tied to (see `cached`).
    const keys = this.staticKeys ?? (this.keySource !== undefined ? this.sourcedKeys(this.keySource) : undefined);
    const claims = keys !== undefined ? this.core.verifyAccessToken(token, keys).claims : await this.verifyRemote(token);
    const principal = this.checkRevoked(principalFromClaims(claims));
    cache?.set(cacheKey(token), { token, principal, keys, validUntil: this.validUntil(principal) });
    return principal;
  }

  /**
   * The synchronous fast path of `authorize`: the Principal when the header's token is in the verified-token
   * cache (still unexpired, not revoked, scopes checked), undefined when it needs a full verification.
   * Throws like `authorize` for a missing header or missing scopes.
   */
  authorizeCached(authorization: string | undefined | null, options: AuthorizeOptions = {}): Principal | undefined {
    if (this.cache === undefined) return undefined;
    // The common header, `Bearer <token>`, is looked up as it is; a token the cache holds verified once, so
    // it fits the grammar. Any other form goes through the strict parse.
    let hit =
      typeof authorization === 'string' && authorization.startsWith('Bearer ') ? this.cached(authorization.slice(7)) : undefined;
    if (hit === undefined) hit = this.cached(bearerToken(authorization));
    if (hit === undefined || hit.validUntil <= this.now()) return undefined;
    const principal = this.checkRevoked(hit.principal);
    if (options.scopes && options.scopes.length > 0) requireScopes(principal.scopes, options.scopes, options.mode ?? 'all');
    return principal;
  }

  /** Verifies the credential of an `Authorization: Bearer <token>` header and checks scopes. */
  async authorize(authorization: string | undefined | null, options: AuthorizeOptions = {}): Promise<Principal> {
    const principal = await this.verify(bearerToken(authorization));
    if (options.scopes && options.scopes.length > 0) requireScopes(principal.scopes, options.scopes, options.mode ?? 'all');
    return principal;
  }

  /** Drops cached verifications for which `predicate` is true (e.g. a revoked subject); returns how many. */
  invalidate(predicate: (principal: Principal) => boolean): number {
    if (!this.cache) return 0;
    let n = 0;
    for (const [key, entry] of [...this.cache.entries()]) {
      if (predicate(entry.principal)) {
        this.cache.delete(key);
        n++;
      }
    }
    return n;
  }

  /**
   * The cache entry of exactly this token, verified against the keys a `keys` function returns now. An entry
   * of other keys is left for the full verification to overwrite: its key may have been removed since.
   */
  private cached(token: string): CacheEntry | undefined {
    const entry = this.cache!.get(cacheKey(token));
    if (entry === undefined || entry.token !== token) return undefined;
    return this.keySource === undefined || this.keySource() === entry.keys ? entry : undefined;
  }

  /** What the `keys` function returns, checked: anything but a Key or a KeySet fails closed. */
  private sourcedKeys(source: () => Key | KeySet): Key | KeySet {
    const keys = source();
    if (keys instanceof KeySet || keys instanceof Key) return keys;
    throw new KeysUnavailableError('the keys function returned neither a Key nor a KeySet');
  }

  /**
   * Until when a verification may be reused: the token's exp, and with maxTokenAge no later than the first
   * instant at which a full verification refuses it as too old (its iat is then present: required).
   */
  private validUntil(p: Principal): number {
    const expiry = p.expiresAt * 1000;
    if (this.maxAge === undefined || p.issuedAt === undefined) return expiry;
    return Math.min(expiry, (Math.floor(p.issuedAt + this.maxAge) + 1) * 1000);
  }

  /** Entries in the verified-token cache. */
  get cacheSize(): number {
    return this.cache?.size ?? 0;
  }

  clearCache(): void {
    this.cache?.clear();
  }

  /** Stops background JWKS refreshes and cache invalidation by the revocation list (which stays open). */
  close(): void {
    this.remote?.close();
    this.stopRevocations?.();
  }

  private checkRevoked(p: Principal): Principal {
    if (this.isRevoked !== undefined && this.isRevoked(p)) throw new TokenRevokedError(p);
    return p;
  }

  private async verifyRemote(token: string) {
    const remote = this.remote!;
    const keys = await remote.getKeySet();
    try {
      return this.core.verifyAccessToken(token, keys).claims;
    } catch (err) {
      if (!(err instanceof KeyNotFoundError)) throw err;
      const next = await remote.refreshForUnknownKid();
      if (next === undefined || next === keys) throw err;
      return this.core.verifyAccessToken(token, next).claims;
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1). */
export function bearerToken(authorization: string | undefined | null): string {
  if (authorization === undefined || authorization === null || authorization === '') throw new TokenMissingError(false);
  const m = BEARER.exec(authorization);
  if (!m) {
    // Another scheme (Basic, ...) carries no bearer credential; a broken Bearer header is a bad request.
    if (/^bearer(\s|$)/i.test(authorization)) throw new TokenMissingError(true);
    throw new TokenMissingError(false);
  }
  return m[1]!;
}

export function createVerifier(options: VerifierOptions): Verifier {
  return new Verifier(options);
}
