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
export { KeyManager } from './keys/manager.js';
export {
  registerClient,
  rotateClientSecret,
  publicClient,
  ClientInputError,
  GRANT_TYPES,
  AUTH_METHODS,
} from './services/clients.js';
export type { ClientInput } from './services/clients.js';
export { ADMIN_SCOPE, adminAudience } from './admin/guard.js';
export { ADMIN_CLIENT, ADMIN_ROLE, CONFIG_FILE, initialize } from './services/init.js';
export type { InitOptions, InitResult } from './services/init.js';
export { RevocationRegistry } from './revocation/registry.js';
export { createUserAccount, UserInputError } from './services/users.js';
export { revokeEverything } from './admin/revoke-all.js';
