// `@tessera/server/internal`: the server's parts used by the `tessera` CLI, the examples and the tests
// (stores, master key, key manager, provisioning without audit, the JSON views of the admin API). Not a stable
// API: it changes with the CLI. Administrative actions go through `server.admin` (the main entry's AdminService).
export { contextOf } from './context.js';
export type { ServerContext } from './context.js';
export { openSqliteStore } from './store/sqlite.js';
export { openPostgresStore } from './store/postgres.js';
export type { PostgresStoreOptions } from './store/postgres.js';
export { SqlStore } from './store/sql-store.js';
export { StoreConflictError, StoreRowError, StoreStateError } from './store/errors.js';
export { KeysBusyError } from './keys/errors.js';
// Refusals answered on the wire by the OAuth endpoints and the HTTP layer (docs/errors.md).
export { OAuthError } from './oauth/errors.js';
// The authorization endpoint's request check (RFC 6749 section 4.1.2.1 order, PKCE S256, exact redirect URIs).
export { checkAuthorization, type AuthorizationRequest, type CheckedAuthorization } from './oauth/authorize-request.js';
export { parseForm } from './oauth/form.js';
export { CODE_LIFETIME_S, issueAuthorizationCode, type Authentication } from './oauth/issue-code.js';
// Pushed authorization requests (RFC 9126): what /authorize calls to get its checked request, pushed or not.
export { REQUEST_URI_PREFIX, resolveAuthorizationRequest } from './oauth/pushed-request.js';
export { authorizationResponseParams, queryRedirect } from './oauth/authorize-response.js';
// The hosted login's browser session (cookie, start with fixation protection, current session).
export {
  SESSION_COOKIE,
  currentBrowserSession,
  endBrowserSession,
  sessionCookie,
  sessionIdFrom,
  startBrowserSession,
} from './signin/session.js';
// The hosted pages (login, error, signed out, form_post), their texts, and the login form's cookie.
export { Pages } from './signin/pages.js';
export { MESSAGES } from './signin/messages.js';
export { LOGIN_COOKIE, PENDING_LIFETIME_S } from './signin/login-form.js';
export { RequestError } from './http/errors.js';
export type {
  AuditEvent,
  AuditFilter,
  AuthorizationCode,
  BrowserSession,
  Client,
  ClientAuthMethod,
  ClientSecret,
  Consent,
  FamilyFilter,
  FamilyRevocation,
  GrantType,
  KeyPatch,
  KeyState,
  NewAuditEvent,
  Page,
  PendingAuthorization,
  RefreshFamily,
  RefreshToken,
  Revocation,
  RevocationKind,
  Role,
  RotateResult,
  SigningKeyRecord,
  Store,
  User,
  UserPatch,
} from './store/types.js';
export type { AssertionJtiRepository } from './store/assertion-jtis.js';
export type { AuditRepository } from './store/audit.js';
export type { AuthorizationCodeRepository } from './store/authorization-codes.js';
export type { AuthorizationRequestRepository } from './store/authorization-requests.js';
export type { BrowserSessionRepository } from './store/browser-sessions.js';
export type { ClientRepository } from './store/clients.js';
export type { ConsentRepository } from './store/consents.js';
export type { KeyRepository } from './store/keys.js';
export type { LeaseRepository } from './store/leases.js';
export type { RefreshFamilyRepository } from './store/refresh-families.js';
export type { RevocationRepository } from './store/revocations.js';
export type { RoleRepository } from './store/roles.js';
export type { UserRepository } from './store/users.js';
export { loadMasterKey, MasterKey } from './security/master-key.js';
export { hashPassword, verifyPassword } from './security/password.js';
export { normalizeUsername } from './security/username.js';
export { MemoryLimits, perSecond } from './security/limits.js';
export type { Limits } from './security/limits.js';
export { RedisLimits } from './security/redis-limits.js';
export { IN_FLIGHT_RETRY_MS } from './security/throttle.js';
export type { ThrottlePolicy } from './security/throttle.js';
export { KeyManager, KEY_CHANGE_LEASE } from './keys/manager.js';
export {
  registerClient,
  clientView,
  issuedSecretView,
  clientPatchFromMetadata,
  GRANT_TYPES,
  AUTH_METHODS,
  ACCESS_TOKEN_TTL_RANGE,
  REFRESH_TOKEN_TTL_RANGE,
  DEFAULT_SECRET_OVERLAP,
  MAX_SECRET_OVERLAP,
} from './services/clients.js';
export type { ClientInput, ClientMetadata, ClientPatch } from './services/clients.js';
export {
  AdminError,
  AdminInputError,
  ConflictError,
  NotFoundError,
  UnknownRoleError,
  ADMIN_ERROR_CODES,
} from './services/errors.js';
export { CLI_ACTOR } from './services/actor.js';
export type { Actor } from './services/actor.js';
export { epochSeconds } from './services/epoch.js';
export { roleView } from './services/roles.js';
export { keyView } from './services/keys.js';
export type { TokenRevocation, TokenTypeHint } from './services/tokens.js';
export { sessionView } from './services/sessions.js';
export { ADMIN_SCOPE, adminAudience } from './admin/guard.js';
export { METRICS_SCOPE, metricsAudience } from './metrics-route.js';
export { ADMIN_CLIENT, ADMIN_ROLE, CONFIG_FILE, initialize } from './services/init.js';
export type { InitOptions, InitResult } from './services/init.js';
export { RevocationRegistry } from './revocation/registry.js';
export { createUserAccount, userView } from './services/users.js';
export { AuditRetention, AUDIT_RETENTION_LEASE } from './audit/retention.js';
// Trusted workload issuers: the one parser and view of their wire form (admin API, CLI, config file).
export {
  parseWorkloadIssuer,
  workloadIssuerView,
  type WorkloadIssuer,
  type WorkloadIssuerInput,
  type WorkloadIssuerView,
} from './workload/issuer.js';
export { matchRule } from './workload/issuer.js';
// Resource servers: the one parser and view of their wire form (admin API, CLI).
export {
  parseResource,
  parseResourceKey,
  resourceView,
  RESOURCE_CLAIM_SCOPES,
  RESOURCE_KEY_ALGORITHMS,
} from './resources/resource.js';
export { workloadIssuerRecordView, type SourcedWorkloadIssuer, type WorkloadIssuerSource } from './services/workload-issuers.js';
// DPoP at the token endpoint: the memory of spent proofs (one instance's), bounded.
export { MAX_REMEMBERED_PROOFS, MemoryProofJtis, type ProofUse } from './oauth/dpop.js';
