/**
 * Browser sessions of the hosted login: who signed in at the authorization endpoint, and until when. The
 * cookie holds a random id; the store keeps only its keyed digest. Times are milliseconds since the epoch.
 */
export interface BrowserSession {
  /** Keyed digest of the cookie's id (MasterKey.secretDigest); the id itself is never stored. */
  digest: string;
  userId: string;
  /** When the user last entered their password (OpenID Connect `auth_time`). */
  authTime: number;
  createdAt: number;
  /** Pushed forward on each use (the idle lifetime), never past `absoluteExpiresAt`. */
  idleExpiresAt: number;
  absoluteExpiresAt: number;
}

export interface BrowserSessionRepository {
  /**
   * Stores a session made at login. `replacing`, the digest of the session the browser came with, is deleted in
   * the same transaction, so that an id planted before the login never names the signed-in session (fixation).
   */
  create(session: BrowserSession, replacing?: string): Promise<void>;
  /**
   * The live session with this digest, its idle expiry moved to `idleExpiresAt` (capped at its absolute
   * expiry); undefined when there is none or it has expired at `now`. One conditional update.
   */
  touch(digest: string, now: number, idleExpiresAt: number): Promise<BrowserSession | undefined>;
  /** Ends a session (logout); false if there was none. */
  delete(digest: string): Promise<boolean>;
  /** Ends every session of a user (disabled, deleted); returns how many. */
  deleteByUser(userId: string): Promise<number>;
  /** Deletes sessions expired at `now`, at most `limit`; returns how many. */
  prune(now: number, limit: number): Promise<number>;
}
