import type { RefreshFamily, RefreshToken } from './refresh-families.js';

/**
 * Authorization codes of the code flow: single use, short-lived, bound to the client, the redirect URI and the
 * PKCE challenge. Only the code's keyed digest is stored. Times are milliseconds since the epoch.
 */
export interface AuthorizationCode {
  /** Keyed digest of the code (MasterKey.secretDigest); the code itself is never stored. */
  digest: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  /** The S256 challenge the token request's code_verifier must answer. */
  codeChallenge: string;
  /** Space-separated, as granted when the code was issued. */
  scope: string;
  audience: string[];
  /** When the user entered their password (OpenID Connect `auth_time`). */
  authTime: number;
  createdAt: number;
  expiresAt: number;
  /** When the code was redeemed; null until then. */
  usedAt: number | null;
  /** The refresh-token family (the session) the redemption started; its access tokens carry it as `sid`. */
  familyId: string | null;
  /** The browser session the code was issued in (null only for codes issued before sessions had ids). */
  browserSessionId: string | null;
  /** OpenID Connect: the authorization request's `nonce`, repeated in the ID token; null when none was sent. */
  nonce: string | null;
  /** OpenID Connect `acr`: the authentication context class the login met; null: none stated. */
  acr: string | null;
  /** OpenID Connect `amr` (RFC 8176 values such as `pwd`): how the user authenticated; empty: not stated. */
  amr: string[];
  /** DPoP (RFC 9449 section 10): the key thumbprint the authorization request bound the code to. Absent: none. */
  dpopJkt?: string;
}

export interface AuthorizationCodeRepository {
  create(code: AuthorizationCode): Promise<void>;
  /** The code with this digest, whatever its state (a spent code is how a replay is recognised). */
  get(digest: string): Promise<AuthorizationCode | undefined>;
  /**
   * Spends the code and starts the family its tokens belong to (with its first refresh token, when there is
   * one), in one transaction: true for the one call that did; false when the code was already spent, has
   * expired at `now`, or does not exist, or its browser session is no longer live at `now` (then the code stays
   * unspent). Of concurrent calls for one code exactly one gets true. The session's row is locked in the
   * transaction, so a concurrent end of that session either sees the new family (and revokes it) or comes first.
   */
  redeem(digest: string, now: number, family: RefreshFamily, first: RefreshToken | undefined): Promise<boolean>;
  /** Deletes codes that expired before `before`, at most `limit`; returns how many. */
  prune(before: number, limit: number): Promise<number>;
}
