import { createHash } from 'node:crypto';

import {
  DEFAULT_DPOP_FUTURE_SKEW,
  DPOP_ALGORITHMS,
  DpopNonceError,
  DpopProofError,
  DpopProofVerifier,
  type VerifiedDpopProof,
} from '@tessera/core';
import { hasRoom } from '@tessera/verifier/internal';
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

/**
 * The jti of every proof this instance accepted, kept until no proof of that iat could be accepted any more, so a
 * proof is used once. In memory, bounded (expired entries go; full of live ones, a new proof is refused): one
 * instance's view.
 */
export class MemoryProofJtis {
  private readonly seen = new Map<string, number>();

  /** True the first time `key` is used before `expiresAt` (ms); false for a replay. */
  firstUse(key: string, expiresAt: number, now: number): boolean {
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    // Full of live proofs: the new one is refused rather than a live one forgotten (a replay could then pass).
    if (until === undefined && !hasRoom(this.seen, (expiry) => expiry <= now)) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
}

/**
 * The jti of accepted proofs across instances: `SET NX PX` in Redis (the first instance to set the key wins), and
 * this instance's own memory besides, which also answers while Redis cannot be reached (as the rate limits do:
 * security/redis-limits.ts), so that a replay is then refused per instance, never let through everywhere.
 */
export class ProofJtis {
  private warned = 0;

  constructor(
    private readonly local: MemoryProofJtis,
    private readonly redis: Redis | undefined,
    private readonly log: FastifyBaseLogger,
  ) {}

  async firstUse(key: string, expiresAt: number, now: number): Promise<boolean> {
    if (!this.local.firstUse(key, expiresAt, now)) return false;
    if (!this.redis) return true;
    try {
      const set = await this.redis.set(`tessera:dpop:jti:${key}`, '1', 'PX', Math.max(expiresAt - now, 1), 'NX');
      return set === 'OK';
    } catch (err) {
      if (now - this.warned > 60_000) {
        this.warned = now;
        this.log.warn({ error: (err as Error).message }, 'dpop: redis unreachable, proof jti checked on this instance only');
      }
      return true;
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
   * without `ath`, its jti spent; undefined when the request has no DPoP header. Refuses (OAuthError `invalid_dpop_proof`, or `use_dpop_nonce`) a repeated header, a
   * proof that does not verify, a replayed one and one without a current nonce when nonces are on.
   */
  async check(req: FastifyRequest, path: '/oauth/token' | '/oauth/par'): Promise<VerifiedDpopProof | undefined> {
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
    const now = this.now();
    // Per key: a jti chosen by one key's holder never burns another's.
    const key = createHash('sha256').update(`${verified.jkt}\u0000${verified.jti}`).digest('base64url');
    if (!(await this.jtis.firstUse(key, verified.iat * 1000 + this.lifetimeMs, now)))
      throw new OAuthError('invalid_dpop_proof', 'DPoP proof refused: its jti was used already');
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
