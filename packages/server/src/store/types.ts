/**
 * The Store contract: everything the auth server keeps. One implementation per database (SQLite and
 * PostgreSQL); test/store-contract.ts is the suite every implementation must pass unchanged.
 * Times are milliseconds since the epoch.
 */

export interface User {
  id: string;
  /** Normalised (see security/username.ts). */
  username: string;
  passwordHash: string;
  disabled: boolean;
  roles: string[];
  createdAt: number;
  updatedAt: number;
}

export interface Role {
  name: string;
  /** Scopes the role grants. */
  permissions: string[];
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
export type GrantType = 'client_credentials' | 'password' | 'refresh_token' | 'urn:ietf:params:oauth:grant-type:token-exchange';

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
  /** For private_key_jwt: the client's public JWKS. */
  jwks: { keys: Record<string, unknown>[] } | null;
  grantTypes: GrantType[];
  /** Scopes the client may request. */
  scopes: string[];
  /** Audiences (resource identifiers) the client may request tokens for. */
  audiences: string[];
  /** First-party clients may use the password grant. */
  firstParty: boolean;
  /**
   * Token exchange: tokens this client obtains for a user carry no `act` claim (impersonation). Absent or
   * false: they name the client in `act` (delegation).
   */
  mayImpersonate?: boolean;
  accessTokenTtl: number | null;
  refreshTokenTtl: number | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

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
}

export interface RefreshToken {
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

/** The record that announces a revocation of refresh-token families: how long it is kept, and why. */
export interface FamilyRevocation {
  expiresAt: number;
  reason: string;
}

export type KeyState = 'next' | 'active' | 'retired' | 'removed';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  state: KeyState;
  /** AES-256-GCM ciphertext of the private JWK under the master key. */
  encryptedPrivateKey: string;
  /** The public JWK (null for HMAC secrets, which are never published). */
  publicJwk: Record<string, unknown> | null;
  createdAt: number;
  /** When it starts (or started) signing. */
  activatesAt: number;
  retiredAt: number | null;
  /** When a retired key leaves the JWKS. */
  removeAfter: number | null;
}

export interface AuditEvent {
  id: number;
  time: number;
  type: string;
  outcome: 'success' | 'failure' | 'info';
  actor: string | null;
  subject: string | null;
  clientId: string | null;
  ip: string | null;
  data: Record<string, unknown>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

export interface AuditFilter {
  type?: string;
  subject?: string;
  from?: number;
  to?: number;
  /** Page size (1-500). */
  limit: number;
  /** Cursor: events with an id below this one (newest first). */
  before?: number;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, absent on the last. */
  next?: string;
}

export interface Store {
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  createUser(user: User): Promise<void>;
  getUserById(id: string): Promise<User | undefined>;
  getUserByUsername(username: string): Promise<User | undefined>;
  listUsers(limit: number, after?: string): Promise<User[]>;
  updateUser(id: string, patch: Partial<Pick<User, 'passwordHash' | 'disabled' | 'roles'>>, now: number): Promise<boolean>;
  /** Removes the user; false if there was none. Their refresh-token families stay (revoked) for the audit trail. */
  deleteUser(id: string): Promise<boolean>;

  putRole(role: Role): Promise<void>;
  deleteRole(name: string): Promise<boolean>;
  listRoles(): Promise<Role[]>;
  /** Every permission of the named roles (unknown names contribute nothing). */
  permissionsOf(roleNames: readonly string[]): Promise<string[]>;

  createClient(client: Client): Promise<void>;
  getClient(id: string): Promise<Client | undefined>;
  listClients(): Promise<Client[]>;
  updateClient(id: string, patch: Partial<Omit<Client, 'id' | 'createdAt'>>, now: number): Promise<boolean>;
  deleteClient(id: string): Promise<boolean>;

  /** Starts a refresh-token family with its first token. */
  createRefreshFamily(family: RefreshFamily, first: RefreshToken): Promise<void>;
  /**
   * Spends `digest` and stores `next` in its place, exactly once: of concurrent calls with one digest, one
   * rotates and the others see `reused` (and the family is revoked).
   */
  rotateRefreshToken(
    digest: string,
    next: Omit<RefreshToken, 'familyId'>,
    now: number,
    reuse: FamilyRevocation,
  ): Promise<RotateResult>;
  /** The token and its family, whatever their state. */
  findRefreshToken(digest: string): Promise<{ token: RefreshToken; family: RefreshFamily } | undefined>;
  getRefreshFamily(id: string): Promise<RefreshFamily | undefined>;
  /**
   * Revokes a family and adds the `family` revocation record that announces it, in one transaction. Returns the
   * record when this call wrote it; undefined for an unknown family or one already announced. A family revoked
   * without its record (left so by a crash of an older version) is announced now.
   */
  revokeRefreshFamily(familyId: string, reason: string, now: number, record: FamilyRevocation): Promise<Revocation | undefined>;
  listRefreshFamilies(filter: { userId?: string; clientId?: string; activeAt?: number }): Promise<RefreshFamily[]>;
  /**
   * Revokes every live family of a user or client and adds the cut-off record (`subject` or `client`, cutoff =
   * now) that revokes their access tokens, in one transaction. Returns the revoked families' ids and the record.
   */
  revokeRefreshFamiliesOf(
    filter: { userId?: string; clientId?: string },
    reason: string,
    now: number,
    record: FamilyRevocation,
  ): Promise<{ families: string[]; revocation: Revocation }>;

  addRevocation(r: Omit<Revocation, 'seq'>): Promise<Revocation>;
  /** Records still in force at `now`, in sequence order. */
  listRevocations(now: number, afterSeq?: number): Promise<Revocation[]>;
  /** Forgets records whose expiresAt has passed; returns how many. */
  pruneRevocations(now: number): Promise<number>;

  listKeys(): Promise<SigningKeyRecord[]>;
  insertKey(key: SigningKeyRecord): Promise<void>;
  updateKey(
    kid: string,
    patch: Partial<Pick<SigningKeyRecord, 'state' | 'activatesAt' | 'retiredAt' | 'removeAfter'>>,
  ): Promise<void>;

  /**
   * Retires the active key and activates the next one in one transaction: a reader never sees the keys with no
   * active one.
   */
  promoteKey(
    retire: { kid: string; retiredAt: number; removeAfter: number },
    activate: { kid: string; activatesAt: number },
  ): Promise<void>;

  appendAudit(event: NewAuditEvent): Promise<number>;
  /** Deletes at most `limit` audit events older than `before` (the oldest first); returns how many. */
  pruneAudit(before: number, limit: number): Promise<number>;
  queryAudit(filter: AuditFilter): Promise<AuditEvent[]>;

  /** Records a client-assertion jti; false if this client already used it (a replay). */
  useAssertionJti(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean>;

  /**
   * Takes the lease `name` for `holder` until `now + ttlMs`: true when `holder` now holds it, because it was free,
   * had expired, or was already this holder's (then it is renewed); false while another holder's is in force. Of
   * concurrent calls for a free lease exactly one wins. Instances use it so that one of them runs a job.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it (else does nothing). */
  releaseLease(name: string, holder: string): Promise<void>;
}
