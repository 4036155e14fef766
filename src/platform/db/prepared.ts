import { createHash } from 'node:crypto';

/**
 * Named prepared statements for the pg pool (DB_PREPARED_STATEMENTS, on by default).
 *
 * Kysely's pg dialect sends every statement unnamed, so PostgreSQL parses and plans it again on
 * every call. For the judge's queue page that planning cost more than running it (4 ms of planning
 * for 3.5 ms of execution; the statement has nine correlated lookups). A named statement is parsed
 * once per connection; after five executions PostgreSQL keeps a generic plan when it costs no more
 * than the custom ones (plan_cache_mode auto) and planning drops to ~0.01 ms. This is what pgjdbc
 * does by default (prepareThreshold 5).
 *
 * Bounds and exceptions:
 * - only SELECT / INSERT / UPDATE / DELETE / WITH statements with parameters are named (no
 *   transaction control, no DDL, no one-off statement without parameters);
 * - at most {@link MAX_NAMED_PER_CONNECTION} names per connection, then unnamed as before: a
 *   statement with a varying `IN ($1 … $n)` list makes one name per length, and the server keeps
 *   each prepared statement until the connection closes;
 * - a statement whose cached plan no longer fits the table (`0A000` "cached plan must not change
 *   result type": a column added under a running process, mid-deploy) fails once on that
 *   connection and is sent unnamed there from then on.
 * Turn it off (`DB_PREPARED_STATEMENTS=false`) behind a pooler in transaction mode that does not
 * track prepared statements (PgBouncer before 1.21).
 */
export const MAX_NAMED_PER_CONNECTION = 400;

const NAMEABLE = /^\s*(select|insert|update|delete|with)\b/i;
/** text → statement name; bounded, cleared when full (names are cheap to recompute). */
const names = new Map<string, string>();
const MAX_REMEMBERED_NAMES = 4_000;

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_REMEMBERED_NAMES) names.clear();
    name = `cx_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
    names.set(text, name);
  }
  return name;
}

type Query = (...args: unknown[]) => unknown;

/** What one connection has named, and what it must no longer name. */
interface ConnectionStatements {
  named: Set<string>;
  unnamed: Set<string>;
}

const isPlanChange = (err: unknown) => err instanceof Error && (err as { code?: string }).code === '0A000' && /cached plan/i.test(err.message);

/**
 * Wraps one connection's `query`: a call of the form `(text, values)` — how Kysely calls it — goes
 * out as a named statement when {@link NAMEABLE}; every other form passes through untouched.
 */
export function namePreparedStatements(query: Query): Query {
  const state: ConnectionStatements = { named: new Set(), unnamed: new Set() };
  return (...args: unknown[]) => {
    const [text, values, ...rest] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || rest.length > 0 || !NAMEABLE.test(text)) return query(...args);
    const name = statementName(text);
    if (state.unnamed.has(name) || (!state.named.has(name) && state.named.size >= MAX_NAMED_PER_CONNECTION)) return query(...args);
    state.named.add(name);
    const result = query({ name, text, values });
    if (result && typeof (result as Promise<unknown>).catch === 'function') {
      (result as Promise<unknown>).catch((err: unknown) => {
        if (isPlanChange(err)) state.unnamed.add(name);
      });
    }
    return result;
  };
}
