import { TesseraError } from '@tessera/core';

/**
 * A row with this key exists already (a taken username or client id). The store translates the drivers'
 * unique-violation codes (SQLite's `SQLITE_CONSTRAINT_*`, PostgreSQL's `23505`) into this error in one
 * place, so that no caller looks at a driver's codes; the admin service answers it as `ConflictError`.
 */
export class StoreConflictError extends TesseraError {
  static readonly code = 'ERR_STORE_CONFLICT';
  /** What already exists. */
  readonly entity: 'user' | 'client' | 'workload issuer' | 'resource';
  constructor(entity: 'user' | 'client' | 'workload issuer' | 'resource') {
    super(StoreConflictError.code, `${entity} already exists`);
    this.entity = entity;
  }
}

/**
 * A change found a row not in the state it changes from (a signing key to retire that is no longer active, a next
 * key that is no longer next): another writer changed it, or it was edited by hand. Nothing was written.
 */
export class StoreStateError extends TesseraError {
  static readonly code = 'ERR_STORE_STATE';
  constructor(
    readonly table: string,
    readonly id: string,
    readonly expected: string,
  ) {
    super(StoreStateError.code, `${table} ${id} is not ${expected}; nothing was changed`);
  }
}

/**
 * The database cannot be used: the SQLite file cannot be opened (not a database, no permission), or
 * PostgreSQL did not answer a readiness check in time or refused it. `cause` holds the driver's error.
 */
export class StoreUnavailableError extends TesseraError {
  static readonly code = 'ERR_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreUnavailableError.code, message, options);
  }
}

/** The schema could not be brought up to date at start; `cause` holds the database's error. */
export class StoreMigrationError extends TesseraError {
  static readonly code = 'ERR_STORE_MIGRATION';
  /** The migration that failed; undefined when none could run (no schema to hold the tables). */
  readonly migration: string | undefined;
  constructor(migration: string | undefined, message: string, options?: { cause?: unknown }) {
    super(StoreMigrationError.code, message, options);
    this.migration = migration;
  }
}

/**
 * A row read from the database is not what the schema promises: a column of the wrong type, JSON that does not
 * parse or has the wrong shape, a state or kind outside its set. Left by a bad migration, a hand edit or another
 * program writing the tables. The read fails (the request gets a server error) rather than carry the value on.
 * The message names the table and column, never the value (it may be a digest or key material).
 */
export class StoreRowError extends TesseraError {
  static readonly code = 'ERR_STORE_ROW';
  constructor(
    readonly table: string,
    readonly column: string,
    expected: string,
  ) {
    super(StoreRowError.code, `malformed row in ${table}: ${column} is not ${expected}`);
  }
}

/**
 * ` (CODE)` for an error of a database driver or the file system (`SQLITE_NOTADB`, `ECONNREFUSED`, `28P01`),
 * else nothing: the code says why in a message that is safe to print, where the driver's own message may quote
 * its input.
 */
export function driverCode(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : '';
}
