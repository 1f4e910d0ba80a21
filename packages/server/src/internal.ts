// `@tessera/server/internal`: the server's parts used by the `tessera` CLI, the examples and the tests
// (stores, master key, key manager, provisioning services). Not a stable API: it changes with the CLI.
export type { ServerContext } from './context.js';
export { openSqliteStore } from './store/sqlite.js';
export { openPostgresStore } from './store/postgres.js';
export type { PostgresStoreOptions } from './store/postgres.js';
export { SqlStore } from './store/sql-store.js';
export { StoreConflictError } from './store/types.js';
export type {
  AuditEvent,
  AuditFilter,
  Client,
  ClientAuthMethod,
  ClientSecret,
  GrantType,
  KeyState,
  NewAuditEvent,
  Page,
  RefreshFamily,
  RefreshToken,
  Revocation,
  RevocationKind,
  Role,
  RotateResult,
  SigningKeyRecord,
  Store,
  User,
} from './store/types.js';
export { loadMasterKey, MasterKey } from './security/master-key.js';
export { hashPassword, verifyPassword } from './security/password.js';
export { normalizeUsername } from './security/username.js';
export { MemoryLimits, perSecond } from './security/limits.js';
export type { Limits } from './security/limits.js';
export { RedisLimits } from './security/redis-limits.js';
export { IN_FLIGHT_RETRY_MS } from './security/throttle.js';
export type { ThrottlePolicy } from './security/throttle.js';
export { KeyManager } from './keys/manager.js';
export {
  registerClient,
  createClient,
  findClient,
  listClients,
  updateClient,
  setClientDisabled,
  deleteClient,
  rotateClientSecret,
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
export { assertRolesExist, deleteRole, listRoles, putRole, roleView } from './services/roles.js';
export { keyView, importSigningKey, listKeys, retireKey, rotateKeys } from './services/keys.js';
export { revokeToken } from './services/tokens.js';
export type { TokenRevocation, TokenTypeHint } from './services/tokens.js';
export { listSessions, revokeSession, sessionView } from './services/sessions.js';
export { ADMIN_SCOPE, adminAudience } from './admin/guard.js';
export { METRICS_SCOPE, metricsAudience } from './metrics-route.js';
export { ADMIN_CLIENT, ADMIN_ROLE, CONFIG_FILE, initialize } from './services/init.js';
export type { InitOptions, InitResult } from './services/init.js';
export { RevocationRegistry } from './revocation/registry.js';
export {
  addUser,
  createUserAccount,
  deleteUser,
  findUser,
  grantRole,
  listUsers,
  revokeRole,
  setPassword,
  setUserDisabled,
  setUserRoles,
  userView,
} from './services/users.js';
export { revokeEverything } from './services/revoke-all.js';
export { AuditRetention, AUDIT_RETENTION_LEASE } from './audit/retention.js';
