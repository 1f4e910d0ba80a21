// The public entry of @tessera/server: build and run the auth server, and its settings. What the CLI, the
// examples and the tests need beyond this (stores, keys, provisioning services) is in `@tessera/server/internal`.
export { createServer } from './server.js';
export type { CreateServerOptions, TesseraServer } from './server.js';
export { loadConfig } from './config/load.js';
export type { LoadConfigOptions } from './config/load.js';
export { SETTINGS } from './config/schema.js';
export type { Config, SettingName, SettingSpec } from './config/schema.js';
// The errors a caller of createServer meets; docs/errors.md lists every code of SERVER_ERROR_CODES.
export { SERVER_ERROR_CODES } from './error-codes.js';
export { KeyDecryptionError } from './keys/errors.js';
export { StoreMigrationError, StoreUnavailableError } from './store/errors.js';
