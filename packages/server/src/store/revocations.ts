/** The revocation records: durable, numbered in commit order, forgotten once nothing they affect can be live. */

export type RevocationKind = 'jti' | 'subject' | 'client' | 'family';

export interface Revocation {
  /** Monotonically increasing sequence number. */
  seq: number;
  kind: RevocationKind;
  /** The jti, subject, client id or family id. */
  value: string;
  /** For subject and client cut-offs: tokens issued before this time (ms) are revoked. */
  cutoff: number | null;
  /** When the record can be forgotten (the last token it can affect has expired). */
  expiresAt: number;
  createdAt: number;
  reason: string;
}

export interface RevocationRepository {
  /**
   * Adds a record on its own. A record that announces a change of other state (a family revoked, every session of a
   * user cut off) is written by that change's method, in its transaction (see RefreshFamilyRepository).
   */
  add(r: Omit<Revocation, 'seq'>): Promise<Revocation>;
  /** Records still in force at `now`, in sequence order, those after `afterSeq` (default: all). */
  list(now: number, afterSeq?: number): Promise<Revocation[]>;
  /** Forgets records whose expiresAt has passed; returns how many. */
  prune(now: number): Promise<number>;
}
