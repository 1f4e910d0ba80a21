import type { CutOff, FamilyRevocation } from './refresh-families.js';

/** OAuth clients. Times are milliseconds since the epoch; lifetimes are seconds. */

/**
 * `none`: a public client (a browser or native app), which holds no secret and identifies itself by client_id.
 * `workload_identity`: a service that holds no secret either; it authenticates with a token its platform gave it
 * (Kubernetes, SPIFFE, a CI system), from a trusted workload issuer whose rule names this client.
 * `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 section 2): the client's certificate over mutual TLS,
 * issued by a CA the server trusts (`tlsClientCa`) for the registered subject, or one of the client's registered
 * self-signed certificates (its jwks' `x5c`).
 */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'workload_identity'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'none';
/** The mutual-TLS client authentication methods (RFC 8705 section 2). */
export const MTLS_AUTH_METHODS: readonly ClientAuthMethod[] = ['tls_client_auth', 'self_signed_tls_client_auth'];
/**
 * What a tls_client_auth client's certificate must name (RFC 8705 section 2.1.2): its subject DN (RFC 4514), or one
 * subjectAltName entry of a kind: dNSName, uniformResourceIdentifier, iPAddress or rfc822Name.
 */
export type TlsSubjectKind = 'subject_dn' | 'san_dns' | 'san_uri' | 'san_ip' | 'san_email';
export const TLS_SUBJECT_KINDS: readonly TlsSubjectKind[] = ['subject_dn', 'san_dns', 'san_uri', 'san_ip', 'san_email'];
export interface TlsClientAuthSubject {
  kind: TlsSubjectKind;
  value: string;
}
/** RFC 7523 section 2.1: a JWT as an authorization grant. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export type GrantType =
  | 'authorization_code'
  | 'client_credentials'
  | 'password'
  | 'refresh_token'
  | 'urn:ietf:params:oauth:grant-type:token-exchange'
  | typeof JWT_BEARER_GRANT;

/** Every value of each: what the admin service accepts, and what a stored client is checked against when read. */
export const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'workload_identity',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
];
export const GRANT_TYPES: readonly GrantType[] = [
  'authorization_code',
  'client_credentials',
  'password',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  JWT_BEARER_GRANT,
];

/**
 * Algorithms an ID token may be signed with: ES256 and EdDSA (the server's signing key, when it has that
 * algorithm) and RS256 (the key kept beside it, since OpenID Connect requires RS256 for interoperability).
 */
export type IdTokenAlg = 'ES256' | 'EdDSA' | 'RS256';
export const ID_TOKEN_ALGS: readonly IdTokenAlg[] = ['ES256', 'EdDSA', 'RS256'];

export interface ClientSecret {
  /** Keyed digest of the secret; the secret itself is never stored. */
  digest: string;
  createdAt: number;
  /** After a rotation the old secret stays valid until this time. */
  expiresAt: number | null;
}

export interface Client {
  id: string;
  name: string;
  authMethod: ClientAuthMethod;
  secrets: ClientSecret[];
  /** For private_key_jwt: the client's public JWKS; for self_signed_tls_client_auth, its certificates (`x5c`). */
  jwks: { keys: Record<string, unknown>[] } | null;
  grantTypes: GrantType[];
  /** Scopes the client may request. */
  scopes: string[];
  /** Audiences (resource identifiers) the client may request tokens for. */
  audiences: string[];
  /** First-party clients may use the password grant, and sign users in without a consent screen. */
  firstParty: boolean;
  /** Authorization code flow: where /authorize may send the user back, each compared exactly (RFC 8252 loopback: any port). */
  redirectUris: string[];
  /** Where the user may be sent after logging out (OpenID Connect RP-initiated logout), compared exactly. */
  postLogoutRedirectUris: string[];
  /** The client must push its authorization requests first (RFC 9126 `require_pushed_authorization_requests`). */
  requirePar: boolean;
  /**
   * DPoP (RFC 9449 section 5.2 `dpop_bound_access_tokens`): every token request of this client must carry a DPoP
   * proof, so its access tokens are always sender-constrained. Absent or false: a proof is optional.
   */
  dpopBoundAccessTokens?: boolean;
  /**
   * RFC 8705 section 3.4 `tls_client_certificate_bound_access_tokens`: the client's access tokens are bound to the
   * certificate of its mutual-TLS connection (`cnf.x5t#S256`); a token request without one is refused (unless a DPoP
   * proof binds the token instead). Absent or false: bound only when the client authenticates by its certificate.
   */
  tlsClientCertificateBoundAccessTokens?: boolean;
  /** tls_client_auth: the subject its certificate must name (exactly one, RFC 8705 section 2.1.2). Absent otherwise. */
  tlsClientAuthSubject?: TlsClientAuthSubject | null;
  /**
   * Token exchange: tokens this client obtains for a user carry no `act` claim (impersonation). Absent or
   * false: they name the client in `act` (delegation).
   */
  mayImpersonate?: boolean;
  /**
   * OpenID Connect: the algorithm of this client's ID tokens (RFC 7591 `id_token_signed_response_alg`). Absent
   * (or null in a patch): the server's signing algorithm.
   */
  idTokenSignedResponseAlg?: IdTokenAlg | null;
  accessTokenTtl: number | null;
  refreshTokenTtl: number | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type ClientPatch = Partial<Omit<Client, 'id' | 'createdAt'>>;

export interface ClientRepository {
  /** Throws StoreConflictError for a taken id. */
  create(client: Client): Promise<void>;
  /** Read by every token request. */
  get(id: string): Promise<Client | undefined>;
  /** Every client, by id. */
  list(): Promise<Client[]>;
  /** False if there is no such client. */
  update(id: string, patch: ClientPatch, now: number): Promise<boolean>;
  /** False if there was no such client. */
  delete(id: string): Promise<boolean>;
  /**
   * Replaces the client's secrets if they are still `expected` (compare and set): false if they changed meanwhile
   * or there is no such client, and nothing is written.
   */
  replaceSecrets(id: string, expected: readonly ClientSecret[], secrets: readonly ClientSecret[], now: number): Promise<boolean>;
  /**
   * Applies the patch and revokes everything the client holds (every live family, and the `client` cut-off record
   * that revokes its access tokens), in one transaction: both or neither. Undefined, nothing written, if there is
   * no such client.
   */
  updateAndCutOff(id: string, patch: ClientPatch, now: number, record: FamilyRevocation): Promise<CutOff | undefined>;
  /** Removes the client and revokes everything it holds, in one transaction (as updateAndCutOff). */
  deleteAndCutOff(id: string, now: number, record: FamilyRevocation): Promise<CutOff | undefined>;
}
