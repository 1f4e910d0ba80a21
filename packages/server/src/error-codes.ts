import { RequestError } from './http/errors.js';
import { KeyDecryptionError, KeysBusyError } from './keys/errors.js';
import { OAuthError } from './oauth/errors.js';
import { ADMIN_ERROR_CODES } from './services/errors.js';
import {
  StoreConflictError,
  StoreMigrationError,
  StoreRowError,
  StoreStateError,
  StoreUnavailableError,
} from './store/errors.js';

/**
 * Every code @tessera/server throws, besides those of @tessera/core (`ERR_CONFIG` for settings it cannot run
 * with) and @tessera/verifier. docs/errors.md lists them; a test checks both ways.
 */
export const SERVER_ERROR_CODES: readonly string[] = Object.freeze([
  ...ADMIN_ERROR_CODES,
  OAuthError.code,
  RequestError.code,
  StoreConflictError.code,
  StoreUnavailableError.code,
  StoreMigrationError.code,
  StoreRowError.code,
  StoreStateError.code,
  KeyDecryptionError.code,
  KeysBusyError.code,
]);
