import { randomBytes } from 'node:crypto';

import pg from 'pg';

/**
 * The PostgreSQL of the tests: 127.0.0.1:5432, trust auth, user postgres, database `test` (TESSERA_TEST_POSTGRES
 * overrides). Without it the PostgreSQL tests are skipped with the reason, except in CI, where they fail.
 */
export const POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
export const POSTGRES_MISSING = `PostgreSQL is not reachable at ${POSTGRES_URL}`;
export const POSTGRES_REQUIRED = process.env.CI === 'true';

/** Whether PostgreSQL answers within a few seconds. */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one statement on an administrative connection of its own. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh, empty schema with a name of its own (this process, a counter, random bits): an empty database. */
export async function createSchema(): Promise<string> {
  const name = `tessera_test_${process.pid}_${++schemas}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create schema ${name}`);
  return name;
}
let schemas = 0;

export async function dropSchema(name: string): Promise<void> {
  await adminQuery(`drop schema if exists ${name} cascade`);
}

/** POSTGRES_URL with the search_path set to `schema` (for createServer, whose `database` setting is a URL). */
export function urlWithSchema(schema: string, base = POSTGRES_URL): string {
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}
