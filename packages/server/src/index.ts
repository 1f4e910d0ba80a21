export { createServer } from './server.js';
export type { CreateServerOptions, TesseraServer } from './server.js';
export { loadConfig } from './config/load.js';
export type { LoadConfigOptions } from './config/load.js';
export { SETTINGS } from './config/schema.js';
export type { Config, SettingName, SettingSpec } from './config/schema.js';
export type { ServerContext } from './context.js';
export { openSqliteStore } from './store/sqlite.js';
export { openPostgresStore } from './store/postgres.js';
export type { PostgresStoreOptions } from './store/postgres.js';
export { SqlStore } from './store/sql-store.js';
export { StoreConflictError } from './store/types.js';
export type * from './store/types.js';
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
export { METRICS_SCOPE, metricsAudience } from './metrics-route.js';
export { ADMIN_CLIENT, ADMIN_ROLE, CONFIG_FILE, initialize } from './services/init.js';
export type { InitOptions, InitResult } from './services/init.js';
export { RevocationRegistry } from './revocation/registry.js';
export { createUserAccount, UserInputError } from './services/users.js';
export { revokeEverything } from './admin/revoke-all.js';
