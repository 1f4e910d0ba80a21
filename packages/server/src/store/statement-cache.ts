import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * The database as Kysely sees it, with its prepared statements kept: Kysely's SQLite driver prepares every
 * query anew, which costs more than running it for the small queries of the token endpoint. Statements are
 * keyed by their SQL text (parameters are bound at each run); the least recently used beyond `max` are
 * dropped. Safe because better-sqlite3 is synchronous and Kysely runs one query at a time on it.
 */
export function withStatementCache(database: SqliteDatabase, max = 256): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(sql) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = database.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
    close() {
      cache.clear();
      database.close();
    },
  };
}
