import { createHash } from 'node:crypto';

import {
  DEFAULT_DPOP_FUTURE_SKEW,
  DPOP_ALGORITHMS,
  DpopNonceError,
  DpopProofError,
  DpopProofVerifier,
  type VerifiedDpopProof,
} from '@tessera/core';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';

import type { Config } from '../config/schema.js';
import type { MasterKey } from '../security/master-key.js';
import { OAuthError } from './errors.js';

/** The algorithms a DPoP proof may be signed with: the checker's (discovery's `dpop_signing_alg_values_supported`). */
export const DPOP_SIGNING_ALGORITHMS: readonly string[] = DPOP_ALGORITHMS;
/** A server nonce (RFC 9449 section 8) is good for the window it was made in and the next one. */
export const DPOP_NONCE_WINDOW_MS = 60_000;
/** The response header that hands a client the nonce to put in its next proof. */
export const DPOP_NONCE_HEADER = 'dpop-nonce';

/** Proofs one instance remembers at most: 500,000 proofs in a 66-second window is 7,500 token requests a second. */
export const MAX_REMEMBERED_PROOFS = 500_000;

/** What remembering a proof's jti found: its first use, a replay, or no room to remember it (refused too). */
export type ProofUse = 'first' | 'replay' | 'full';

/**
 * The jti of every proof this instance accepted, kept until no proof of that iat could be accepted any more, so a
 * proof is used once. In memory, bounded: expired entries go (swept at most once a second when full, so that a full
 * memory costs no scan per request); full of live ones, a new proof is refused rather than a live one forgotten (a
 * replay could then pass). One instance's view.
 */
export class MemoryProofJtis {
  private readonly seen = new Map<string, number>();
  private sweptAt = -Infinity;

  constructor(private readonly max = MAX_REMEMBERED_PROOFS) {}

  use(key: string, expiresAt: number, now: number): ProofUse {
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return 'replay';
    if (until === undefined && this.seen.size >= this.max) {
      if (now - this.sweptAt < 1000) return 'full';
      this.sweptAt = now;
      for (const [k, expiry] of this.seen) if (expiry <= now) this.seen.delete(k);
      if (this.seen.size >= this.max) return 'full';
    }
    this.seen.set(key, expiresAt);
    return 'first';
  }

  /** Whether this instance has a live record of `key` (a proof it accepted, with Redis or without). */
  has(key: string, now: number): boolean {
    const until = this.seen.get(key);
    return until !== undefined && until > now;
  }

  /** Remembers a proof another store has already found new, if there is room (no refusal: that store decided). */
  note(key: string, expiresAt: number): void {
    if (this.seen.size < this.max) this.seen.set(key, expiresAt);
  }
}

/**
 * The jti of accepted proofs across instances: `SET NX PX` in Redis (the first instance to set the key wins), and
 * this instance's own memory as well, which answers alone while Redis cannot be reached (as the rate limits do:
 * security/redis-limits.ts), so that a replay is then refused per instance, never let through everywhere. With Redis
 * up, Redis decides what is new (the instance's memory bound does not cap the cluster's rate), and the instance's
 * memory still refuses a proof it accepted itself (one spent while Redis was down is in its memory only).
 */
export class ProofJtis {
  private warned = -Infinity;

  constructor(
    private readonly local: MemoryProofJtis,
    private readonly redis: Redis | undefined,
    private readonly log: FastifyBaseLogger,
  ) {}

  async use(key: string, expiresAt: number, now: number): Promise<ProofUse> {
    if (!this.redis) return this.local.use(key, expiresAt, now);
    // A proof this instance accepted while Redis was down is in its memory only: Redis would take it as new.
    if (this.local.has(key, now)) return 'replay';
    try {
      const set = await this.redis.set(`tessera:dpop:jti:${key}`, '1', 'PX', Math.max(expiresAt - now, 1), 'NX');
      if (set !== 'OK') return 'replay';
      this.local.note(key, expiresAt);
      return 'first';
    } catch (err) {
      if (now - this.warned > 60_000) {
        this.warned = now;
        this.log.warn({ error: (err as Error).message }, 'dpop: redis unreachable, proof jti checked on this instance only');
      }
      return this.local.use(key, expiresAt, now);
    }
  }
}

/**
 * DPoP at the token endpoint (RFC 9449 section 5), one per server instance: the proof checker (core's
 * DpopProofVerifier, with the `dpopProofMaxAge` window), the single use of each proof's jti (memory, and Redis across
 * instances), and the server nonces when `dpopNonce` is on: HMAC of the master key over the minute, the current and
 * the previous one accepted, so that every instance sharing the master key agrees without shared state.
 */
export class TokenEndpointDpop {
  readonly verifier: DpopProofVerifier;
  private readonly lifetimeMs: number;

  constructor(
    private readonly config: Config,
    private readonly master: MasterKey,
    private readonly jtis: ProofJtis,
    private readonly now: () => number,
  ) {
    this.verifier = new DpopProofVerifier({ maxAge: config.dpopProofMaxAge, now });
    // A proof of the latest acceptable iat is accepted until iat + maxAge: its jti is kept that long, and a second more.
    this.lifetimeMs = (config.dpopProofMaxAge + DEFAULT_DPOP_FUTURE_SKEW + 1) * 1000;
  }

  /** The nonce a client should put in its next proof; undefined when nonces are off. */
  nonce(): string | undefined {
    if (!this.config.dpopNonce) return undefined;
    return this.master.dpopNonce(Math.floor(this.now() / DPOP_NONCE_WINDOW_MS));
  }

  private acceptedNonces(): string[] | undefined {
    if (!this.config.dpopNonce) return undefined;
    const window = Math.floor(this.now() / DPOP_NONCE_WINDOW_MS);
    return [this.master.dpopNonce(window), this.master.dpopNonce(window - 1)];
  }

  /**
   * The request's proof, checked for POST `${issuer}${path}` (the token endpoint, or PAR: RFC 9449 section 10.1)
   * without `ath`, its jti not yet spent (`spend`); undefined when the request has no DPoP header. Refuses (OAuthError
   * `invalid_dpop_proof`, or `use_dpop_nonce`) a repeated header, a proof that does not verify, and one without a
   * current nonce when nonces are on. The token endpoint checks the proof before client authentication (a
   * use_dpop_nonce refusal spends no single-use assertion) and spends it after (a caller who is no client cannot fill
   * the memory of spent proofs).
   */
  verify(req: FastifyRequest, path: '/oauth/token' | '/oauth/par'): VerifiedDpopProof | undefined {
    const proof = dpopHeader(req);
    if (proof === undefined) return undefined;
    let verified: VerifiedDpopProof;
    try {
      verified = this.verifier.verifyProof(proof, {
        method: 'POST',
        url: `${this.config.issuer}${path}`,
        ...(this.config.dpopNonce ? { nonces: this.acceptedNonces() } : {}),
      });
    } catch (err) {
      if (err instanceof DpopNonceError)
        throw new OAuthError('use_dpop_nonce', 'the DPoP proof must carry the nonce of the DPoP-Nonce header');
      if (err instanceof DpopProofError) throw new OAuthError('invalid_dpop_proof', `DPoP proof refused: ${err.message}`);
      throw err;
    }
    return verified;
  }

  /**
   * Spends a checked proof's jti: refused (`invalid_dpop_proof`) when it was used already, and (503
   * `temporarily_unavailable`) when this instance cannot remember one more proof now.
   */
  async spend(verified: VerifiedDpopProof): Promise<void> {
    const now = this.now();
    // Per key: a jti chosen by one key's holder never burns another's.
    const key = createHash('sha256').update(`${verified.jkt}\u0000${verified.jti}`).digest('base64url');
    const use = await this.jtis.use(key, verified.iat * 1000 + this.lifetimeMs, now);
    if (use === 'replay') throw new OAuthError('invalid_dpop_proof', 'DPoP proof refused: its jti was used already');
    if (use === 'full')
      throw new OAuthError(
        'temporarily_unavailable',
        'too many DPoP proofs to remember now; retry with a new proof shortly',
        503,
      );
  }

  /** `verify` and `spend` in one: the proof of a request whose client is already authenticated (PAR). */
  async check(req: FastifyRequest, path: '/oauth/token' | '/oauth/par'): Promise<VerifiedDpopProof | undefined> {
    const verified = this.verify(req, path);
    if (verified !== undefined) await this.spend(verified);
    return verified;
  }

  /** Sets the next nonce on a response (success or refusal) when nonces are on. */
  offerNonce(reply: FastifyReply): void {
    const nonce = this.nonce();
    if (nonce !== undefined) reply.header(DPOP_NONCE_HEADER, nonce);
  }
}

/**
 * The request's one DPoP header (RFC 9449 section 4.3: exactly one); undefined when there is none. A repeated
 * header, or one that is not a single compact JWS, is refused as `invalid_dpop_proof`.
 */
export function dpopHeader(req: FastifyRequest): string | undefined {
  let found: string | undefined;
  const raw = req.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'dpop') continue;
    if (found !== undefined) throw new OAuthError('invalid_dpop_proof', 'exactly one DPoP header is allowed');
    found = raw[i + 1]!;
  }
  if (found === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(found))
    throw new OAuthError('invalid_dpop_proof', 'the DPoP header is not a compact JWS');
  return found;
}
