/**
 * Whether a database error is a unique (or primary key) violation, by the driver's error code rather
 * than its message text (which differs between versions, locales and drivers):
 * better-sqlite3 sets `code` to `SQLITE_CONSTRAINT_UNIQUE` / `SQLITE_CONSTRAINT_PRIMARYKEY`;
 * pg sets `code` to the SQLSTATE `23505` (unique_violation).
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
