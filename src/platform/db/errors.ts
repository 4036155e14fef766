/** PostgreSQL unique_violation (23505), as raised by pg and by PGlite alike. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** PostgreSQL foreign_key_violation (23503): the request named a row that does not exist (or no longer does). */
export function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23503';
}
