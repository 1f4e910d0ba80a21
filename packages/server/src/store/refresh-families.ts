import type { Revocation } from './revocations.js';

/** Refresh tokens, by family: each rotation spends a token and adds its successor to the same family. */

export interface RefreshFamily {
  id: string;
  userId: string;
  clientId: string;
  scope: string;
  audience: string[];
  createdAt: number;
  absoluteExpiresAt: number;
  lastUsedAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
  /**
   * The browser session the family ends with (started by an authorization code issued in it, without
   * `offline_access`): ending that session revokes the family. Null: the family outlives any browser session.
   */
  browserSessionId: string | null;
  /**
   * The DPoP key thumbprint (RFC 7638) the family is bound to (RFC 9449 section 5: a public client's refresh
   * tokens): each refresh must present a proof made with that key. Absent: not bound.
   */
  dpopJkt?: string;
  /**
   * The SHA-256 thumbprint (RFC 8705 `x5t#S256`) of the client certificate the family is bound to (RFC 8705 section
   * 4: a public client's refresh tokens): each refresh must come over mutual TLS with that certificate. Absent: not bound.
   */
  certificateThumbprint?: string;
}

export interface RefreshToken {
  /** Keyed digest of the token; the token itself is never stored. */
  digest: string;
  familyId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export type RotateResult =
  | { kind: 'rotated'; family: RefreshFamily }
  /**
   * The token was already used: the whole family is now revoked. `revocation` is the record that announces it,
   * present only for the call that wrote it (the first reuse), absent for every later replay.
   */
  | { kind: 'reused'; family: RefreshFamily; revocation?: Revocation }
  | { kind: 'invalid'; reason: 'unknown' | 'expired' | 'revoked' };

/** The record that announces a revocation of refresh-token families: how long it is kept, and why. */
export interface FamilyRevocation {
  expiresAt: number;
  reason: string;
}

/** What revoking everything of a user or client wrote: the families it revoked and the cut-off record. */
export interface CutOff {
  families: string[];
  revocation: Revocation;
}

export interface FamilyFilter {
  userId?: string;
  clientId?: string;
  /** Only the families live at this time (not revoked, not past their absolute expiry). */
  activeAt?: number;
}

/**
 * Every change here that revokes a family writes the revocation record announcing it in the same transaction:
 * both or neither.
 */
export interface RefreshFamilyRepository {
  /** Starts a family with its first token. */
  create(family: RefreshFamily, first: RefreshToken): Promise<void>;
  /**
   * Spends `digest` and stores `next` in its place, exactly once: of concurrent calls with one digest, one
   * rotates and the others see `reused` (and the family is revoked, announced by a `family` record).
   */
  rotate(digest: string, next: Omit<RefreshToken, 'familyId'>, now: number, reuse: FamilyRevocation): Promise<RotateResult>;
  /** The token and its family, whatever their state. */
  findToken(digest: string): Promise<{ token: RefreshToken; family: RefreshFamily } | undefined>;
  get(id: string): Promise<RefreshFamily | undefined>;
  /**
   * Binds an unbound family to a DPoP key (RFC 9449 section 5: a public client's refresh token is bound when it is
   * issued to a request with a proof). False when the family is bound already (to any key, or to a client
   * certificate) or does not exist.
   */
  bindDpopKey(id: string, jkt: string): Promise<boolean>;
  /** Newest first. */
  list(filter: FamilyFilter): Promise<RefreshFamily[]>;
  /**
   * Revokes a family and adds the `family` revocation record that announces it, in one transaction. Returns the
   * record when this call wrote it; undefined for an unknown family or one already announced. A family revoked
   * without its record (left so by a crash of an older version) is announced now.
   */
  revoke(familyId: string, reason: string, now: number, record: FamilyRevocation): Promise<Revocation | undefined>;
  /**
   * Revokes every live family of a user or client and adds the cut-off record (`subject` or `client`, cutoff =
   * now) that revokes their access tokens, in one transaction. Returns the revoked families' ids and the record.
   */
  revokeAllOf(
    owner: { userId: string } | { clientId: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<CutOff>;
}
