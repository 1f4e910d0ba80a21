/**
 * Authorization requests waiting for the user to sign in: /authorize checks the request, stores it here and
 * sends the login form a random reference to it; the store keeps only the reference's keyed digest. Pushed
 * authorization requests (RFC 9126, oauth/pushed-request.ts) wait here too, until /authorize takes them, under
 * the keyed digest of their whole `request_uri`. Times are milliseconds since the epoch.
 */
export interface PendingAuthorization {
  /** Keyed digest of the reference the login form carries (MasterKey.secretDigest). */
  digest: string;
  clientId: string;
  /** The checked request's parameters (redirect_uri, scope, state, code_challenge, response_mode, ...). */
  params: Record<string, string>;
  createdAt: number;
  expiresAt: number;
}

export interface AuthorizationRequestRepository {
  create(request: PendingAuthorization): Promise<void>;
  /** The request with this digest, unless it has expired at `now`. */
  get(digest: string, now: number): Promise<PendingAuthorization | undefined>;
  /**
   * Removes the request and returns it, unless it has expired at `now`: of concurrent calls for one request
   * exactly one gets it, so a request completes once.
   */
  take(digest: string, now: number): Promise<PendingAuthorization | undefined>;
  /** Deletes requests expired at `now`, at most `limit`; returns how many. */
  prune(now: number, limit: number): Promise<number>;
}
