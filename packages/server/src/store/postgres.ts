import { ConfigError } from '@tessera/core';
import { Kysely } from 'kysely';
import pg from 'pg';

import { isPostgresUrl } from './database-url.js';
import { driverCode, StoreMigrationError, StoreUnavailableError } from './errors.js';
import { StorePostgresDialect } from './postgres-dialect.js';
import type { Database } from './schema.js';
import { SqlStore } from './sql-store.js';

export interface PostgresStoreOptions {
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /**
   * The schema that holds the tables (the connections' search_path), created by `migrate()` if missing. Default:
   * the server's search_path (normally `public`). Lower-case letters, digits and `_`.
   */
  schema?: string;
}

/** Connecting gives up after this long: a pool with every connection stuck waits no longer than this either. */
const CONNECT_TIMEOUT_MS = 5_000;
/** `ping()` (readiness) answers within this long, whatever the network does. */
const PING_TIMEOUT_MS = 2_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The Store on PostgreSQL: a pool of `pg` connections under Kysely. Several instances may share one database;
 * the writes that must happen once are single conditional statements or hold an advisory lock (sql/).
 * int8 columns come back as strings and are converted where read. Call `migrate()` before use.
 *
 * The URL's password never appears in an error this function throws.
 */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): SqlStore {
  if (!isPostgresUrl(url)) throw new ConfigError('url', 'must be a postgres:// or postgresql:// URL');
  const { poolSize = 10, schema } = options;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new ConfigError('poolSize', 'must be a positive integer');
  if (schema !== undefined && !SCHEMA_NAME.test(schema))
    throw new ConfigError('schema', 'must be lower-case letters, digits and _');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // A connection that breaks while idle (the database restarts, the network drops it) is dropped by the pool and
  // replaced on next use; the failure shows in the queries and in ping(). Without these listeners the 'error'
  // events would be unhandled and end the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new PostgresStore(pool, schema);
}

class PostgresStore extends SqlStore {
  constructor(
    private readonly pool: pg.Pool,
    schema: string | undefined,
  ) {
    super(new Kysely<Database>({ dialect: new StorePostgresDialect({ pool }) }), 'postgres', { schema });
  }

  /** As SqlStore's; a database that cannot be reached (or refuses the session) fails as StoreMigrationError too. */
  override async migrate(): Promise<void> {
    try {
      await super.migrate();
    } catch (err) {
      if (err instanceof StoreMigrationError) throw err;
      throw new StoreMigrationError(undefined, `database migration could not run${driverCode(err)}`, { cause: err });
    }
  }

  /**
   * `select 1` on a pooled connection, answered within PING_TIMEOUT_MS whatever the network does: a connection
   * that does not answer (the network lost the database without a reset) fails the ping and is thrown away, so
   * the pool does not hand it out again.
   */
  override async ping(): Promise<void> {
    let client: pg.PoolClient | undefined;
    let gaveUp = false;
    const attempt = (async () => {
      const c = await this.pool.connect();
      if (gaveUp) return c.release(); // connected after the timeout: a good connection, back to the pool
      client = c;
      await c.query('select 1');
    })();
    attempt.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const message = `the database did not answer within ${PING_TIMEOUT_MS} ms`;
      timer = setTimeout(() => reject(new StoreUnavailableError(message)), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([attempt, timeout]);
    } catch (err) {
      gaveUp = true;
      client?.release(err as Error);
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`the database refused the readiness check${driverCode(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    client?.release();
  }
}
