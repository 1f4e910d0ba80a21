import { TesseraError } from '@tessera/core';

/**
 * Refusals of the admin service (services/): the admin API answers them with a status and an `error` code
 * (admin/respond.ts), the CLI prints them as they are. Messages name the thing refused, never a secret.
 */
export class AdminError extends TesseraError {}

/** The input breaks a rule (a bad JWKS, a password too short, a lifetime out of range). HTTP 400 `invalid_request`. */
export class AdminInputError extends AdminError {
  static readonly code = 'ERR_ADMIN_INPUT';
  constructor(message: string) {
    super(AdminInputError.code, message);
  }
}

/** A role that does not exist was named; `known` lists those that do. HTTP 400 `invalid_request`. */
export class UnknownRoleError extends AdminError {
  static readonly code = 'ERR_UNKNOWN_ROLE';
  constructor(
    readonly role: string,
    readonly known: readonly string[],
  ) {
    super(UnknownRoleError.code, `no role named ${role}; known roles: ${known.length > 0 ? known.join(', ') : '(none)'}`);
  }
}

/** The user, client, role, key, session, browser session or workload issuer does not exist. HTTP 404 `not_found`. */
export class NotFoundError extends AdminError {
  static readonly code = 'ERR_NOT_FOUND';
  constructor(
    readonly entity:
      | 'user'
      | 'client'
      | 'role'
      | 'key'
      | 'session'
      | 'browser session'
      | 'consent'
      | 'workload issuer'
      | 'resource'
      | 'encryption key',
    name: string,
  ) {
    super(NotFoundError.code, `no ${entity} ${name}`);
  }
}

/** The change conflicts with what exists (a taken username or client id, a key already retired). HTTP 409 `conflict`. */
export class ConflictError extends AdminError {
  static readonly code = 'ERR_CONFLICT';
  constructor(message: string) {
    super(ConflictError.code, message);
  }
}

/** Every code the admin service throws (docs/errors.md lists them; a test checks both ways). */
export const ADMIN_ERROR_CODES: readonly string[] = Object.freeze([
  AdminInputError.code,
  UnknownRoleError.code,
  NotFoundError.code,
  ConflictError.code,
]);
