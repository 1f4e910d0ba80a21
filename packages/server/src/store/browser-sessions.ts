import type { FamilyRevocation } from './refresh-families.js';
import type { Revocation } from './revocations.js';

/**
 * Browser sessions of the hosted login: who signed in at the authorization endpoint, and until when. The
 * cookie holds a random id; the store keeps only its keyed digest. Times are milliseconds since the epoch.
 */
export interface BrowserSession {
  /** Public, non-secret id (a UUID): how the admin API names the session. It opens nothing. */
  id: string;
  /** Keyed digest of the cookie's id (MasterKey.secretDigest); the cookie's id itself is never stored. */
  digest: string;
  userId: string;
  /** When the user last entered their password (OpenID Connect `auth_time`). */
  authTime: number;
  createdAt: number;
  /** Pushed forward on each use (the idle lifetime), never past `absoluteExpiresAt`. */
  idleExpiresAt: number;
  absoluteExpiresAt: number;
}

/**
 * What ending a browser session wrote: the refresh families bound to it (RefreshFamily.browserSessionId), each
 * revoked with the `family` record that announces it (its access tokens carry the family as `sid`).
 */
export interface SessionEnd {
  session: BrowserSession;
  revocations: Revocation[];
}

export interface BrowserSessionRepository {
  /**
   * Stores a session made at login. `replacing`, the session the browser came with (by its digest), is ended in
   * the same transaction as `end` ends one (deleted, the refresh families bound to it revoked with their records),
   * so that an id planted before the login never names the signed-in session (fixation), and a session left
   * behind by another login in the same browser takes its refresh tokens with it. Returns the revocation
   * records to announce (none when nothing was replaced).
   */
  create(
    session: BrowserSession,
    replacing?: { digest: string; reason: string; now: number; record: FamilyRevocation },
  ): Promise<Revocation[]>;
  /**
   * The live session with this digest, its idle expiry moved to `idleExpiresAt` (capped at its absolute
   * expiry); undefined when there is none or it has expired at `now`. One conditional update.
   */
  touch(digest: string, now: number, idleExpiresAt: number): Promise<BrowserSession | undefined>;
  /** The session with this public id, unless it has expired (idle or absolute) at `now`. */
  get(id: string, now: number): Promise<BrowserSession | undefined>;
  /** A user's sessions live at `now`, newest first. */
  listByUser(userId: string, now: number): Promise<BrowserSession[]>;
  /**
   * Ends a session (logout, an administrator's revoke), named by its cookie's digest or its public id: deleted, and
   * every live refresh family bound to it revoked with the record announcing it, in one transaction (families
   * that outlive the session are not bound to it). Undefined, nothing written, when there is no such session.
   */
  end(
    ref: { digest: string } | { id: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<SessionEnd | undefined>;
  /** Ends every session of a user (disabled, deleted); returns how many. */
  deleteByUser(userId: string): Promise<number>;
  /** Deletes sessions expired at `now`, at most `limit`; returns how many. */
  prune(now: number, limit: number): Promise<number>;
}
