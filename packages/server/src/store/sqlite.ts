import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

import { driverCode, StoreUnavailableError } from './errors.js';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';
import { withStatementCache } from './statement-cache.js';

/** Only the owner may read or write the database: it holds password hashes, secrets' digests and the audit trail. */
const FILE_MODE = 0o600;

/**
 * The database file, and its WAL and shared-memory files, are the owner's alone (0600), whatever the umask: the file
 * is created with that mode before SQLite opens it (SQLite gives the WAL and SHM files the mode of the database
 * file), and files left readable by an older version are narrowed.
 */
function ownerOnly(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', FILE_MODE));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f) || (statSync(f).mode & 0o077) === 0) continue;
    try {
      chmodSync(f, FILE_MODE);
    } catch (err) {
      // Another user's file, shared on purpose by its owner: theirs to narrow.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
}

/**
 * The embedded default: one SQLite file (WAL mode, foreign keys on, prepared statements reused), mode 0600.
 * `:memory:` gives a throwaway database. Call `migrate()` before use.
 */
export function openSqliteStore(file: string): SqlStore {
  let database: SQLite.Database | undefined;
  try {
    if (file !== ':memory:') ownerOnly(file);
    database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    database.pragma('synchronous = NORMAL');
  } catch (err) {
    database?.close();
    throw new StoreUnavailableError(`cannot open the SQLite database ${file}${driverCode(err)}`, { cause: err });
  }
  return new SqlStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }), 'sqlite');
}
