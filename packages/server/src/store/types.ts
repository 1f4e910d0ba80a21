import type { AssertionJtiRepository } from './assertion-jtis.js';
import type { AuditRepository } from './audit.js';
import type { AuthorizationCodeRepository } from './authorization-codes.js';
import type { AuthorizationRequestRepository } from './authorization-requests.js';
import type { BrowserSessionRepository } from './browser-sessions.js';
import type { ClientRepository } from './clients.js';
import type { ConsentRepository } from './consents.js';
import type { WorkloadIssuerRepository } from './workload-issuers.js';
import type { EncryptedTokenRepository, ResourceRepository } from './resources.js';
import type { KeyRepository } from './keys.js';
import type { LeaseRepository } from './leases.js';
import type { RefreshFamilyRepository } from './refresh-families.js';
import type { RevocationRepository } from './revocations.js';
import type { RoleRepository } from './roles.js';
import type { UserRepository } from './users.js';

/**
 * The Store contract: everything the auth server keeps, one repository per aggregate (each in its own file with its
 * record types). One implementation per database (SQLite and PostgreSQL, sql-store.ts); the contract suite in
 * test/store-contract/ is what every implementation must pass unchanged. Times are milliseconds since the epoch.
 *
 * A state change that must be atomic is one method in one transaction, even when it writes two aggregates: a
 * family revoked with the record that announces it (RefreshFamilyRepository), a key retired as the next one
 * activates (KeyRepository.promote). Rows are validated when read (a malformed one throws StoreRowError).
 */
export interface Store {
  readonly users: UserRepository;
  readonly roles: RoleRepository;
  readonly clients: ClientRepository;
  readonly refreshFamilies: RefreshFamilyRepository;
  readonly revocations: RevocationRepository;
  readonly keys: KeyRepository;
  readonly audit: AuditRepository;
  readonly leases: LeaseRepository;
  readonly assertionJtis: AssertionJtiRepository;
  readonly browserSessions: BrowserSessionRepository;
  readonly authorizationRequests: AuthorizationRequestRepository;
  readonly authorizationCodes: AuthorizationCodeRepository;
  readonly consents: ConsentRepository;
  readonly workloadIssuers: WorkloadIssuerRepository;
  readonly resources: ResourceRepository;
  readonly encryptedTokens: EncryptedTokenRepository;

  /** Brings the schema up to date (run at start). */
  migrate(): Promise<void>;
  /** Resolves when the database answers (readiness). */
  ping(): Promise<void>;
  /** Writes what is pending (audit events) and closes the connections. */
  close(): Promise<void>;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, absent on the last. */
  next?: string;
}

// The records, where the code has always imported them from; each is defined beside its repository.
export type { AuditEvent, AuditFilter, NewAuditEvent } from './audit.js';
export type { AuthorizationCode } from './authorization-codes.js';
export type { PendingAuthorization } from './authorization-requests.js';
export type { BrowserSession } from './browser-sessions.js';
export type {
  Client,
  ClientAuthMethod,
  ClientPatch,
  ClientSecret,
  GrantType,
  IdTokenAlg,
  TlsClientAuthSubject,
  TlsSubjectKind,
} from './clients.js';
export type { Consent } from './consents.js';
export type { KeyPatch, KeyState, SigningKeyRecord } from './keys.js';
export type { FamilyFilter, FamilyRevocation, RefreshFamily, RefreshToken, RotateResult } from './refresh-families.js';
export type { Revocation, RevocationKind } from './revocations.js';
export type { Role } from './roles.js';
export type { User, UserPatch, UserProfile, UserProfilePatch } from './users.js';
