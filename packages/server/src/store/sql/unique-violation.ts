/**
 * True for the error of an INSERT that broke a primary-key or unique constraint, on SQLite or PostgreSQL: the one
 * place the drivers' own error codes are read (callers meet StoreConflictError instead).
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}
