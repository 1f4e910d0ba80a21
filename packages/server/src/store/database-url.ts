/** True for a `postgres://` or `postgresql://` URL: the `database` setting then selects PostgreSQL. */
export function isPostgresUrl(s: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}
