import { timingSafeEqual } from 'node:crypto';

import {
  AccessTokenVerifier,
  certificateThumbprint,
  ConfigError,
  DEFAULT_CLOCK_TOLERANCE,
  DEFAULT_DPOP_MAX_AGE,
  DPOP_ALGORITHMS,
  DpopProofError,
  DpopProofVerifier,
  EncryptionKey,
  importEncryptionJwk,
  isCompactJwe,
  JweDecrypter,
  JweUnsupportedError,
  normalizeHtu,
  importKey,
  importSecret,
  Key,
  KeyNotFoundError,
  KeySet,
  parseJwks,
  requireScopes,
  type AccessTokenVerifyOptions,
  type Algorithm,
  type ContentEncryption,
  type KeyManagementAlgorithm,
  type JsonWebKeySet,
  type ScopeMode,
  type TokenProfile,
} from '@tessera/core';

import { context, trace, type Span } from '@opentelemetry/api';

import { hasRoom, MAX_ENTRIES } from './bounded-map.js';
import { DpopReplayError, KeysUnavailableError, TokenBindingError, TokenMissingError, TokenRevokedError } from './errors.js';
import { Lru } from './lru.js';
import { principalFromClaims, type Principal } from './principal.js';
import { RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js';
import type { RevocationList } from './revocation/list.js';
import { revokes } from './revocation/set.js';
import { endFailed, endOk, markBinding, markCached, startVerifySpan } from './telemetry.js';

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

  /**
   * This service's private keys for encrypted access tokens (nested JWTs, RFC 9068 section 2.1: a signed token
   * encrypted to this service): EncryptionKeys, or private JWKs (`use: enc`, with `alg`). A token is then
   * decrypted (the strict JweDecrypter: exact alg and enc allowlists) and the signed token inside verified as
   * every token is. Only encrypted tokens are accepted unless `decryption.acceptUnencrypted` is true.
   */
  decryptionKeys?: EncryptionKey | readonly (EncryptionKey | Record<string, unknown>)[];
  /** How tokens are decrypted; only with `decryptionKeys`. */
  decryption?: DecryptionOptions;

  /**
   * DPoP (RFC 9449) sender-constrained tokens, accepted by `verifyRequest` beside bearer tokens: on by
   * default; `false` refuses the `DPoP` scheme (a token bound to a key is then refused everywhere).
   */
  dpop?: false | DpopOptions;
  /**
   * Server nonces (RFC 9449 section 9) a DPoP proof must carry: the nonces accepted now, or a function
   * returning them (called per proof, so that they can rotate). The first is the one handed out in `DPoP-Nonce`
   * with a `use_dpop_nonce` refusal. Unset: no nonce required.
   */
  dpopNonce?: readonly string[] | (() => readonly string[]);
  /**
   * The origin clients address this service at, e.g. `https://api.example.com`, when it runs behind a proxy
   * or load balancer: a DPoP proof's `htu` is compared with this origin and the request's path. Unset: the
   * request's own scheme and `Host` header (set this in production: the Host header is the client's to choose).
   */
  externalOrigin?: string;
}

export interface DecryptionOptions {
  /** Key management algorithms accepted; default those of the decryption keys (never RSA1_5 or PBES2). */
  algorithms?: readonly KeyManagementAlgorithm[];
  /** Content encryptions accepted; default `['A256GCM']`. */
  encryptions?: readonly ContentEncryption[];
  /** Accept `alg: dir` (a secret shared with the issuer). Default false. */
  allowDir?: boolean;
  /** Accept signed tokens that are not encrypted as well. Default false: with decryption keys, only encrypted ones. */
  acceptUnencrypted?: boolean;
}

export interface DpopOptions {
  /** Algorithms a proof may be signed with, a subset of DPOP_ALGORITHMS (advertised in the `algs` challenge). */
  algorithms?: readonly string[];
  /** Seconds a proof's iat may lie in the past. Default 60. */
  maxAge?: number;
  /** Seconds a proof's iat may lie in the future. Default 5. */
  futureSkew?: number;
  /**
   * Proofs remembered against replay until their iat window closes (bounded memory). Default 100,000; when
   * full of live proofs the oldest tenth is forgotten.
   */
  maxProofs?: number;
}

/** What `verifyRequest` needs of an HTTP request: its credentials and where it went. */
export interface RequestCredentials {
  /** The Authorization header: `Bearer <token>` or `DPoP <token>`. */
  authorization: string | undefined | null;
  /** The DPoP header (the proof); more than one is refused. */
  dpop?: string | readonly string[] | undefined | null;
  /** The request method, as sent (`GET`). */
  method: string;
  /**
   * The request target: an absolute URL (a fetch Request's), or the path and query as received
   * (`/orders?page=2`, node:http's `req.url`), completed with `host` and `secure`.
   */
  url: string;
  /** The Host header, for an origin-form `url` (ignored with the verifier's `externalOrigin`). */
  host?: string | undefined;
  /** Whether the request came over TLS, for an origin-form `url`. */
  secure?: boolean;
  /**
   * The client certificate of the request's mutual-TLS connection (RFC 8705), DER: the bytes, or a function
   * returning them (undefined when the client presented none), called only for a token bound to a certificate
   * (`cnf["x5t#S256"]`), which is accepted only when this certificate has its thumbprint. Unset: such a token is
   * refused. Only a certificate the TLS handshake proved the client holds the key of belongs here.
   */
  certificate?: Uint8Array | (() => Uint8Array | undefined) | undefined | null;
  /**
   * The thumbprint of a DPoP key the connection this request arrives on has already proved it holds (a WebSocket
   * that connected with a proof of that key): a token bound to exactly this key is then taken without a proof of
   * its own, in the Bearer scheme (the connection is the sender constraint). Any other bound token still needs its
   * proof. Only a key a proof on this very connection was checked for belongs here.
   */
  provenKey?: string;
}

/** The DPoP part of a refusal's challenge, for the refusal writer (`rejection`). */
export interface DpopChallenge {
  /** Algorithms a proof may be signed with (`algs`). */
  algorithms: readonly string[];
  /** The scheme the refused request used: its error is reported under it. */
  scheme: 'Bearer' | 'DPoP';
  /** The nonce to hand out (`DPoP-Nonce`), when the verifier requires them. */
  nonce?: string;
}

export interface AuthorizeOptions {
  /** Scopes the caller must hold. */
  scopes?: readonly string[];
  /** `all` (default) or `any` of `scopes`. */
  mode?: ScopeMode;
}

const DEFAULT_CACHE_ENTRIES = 10_000;
const NO_OPTIONS: AuthorizeOptions = Object.freeze({});
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;
const DPOP_SCHEME = /^dpop(\s|$)/i;
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
  private readonly proofs: DpopProofVerifier | undefined;
  /** Algorithms of the DPoP challenge, or undefined when the DPoP scheme is not accepted. */
  readonly dpopAlgorithms: readonly string[] | undefined;
  /** Accepted proofs, `jkt jti` -> until when (ms) they could still be accepted: single use. */
  private readonly seenProofs = new Map<string, number>();
  private readonly maxProofs: number;
  private readonly proofWindow: number;
  private readonly nonces: (() => readonly string[]) | undefined;
  private readonly externalOrigin: string | undefined;
  private readonly decrypter: JweDecrypter | undefined;
  private readonly decryptionKeys: readonly EncryptionKey[] | undefined;
  private readonly acceptUnencrypted: boolean;

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
    const dpop = options.dpop ?? {};
    if (dpop !== false) {
      this.proofs = new DpopProofVerifier({
        algorithms: dpop.algorithms,
        maxAge: dpop.maxAge,
        futureSkew: dpop.futureSkew,
        now: options.now,
      });
      this.dpopAlgorithms = Object.freeze([...(dpop.algorithms ?? DPOP_ALGORITHMS)]);
      this.maxProofs = dpop.maxProofs ?? MAX_ENTRIES;
      if (!Number.isInteger(this.maxProofs) || this.maxProofs < 1)
        throw new ConfigError('dpop.maxProofs', 'must be a positive integer');
      this.proofWindow = ((dpop.maxAge ?? DEFAULT_DPOP_MAX_AGE) + 1) * 1000;
    } else {
      this.maxProofs = 0;
      this.proofWindow = 0;
    }
    this.nonces = nonceSource(options.dpopNonce);
    ({ decrypter: this.decrypter, keys: this.decryptionKeys, acceptUnencrypted: this.acceptUnencrypted } = decryptionOf(options));
    this.externalOrigin = options.externalOrigin === undefined ? undefined : origin(options.externalOrigin);
    this.stopRevocations = list?.onRevocation((entry) => {
      const now = this.now();
      this.invalidate((p) => revokes(entry, p.claims, now));
    });
  }

  /**
   * Verifies a token and returns its Principal. Throws a TesseraError: a TokenError subclass when the
   * token is refused, KeysUnavailableError when no keys can be used (fail closed). The token's binding is not
   * checked here: a caller of `verify` refuses a bound token itself (`principal.jkt`, `principal.x5t`), or uses
   * `authorize` / `verifyRequest`, which do.
   */
  verify(token: string): Promise<Principal> {
    return this.traced(token, undefined, NO_OPTIONS);
  }

  /**
   * A full verification (the cache consulted first) in one `tessera.verify` span, whichever public method the
   * adapter called: `verify` (`request` undefined: `credential` is the token), `authorize` (`request` null:
   * `credential` is the Authorization header, Bearer only) or `authorizeRequest` (`request`'s credentials). Every
   * failure, a synchronous one included, is a rejection.
   */
  private async traced(
    credential: string | undefined | null,
    request: RequestCredentials | undefined | null,
    options: AuthorizeOptions,
  ): Promise<Principal> {
    const span = startVerifySpan();
    try {
      let principal: Principal;
      if (request === undefined) principal = await this.verifyToken(credential as string, span);
      else if (request === null) principal = bearerOnly(await this.verifyToken(bearerToken(credential), span), undefined);
      else {
        const dpop = this.dpopToken(request.authorization);
        principal =
          dpop === undefined
            ? bearerOnly(await this.verifyToken(bearerToken(request.authorization), span), request.certificate, request.provenKey)
            : this.checkProof(await this.verifyToken(dpop, span), dpop, request);
      }
      return granted(span, principal, options);
    } catch (err) {
      endFailed(span, err);
      throw err;
    }
  }

  /**
   * `verify` within the `tessera.verify` span of the public method that called it (one span per verification,
   * whichever method the adapter used): marks it cached or not, and the token's binding once it is known.
   */
  private async verifyToken(token: string, span: Span): Promise<Principal> {
    const cache = this.cache;
    if (cache !== undefined) {
      const hit = this.cached(token);
      if (hit !== undefined) {
        if (hit.validUntil > this.now()) {
          markCached(span);
          markBinding(span, hit.principal);
          return this.checkRevoked(hit.principal);
        }
        cache.delete(cacheKey(token));
      }
    }
    // The keys a `keys` function returns now are the ones the cache entry is tied to (see `cached`).
    const keys = this.staticKeys ?? (this.keySource !== undefined ? this.sourcedKeys(this.keySource) : undefined);
    const signed = this.signedToken(token);
    const claims =
      keys !== undefined
        ? this.core.verifyAccessToken(signed, keys).claims
        : // The verification span is the parent of the JWKS fetch it may wait for.
          await context.with(trace.setSpan(context.active(), span), () => this.verifyRemote(signed));
    const verified = principalFromClaims(claims);
    markBinding(span, verified);
    const principal = this.checkRevoked(verified);
    cache?.set(cacheKey(token), { token, principal, keys, validUntil: this.validUntil(principal) });
    return principal;
  }

  /**
   * The synchronous fast path of `authorize`: the Principal when the header's token is in the verified-token
   * cache (still unexpired, not revoked, scopes checked), undefined when it needs a full verification.
   * Throws like `authorize` for a missing header or missing scopes.
   */
  authorizeCached(authorization: string | undefined | null, options: AuthorizeOptions = {}): Principal | undefined {
    let hit: CacheEntry | undefined;
    try {
      hit = this.bearerHit(authorization);
    } catch (err) {
      throw refusedBeforeLookup(err);
    }
    return hit === undefined ? undefined : this.answerHit(hit, undefined, undefined, options);
  }

  /**
   * The answer of a cache hit, in a `tessera.verify` span of its own (started only now: a miss, which goes on to
   * a full verification with a span of its own, leaves none): a bearer credential's (`dpop` undefined) or a DPoP
   * one's, its proof checked against `request`.
   */
  private answerHit(
    hit: CacheEntry,
    dpop: string | undefined,
    request: RequestCredentials | undefined,
    options: AuthorizeOptions,
  ): Principal {
    const span = startVerifySpan(true);
    try {
      markBinding(span, hit.principal);
      const p = this.checkRevoked(hit.principal);
      const principal =
        dpop === undefined ? bearerOnly(p, request?.certificate, request?.provenKey) : this.checkProof(p, dpop, request!);
      return granted(span, principal, options);
    } catch (err) {
      endFailed(span, err);
      throw err;
    }
  }

  /** The live cache entry of the token of a Bearer header, undefined when it needs a full verification. */
  private bearerHit(authorization: string | undefined | null): CacheEntry | undefined {
    if (this.cache === undefined) return undefined;
    // The common header, `Bearer <token>`, is looked up as it is; a token the cache holds verified once, so
    // it fits the grammar. Any other form goes through the strict parse.
    let hit =
      typeof authorization === 'string' && authorization.startsWith('Bearer ') ? this.cached(authorization.slice(7)) : undefined;
    if (hit === undefined) hit = this.cached(bearerToken(authorization));
    return hit === undefined || hit.validUntil <= this.now() ? undefined : hit;
  }

  /**
   * Verifies the credential of an `Authorization: Bearer <token>` header and checks scopes. A bound token is
   * refused here (TokenBindingError): one bound to a key (`cnf.jkt`) counts only with its proof, one bound to a
   * client certificate (`cnf["x5t#S256"]`) only on a mutual-TLS request with that certificate, through
   * `verifyRequest`.
   */
  authorize(authorization: string | undefined | null, options: AuthorizeOptions = {}): Promise<Principal> {
    return this.traced(authorization, null, options);
  }

  /**
   * Verifies the credential of a request, in either scheme: `Bearer <token>` as `authorize` does (a token bound
   * to a key refused), or `DPoP <token>` (RFC 9449): the token as every token (the verified-token cache
   * included), bound to a key, then its proof in the DPoP header: signed by that key, for this method and URL
   * (`externalOrigin` behind a proxy), for this token (`ath`), recent, never seen before by this verifier, with
   * a current nonce when `dpopNonce` is set. A token bound to a client certificate (RFC 8705, `cnf["x5t#S256"]`),
   * in either scheme, counts only when the request's `certificate` has its thumbprint; one bound both ways
   * needs both. Throws a TesseraError: DpopProofError, DpopNonceError and DpopReplayError for the proof, a
   * TokenError for the token (TokenBindingError for a binding the request does not satisfy).
   */
  verifyRequest(request: RequestCredentials): Promise<Principal> {
    return this.authorizeRequest(request);
  }

  /** `verifyRequest`, and the scopes the caller must hold. */
  authorizeRequest(request: RequestCredentials, options: AuthorizeOptions = {}): Promise<Principal> {
    return this.traced(undefined, request, options);
  }

  /**
   * The synchronous fast path of `authorizeRequest`: the Principal when the request's token is in the
   * verified-token cache (its DPoP proof and its certificate binding, if any, checked in full), undefined when
   * the token needs a full verification. Throws like `authorizeRequest`.
   */
  authorizeRequestCached(request: RequestCredentials, options: AuthorizeOptions = {}): Principal | undefined {
    if (this.cache === undefined) return undefined;
    let dpop: string | undefined;
    let hit: CacheEntry | undefined;
    try {
      dpop = this.dpopToken(request.authorization);
      if (dpop === undefined) hit = this.bearerHit(request.authorization);
      else {
        hit = this.cached(dpop);
        if (hit !== undefined && hit.validUntil <= this.now()) hit = undefined;
      }
    } catch (err) {
      throw refusedBeforeLookup(err);
    }
    return hit === undefined ? undefined : this.answerHit(hit, dpop, request, options);
  }

  /**
   * The DPoP part of the challenge of a refusal of a request with this Authorization header (for `rejection`),
   * undefined when this verifier does not accept the DPoP scheme. Carries the nonce to hand out, if any.
   */
  dpopChallenge(authorization: string | undefined | null): DpopChallenge | undefined {
    if (this.dpopAlgorithms === undefined) return undefined;
    const scheme = typeof authorization === 'string' && DPOP_SCHEME.test(authorization) ? 'DPoP' : 'Bearer';
    // The refusal is written whatever the nonce source does: a source that fails gives no nonce to hand out.
    let nonce: string | undefined;
    try {
      nonce = this.nonces?.()[0];
    } catch {
      nonce = undefined;
    }
    return nonce === undefined ? { algorithms: this.dpopAlgorithms, scheme } : { algorithms: this.dpopAlgorithms, scheme, nonce };
  }

  /** The token of a `DPoP <token>` header when this verifier accepts the scheme; undefined for any other header. */
  private dpopToken(authorization: string | undefined | null): string | undefined {
    if (this.proofs === undefined || typeof authorization !== 'string' || !DPOP_SCHEME.test(authorization)) return undefined;
    const m = DPOP.exec(authorization);
    if (!m) throw new TokenMissingError(true);
    return m[1]!;
  }

  /**
   * The DPoP proof of a request with a `DPoP <token>` header, checked against the verified token (and the
   * request's certificate first, for a token bound to one too: a refused request uses up no proof).
   */
  private checkProof(principal: Principal, token: string, request: RequestCredentials): Principal {
    if (principal.jkt === undefined) throw new TokenBindingError('unbound');
    certificateBound(principal, request.certificate);
    const header = request.dpop;
    if (header === undefined || header === null || header === '') throw new DpopProofError('missing', 'no DPoP proof');
    if (typeof header !== 'string') {
      if (header.length !== 1) throw new DpopProofError('multiple', 'more than one DPoP proof');
    }
    const proof = typeof header === 'string' ? header : header[0]!;
    const url = this.htu(request);
    const proven = this.proofs!.verifyProof(proof, {
      method: request.method,
      url,
      accessToken: token,
      jkt: principal.jkt,
      nonces: this.nonces?.(),
    });
    // Single use: remembered until the proof's iat window has closed (later, the iat check refuses it anyway).
    const now = this.now();
    const seen = `${proven.jkt} ${proven.jti}`;
    const until = this.seenProofs.get(seen);
    if (until !== undefined && until > now) throw new DpopReplayError();
    // A memory full of live proofs refuses the new one rather than forget one (which a replay could then pass).
    if (until === undefined && !hasRoom(this.seenProofs, (u) => u <= now, this.maxProofs)) throw new DpopReplayError();
    this.seenProofs.set(seen, proven.iat * 1000 + this.proofWindow);
    return principal;
  }

  /** The URL the client addressed: the external origin and the request's path, or the request's own. */
  private htu(request: RequestCredentials): string {
    const target = request.url;
    let url: string;
    if (target.startsWith('/')) {
      if (this.externalOrigin !== undefined) url = this.externalOrigin + target;
      else if (typeof request.host === 'string' && request.host !== '')
        url = `${request.secure === true ? 'https' : 'http'}://${request.host}${target}`;
      else throw new DpopProofError('htu', 'the request has no Host to compare htu with');
    } else if (this.externalOrigin !== undefined) {
      let u: URL;
      try {
        u = new URL(target);
      } catch {
        throw new DpopProofError('htu', 'the request URL cannot be read');
      }
      url = this.externalOrigin + u.pathname + u.search;
    } else url = target;
    // A Host header that makes no URL is a request no proof can match.
    if (normalizeHtu(url) === undefined) throw new DpopProofError('htu', 'the request URL is not an http(s) URL');
    return url;
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

  /**
   * The signed token to verify: with decryption keys, the one inside an encrypted token (a plain signed token
   * only with `acceptUnencrypted`); without, the token itself (an encrypted one is then refused as malformed).
   */
  private signedToken(token: string): string {
    if (this.decrypter === undefined) return token;
    if (!isCompactJwe(token)) {
      if (this.acceptUnencrypted) return token;
      throw new JweUnsupportedError('encryption', 'this service accepts encrypted tokens only');
    }
    return this.decrypter.decrypt(token, this.decryptionKeys!).jws;
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

/** A verified caller's answer: refused (ERR_INSUFFICIENT_SCOPE) without the scopes `options` name, its span ended ok. */
function granted(span: Span, principal: Principal, options: AuthorizeOptions): Principal {
  if (options.scopes && options.scopes.length > 0) requireScopes(principal.scopes, options.scopes, options.mode ?? 'all');
  endOk(span);
  return principal;
}

/** A request refused before its token was looked up (no usable Authorization header): its span, and the error. */
function refusedBeforeLookup(err: unknown): unknown {
  endFailed(startVerifySpan(), err);
  return err;
}

/** The decryption set-up of the options: the decrypter, the keys (imported), and whether plain tokens pass too. */
function decryptionOf(options: VerifierOptions): {
  decrypter: JweDecrypter | undefined;
  keys: readonly EncryptionKey[] | undefined;
  acceptUnencrypted: boolean;
} {
  const given = options.decryptionKeys;
  if (given === undefined) {
    if (options.decryption !== undefined) throw new ConfigError('decryption', 'needs decryptionKeys');
    return { decrypter: undefined, keys: undefined, acceptUnencrypted: true };
  }
  const list = given instanceof EncryptionKey ? [given] : Array.isArray(given) ? given : undefined;
  if (list === undefined || list.length === 0)
    throw new ConfigError('decryptionKeys', 'must be an EncryptionKey or a non-empty list of them (or of private JWKs)');
  const keys = Object.freeze(
    list.map((k: EncryptionKey | Record<string, unknown>) => (k instanceof EncryptionKey ? k : importEncryptionJwk(k))),
  );
  if (keys.some((k) => k.kind === 'public'))
    throw new ConfigError('decryptionKeys', 'a decryption key must be private (or a dir secret), not a public key');
  const d = options.decryption ?? {};
  const decrypter = new JweDecrypter({
    algorithms: d.algorithms ?? [...new Set(keys.map((k) => k.alg))],
    encryptions: d.encryptions,
    allowDir: d.allowDir,
    // The cap on a presented token holds for the encrypted token as received (the signed one inside is shorter).
    ...(options.maxTokenLength !== undefined ? { maxTokenLength: options.maxTokenLength } : {}),
  });
  return { decrypter, keys, acceptUnencrypted: d.acceptUnencrypted === true };
}

/**
 * A bearer credential's Principal: a token bound to a key must come with the DPoP scheme and its proof (or on a
 * connection that proved that very key, `provenKey`), a token bound to a client certificate with that certificate
 * (`certificate`, the request's; undefined without one).
 */
function bearerOnly(p: Principal, certificate: RequestCredentials['certificate'], provenKey?: string): Principal {
  if (p.jkt !== undefined && p.jkt !== provenKey) throw new TokenBindingError('bearer');
  return certificateBound(p, certificate);
}

/**
 * RFC 8705 section 3: a token bound to a client certificate (`x5t`) counts only when the request's mutual-TLS
 * certificate has that thumbprint, compared in constant time. The certificate is read (a function called)
 * only for such a token: an unbound one, the common case, costs nothing here.
 */
function certificateBound(p: Principal, certificate: RequestCredentials['certificate']): Principal {
  const bound = p.x5t;
  if (bound === undefined) return p;
  const der = typeof certificate === 'function' ? certificate() : certificate;
  if (!(der instanceof Uint8Array) || der.length === 0) throw new TokenBindingError('certificate');
  const given = Buffer.from(certificateThumbprint(der));
  const expected = Buffer.from(bound);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenBindingError('certificate');
  return p;
}

function nonceSource(option: VerifierOptions['dpopNonce']): (() => readonly string[]) | undefined {
  if (option === undefined) return undefined;
  const check = (list: unknown): readonly string[] => {
    if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === 'string' && n.length > 0))
      throw new ConfigError('dpopNonce', 'must be a non-empty list of non-empty strings, or a function returning one');
    return list as readonly string[];
  };
  if (typeof option === 'function') return () => check(option());
  const list = Object.freeze([...check(option)]);
  return () => list;
}

/** An `externalOrigin` setting as an origin (`https://api.example.com`), refused when it is anything more. */
function origin(value: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  if (
    u === undefined ||
    (u.protocol !== 'https:' && u.protocol !== 'http:') ||
    value.replace(/\/$/, '').toLowerCase() !== u.origin.toLowerCase()
  )
    throw new ConfigError('externalOrigin', 'must be an http(s) origin such as https://api.example.com, without a path');
  return u.origin;
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
