/** PostgreSQL unique_violation (23505), as raised by pg and by PGlite alike. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

/** PostgreSQL foreign_key_violation (23503): the request named a row that does not exist (or no longer does). */
export function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23503';
}

/** Socket-level codes: the database server could not be reached, or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/**
 * SQLSTATEs that mean "the database is not serving us right now" rather than "this statement is wrong":
 * 08xxx connection exceptions; 57P01–57P03 admin/crash shutdown, cannot connect now; 55000 "database is
 * not currently accepting connections" (ALLOW_CONNECTIONS false); 53300 too many connections;
 * 57014 statement timeout (DB_STATEMENT_TIMEOUT_MS); 25P03 idle-in-transaction timeout.
 */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]$|55000$|53300$|57014$|25P03$)/;

const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Client was closed and is not queryable|Cannot use a pool after calling end|driver has already been destroyed|terminating connection due to/i;

/**
 * pg / PGlite / kysely errors that mean "the database is unreachable or refusing work right now":
 * the request deserves a 503 with Retry-After, a job a retry that does not count as an attempt.
 * Looks through `cause` and AggregateError members (Node's happy-eyeballs connect errors).
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || NETWORK_CODES.has(e.code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause, depth + 1);
}
