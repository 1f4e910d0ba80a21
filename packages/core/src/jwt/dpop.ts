import { createHash } from 'node:crypto';

import {
  ConfigError,
  DpopNonceError,
  DpopProofError,
  KeyInvalidError,
  TesseraError,
  TokenClaimError,
  TokenTypeError,
  UnsupportedHeaderError,
} from '../errors.js';
import { importJwk } from '../key/import.js';
import type { Key } from '../key/key.js';
import { jwkThumbprint } from '../key/thumbprint.js';
import { epochSeconds } from '../lib/clock.js';
import { CLIENT_ASSERTION_ALGORITHMS } from './client-assertion.js';
import { normalizeType } from './profile.js';
import type { JwsHeader } from './types.js';
import { clockOption, JwsVerifier, nonNegative } from './verify.js';

/** The `typ` of a DPoP proof (RFC 9449 section 4.2). */
export const DPOP_PROOF_TYPE = 'dpop+jwt';
/** Asymmetric algorithms only: a proof is signed with the client's own key pair. */
export const DPOP_ALGORITHMS = CLIENT_ASSERTION_ALGORITHMS;
/** Seconds a proof's iat may lie in the past by default. */
export const DEFAULT_DPOP_MAX_AGE = 60;
/** Seconds a proof's iat may lie in the future by default (clock skew). */
export const DEFAULT_DPOP_FUTURE_SKEW = 5;
/** Longest jti accepted: the checker remembers each one for the proof's lifetime. */
export const MAX_DPOP_JTI_LENGTH = 256;
const JWK_MEMBERS_PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Proof keys kept imported, by the header that carries them: a client reuses its key for every proof. */
const KEY_CACHE_SIZE = 1_000;

export interface DpopProofVerifyOptions {
  /** Allowlist, a subset of DPOP_ALGORITHMS. Default: all of them. */
  algorithms?: readonly string[];
  /** Seconds a proof's iat may lie in the past. Default 60. */
  maxAge?: number;
  /** Seconds a proof's iat may lie in the future. Default 5. */
  futureSkew?: number;
  /** Longest proof accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  /** Clock in milliseconds; defaults to Date.now. */
  now?: () => number;
}

/** What the request the proof comes with must match. */
export interface DpopRequest {
  /** The HTTP method, as sent (`POST`). */
  method: string;
  /** The request's URL as the client addressed it (scheme, host, port, path); query and fragment are ignored. */
  url: string;
  /** The access token presented with the proof: the proof's `ath` must be its SHA-256 (resource requests). */
  accessToken?: string;
  /** The JWK thumbprint the access token is bound to (`cnf.jkt`): the proof's key must be that key. */
  jkt?: string;
  /** Nonces the server accepts now: the proof must carry one of them. Unset: no nonce required. */
  nonces?: readonly string[];
}

export interface VerifiedDpopProof {
  header: JwsHeader;
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what `cnf.jkt` binds. */
  jkt: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  claims: Record<string, unknown>;
}

/** The SHA-256 of an access token as a proof's `ath` carries it (RFC 9449 section 4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * An HTTP URI in the form DPoP compares `htu` in (RFC 9449 section 4.3, RFC 3986 section 6.2.2 and 6.2.3): scheme
 * and host lowercased, the default port dropped, an empty path as `/`, percent-encodings of unreserved characters
 * decoded and the others uppercased, query and fragment dropped. undefined for what is not an http(s) URL.
 */
export function normalizeHtu(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  if (u.username !== '' || u.password !== '') return undefined;
  // WHATWG URL already lowercases scheme and host, drops default ports and makes an empty path `/`.
  const path = u.pathname.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  return `${u.protocol}//${u.host}${path}`;
}

function refuse(reason: string, message: string): never {
  throw new DpopProofError(reason, message);
}

/**
 * Strict verification of DPoP proofs (RFC 9449 section 4.3): compact JWS by the same machinery as every token
 * (size cap, canonical base64url, strict JSON, alg allowlist, no crit), `typ` exactly `dpop+jwt`, the public key in
 * `jwk` (no private member, its alg the header's), signature by that key; then `jti` (1 to 256 characters), `htm`
 * equal to the method, `htu` equal to the request URL (normalized, without query and fragment), `iat` within the
 * window, `ath` the access token's hash when one is presented, the key's thumbprint the bound one, and the nonce.
 * Single use of the jti is the caller's (it needs a store, in memory or shared).
 */
export class DpopProofVerifier extends JwsVerifier {
  private readonly maxAge: number;
  private readonly futureSkew: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, { key: Key; jkt: string }>();

  constructor(options: DpopProofVerifyOptions = {}) {
    const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
    if (!Array.isArray(algorithms) || algorithms.length === 0) throw new ConfigError('algorithms', 'name at least one algorithm');
    for (const a of algorithms)
      if (!(DPOP_ALGORITHMS as readonly string[]).includes(a))
        throw new ConfigError('algorithms', 'DPoP proofs are signed with asymmetric algorithms only');
    super({ algorithms: algorithms as typeof DPOP_ALGORITHMS, maxTokenLength: options.maxTokenLength });
    this.maxAge = nonNegative('maxAge', options.maxAge, DEFAULT_DPOP_MAX_AGE);
    this.futureSkew = nonNegative('futureSkew', options.futureSkew, DEFAULT_DPOP_FUTURE_SKEW);
    this.now = clockOption(options.now);
  }

  /** Verifies `proof` for `request`. Throws DpopProofError (or DpopNonceError for a missing or stale nonce). */
  verifyProof(proof: string, request: DpopRequest): VerifiedDpopProof {
    let known, key: Key, claims: Record<string, unknown>;
    let jkt = '';
    try {
      const at = this.split(proof);
      known = this.header(proof, at.headerEnd);
      claims = this.parseObject(proof.slice(at.headerEnd + 1, at.signingInputLength), 'payload');
      const segment = known.segment;
      // The header rules (alg allowlist, typ, crit) first; then the key the header carries.
      key = this.checkHeaderAndKey(known, (header) => {
        const entry = this.proofKey(segment, header);
        jkt = entry.jkt;
        return entry.key;
      });
      this.checkSignature(proof, at.signingInputLength, key);
    } catch (err) {
      if (err instanceof DpopProofError) throw err;
      if (err instanceof TesseraError)
        throw new DpopProofError(err.code, `the DPoP proof is not a valid JWS: ${err.message}`, { cause: err });
      throw err;
    }
    const { jti, htm, htu, iat, ath, nonce } = claims;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_DPOP_JTI_LENGTH)
      refuse('jti', `jti must be a string of 1 to ${MAX_DPOP_JTI_LENGTH} characters`);
    if (htm !== request.method) refuse('htm', 'htm is not the request method');
    const expected = normalizeHtu(request.url);
    if (expected === undefined) throw new ConfigError('url', 'the request URL is not an http(s) URL');
    if (typeof htu !== 'string' || normalizeHtu(htu) !== expected) refuse('htu', 'htu is not the request URL');
    if (typeof iat !== 'number' || !Number.isFinite(iat)) refuse('iat', 'iat must be a NumericDate');
    const now = epochSeconds(this.now());
    if (iat > now + this.futureSkew) refuse('iat', 'the proof was issued in the future');
    if (iat < now - this.maxAge) refuse('iat', 'the proof is too old');
    if (request.accessToken !== undefined) {
      if (typeof ath !== 'string' || ath !== accessTokenHash(request.accessToken))
        refuse('ath', 'ath is not the hash of the access token');
    }
    if (request.jkt !== undefined && jkt !== request.jkt) refuse('jkt', "the proof's key is not the key the token is bound to");
    if (request.nonces !== undefined && (typeof nonce !== 'string' || !request.nonces.includes(nonce)))
      throw new DpopNonceError();
    return { header: known.header, jkt, jti: jti as string, iat: iat as number, claims };
  }

  protected override checkType(header: JwsHeader): void {
    if (typeof header.typ !== 'string' || normalizeType(header.typ) !== DPOP_PROOF_TYPE)
      throw new TokenTypeError('a DPoP proof has typ dpop+jwt');
  }

  /** The proof's public key from its `jwk` header, imported once per header segment. */
  private proofKey(segment: string, header: JwsHeader): { key: Key; jkt: string } {
    const cached = this.keys.get(segment);
    if (cached !== undefined) return cached;
    const jwk = header.jwk;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
      refuse('jwk', 'the proof header must carry the public key as jwk');
    const j = jwk as Record<string, unknown>;
    if (JWK_MEMBERS_PRIVATE.some((m) => j[m] !== undefined)) refuse('jwk', 'the jwk must be a public key');
    if (typeof header.alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(header.alg))
      throw new UnsupportedHeaderError('alg', 'alg is not a DPoP algorithm');
    let entry: { key: Key; jkt: string };
    try {
      entry = { key: importJwk(j, { alg: header.alg as (typeof DPOP_ALGORITHMS)[number] }), jkt: jwkThumbprint(j) };
    } catch (err) {
      if (err instanceof KeyInvalidError) refuse('jwk', `the jwk is not a usable ${header.alg} public key: ${err.message}`);
      throw err;
    }
    if (this.keys.size >= KEY_CACHE_SIZE) this.keys.clear();
    this.keys.set(segment, entry);
    return entry;
  }
}

/** `cnf.jkt` of a claims set, if it has one (RFC 9449 section 6.1). */
export function boundJkt(claims: Record<string, unknown>): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  if (jkt !== undefined && typeof jkt !== 'string') throw new TokenClaimError('cnf', 'type', 'cnf.jkt must be a string');
  return jkt as string | undefined;
}

/** An RFC 8705 `x5t#S256`: the base64url SHA-256 of a certificate, 43 characters without padding. */
const X5T_S256 = /^[A-Za-z0-9_-]{43}$/;

/**
 * `cnf["x5t#S256"]` of a claims set, if it has one (RFC 8705 section 3.1): the thumbprint of the client
 * certificate the token is bound to (`certificateThumbprint`). Strict, since a binding misread would make the
 * token a bearer token: a `cnf` that is not a JSON object, or an `x5t#S256` that is not a 43-character base64url
 * string, is a TokenClaimError.
 */
export function boundCertificateThumbprint(claims: Record<string, unknown>): string | undefined {
  const cnf = claims.cnf;
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
    throw new TokenClaimError('cnf', 'type', 'cnf must be a JSON object');
  const x5t = (cnf as Record<string, unknown>)['x5t#S256'];
  if (x5t !== undefined && (typeof x5t !== 'string' || !X5T_S256.test(x5t)))
    throw new TokenClaimError('cnf', 'type', 'cnf.x5t#S256 must be a base64url SHA-256 thumbprint (43 characters)');
  return x5t as string | undefined;
}
