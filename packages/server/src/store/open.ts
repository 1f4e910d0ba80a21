import type { Config } from '../config/schema.js';
import { isPostgresUrl } from './database-url.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { SqlStore } from './sql-store.js';

/** The configured store: PostgreSQL for a `postgres://` URL, else the SQLite file. Not yet migrated. */
export function openStore(config: Pick<Config, 'database' | 'databasePoolSize'>): SqlStore {
  return isPostgresUrl(config.database)
    ? openPostgresStore(config.database, { poolSize: config.databasePoolSize })
    : openSqliteStore(config.database);
}
