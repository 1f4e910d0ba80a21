import { Migrator, sql, type Kysely, type MigrationProvider } from 'kysely';

import { StoreMigrationError } from '../errors.js';
import { migrations } from '../migrations.js';
import type { Database } from '../schema.js';

/** PostgreSQL advisory lock class of migrations (the second key is the hash of the schema, so schemas do not contend). */
const MIGRATION_LOCK = 0x746d6967; // 'tmig'

/**
 * Brings the schema up to date. On PostgreSQL several instances may start at once on one empty database: they take
 * turns under an advisory lock (Kysely's own lock comes only after it has created its bookkeeping tables, which
 * could race), and the bookkeeping tables live in the store's schema (`schema`, default the connection's current
 * one).
 */
export async function migrate(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', schema?: string): Promise<void> {
  if (dialect === 'sqlite') return migrateOn(db, dialect, undefined);
  await db.connection().execute(async (conn) => {
    const name =
      schema ?? (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(conn)).rows[0]?.schema;
    if (!name) throw new StoreMigrationError(undefined, 'database migration: no schema (the search_path names none that exists)');
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK)}, hashtext(${name}))`.execute(conn);
    try {
      // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
      const exists = await sql`select 1 from pg_namespace where nspname = ${name}`.execute(conn);
      if (exists.rows.length === 0) await sql`create schema ${sql.id(name)}`.execute(conn);
      await migrateOn(conn, dialect, name);
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK)}, hashtext(${name}))`.execute(conn);
    }
  });
}

async function migrateOn(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  migrationTableSchema: string | undefined,
): Promise<void> {
  const all = migrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => all };
  const { error, results } = await new Migrator({
    db,
    provider,
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreMigrationError(failed, `database migration ${failed ?? 'unknown'} failed`, { cause: error });
  }
}
