// The public entry of @tessera/server: build and run the auth server, its settings, and its admin service
// (`server.admin`). What the CLI, the examples and the tests need beyond this (stores, keys, provisioning) is
// in `@tessera/server/internal`, which is not a stable API.
export { createServer } from './server.js';
export type { CreateServerOptions, TesseraServer } from './server.js';
export { loadConfig } from './config/load.js';
export type { LoadConfigOptions } from './config/load.js';
export { SETTINGS } from './config/schema.js';
export type { Config, SettingName, SettingSpec } from './config/schema.js';
export type { AdminService } from './services/admin.js';
export type { Actor } from './services/actor.js';
export type { ClientInput, ClientPatch } from './services/clients.js';
export type { TokenRevocation } from './services/tokens.js';
export type { SourcedWorkloadIssuer, WorkloadIssuerSource } from './services/workload-issuers.js';
export type { WorkloadIssuer, WorkloadIssuerView } from './workload/issuer.js';
export type { Resource, ResourceClaim, ResourceKey, ResourceKeyAlgorithm, ResourceView } from './resources/resource.js';
export type {
  AuditEvent,
  AuditFilter,
  Client,
  ClientAuthMethod,
  GrantType,
  RefreshFamily,
  Role,
  SigningKeyRecord,
  User,
} from './store/types.js';
export { AdminError, AdminInputError, ConflictError, NotFoundError, UnknownRoleError } from './services/errors.js';
// The errors a caller of createServer meets; docs/errors.md lists every code of SERVER_ERROR_CODES.
export { SERVER_ERROR_CODES } from './error-codes.js';
export { KeyDecryptionError } from './keys/errors.js';
export { StoreMigrationError, StoreUnavailableError } from './store/errors.js';
