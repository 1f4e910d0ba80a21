import { TesseraError } from '@tessera/core';

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

/** Every code the store throws of its own (docs/errors.md lists them; a test checks both ways). */
export const STORE_ERROR_CODES: readonly string[] = Object.freeze([StoreRowError.code]);
