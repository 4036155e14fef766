import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig, DatabaseTimeouts } from '../../config';
import { PGliteDialect } from './pglite-dialect';
import { namePreparedStatements } from './prepared';
import type { DB } from './schema';

export type Db = Kysely<DB>;

export interface Database {
  readonly db: Db;
  readonly kind: DatabaseConfig['kind'];
  ping(): Promise<void>;
  close(): Promise<void>;
}

// Return int8 (counts, bigserial ids) as JS numbers: our counts stay far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));
// A `date` is a calendar day ("2026-06-01"), not a moment: keep the string (no timezone shift).
pg.types.setTypeParser(1082, (value: string) => value);

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind === 'postgres') {
    const pool = createPool(config.url, config.timeouts, { preparedStatements: config.preparedStatements ?? true, max: config.poolMax });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', ping: () => ping(db), close: () => db.destroy() };
  }
  if (config.dir !== 'memory://') fs.mkdirSync(config.dir, { recursive: true });
  const client = new PGlite(config.dir === 'memory://' ? undefined : config.dir, {
    parsers: { 20: (value: string) => Number(value) },
  });
  await client.waitReady;
  // As pg above: a `date` is its "YYYY-MM-DD" string. PGlite 0.5 drops a 1082 parser given to the
  // constructor (its built-in date parser, a UTC-midnight Date, is installed after it), so set it here.
  client.parsers[1082] = (value: string) => value;
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
  return { db, kind: 'pglite', ping: () => ping(db), close: () => db.destroy() };
}

async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

const DEFAULT_TIMEOUTS: DatabaseTimeouts = { connectMs: 5_000, statementMs: 5_000, idleInTransactionMs: 60_000 };

/**
 * The pg pool, hardened for outages (docs/security.md "Faults"):
 * - Every client gets an 'error' listener the moment it connects. pg-pool listens only while a
 *   client is idle; a client checked out for a transaction that loses its server (restart,
 *   pg_terminate_backend, failover) emits 'error' with no listener, which ends the process. The
 *   query in flight still fails (→ 503), the broken client is dropped at release.
 * - Connection, statement and idle-in-transaction timeouts, and a client-side read timeout 2 s past
 *   the statement timeout: a partition (no answer at all) fails fast instead of hanging. A client
 *   whose query timed out that way is destroyed, so the pool never hands out a stuck connection.
 * - TCP keepalive, so a dead peer is noticed on idle connections too.
 * - With `preparedStatements` (the app's pool; DB_PREPARED_STATEMENTS), Kysely's statements are sent
 *   as named prepared statements, planned once per connection (./prepared.ts).
 */
export function createPool(url: string, timeouts: DatabaseTimeouts = DEFAULT_TIMEOUTS, opts: { preparedStatements?: boolean; max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: timeouts.connectMs,
    idleTimeoutMillis: 30000,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    query_timeout: timeouts.statementMs + 2_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // No JIT: our statements are short OLTP reads whose cost estimates (correlated counts, 50,000-row
    // rankings) cross jit_above_cost; compiling took 26 ms of a 106 ms /rounds query and won nothing.
    options: '-c jit=off',
  });
  // An idle client that loses its server: pg-pool drops it and reconnects on the next checkout.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    const guarded = (...args: unknown[]) => {
      const result = query(...args);
      if (result && typeof (result as Promise<unknown>).catch === 'function') {
        (result as Promise<unknown>).catch((err: unknown) => {
          // pg answered the caller but the statement is still pending on this socket: drop the socket.
          if (err instanceof Error && err.message === 'Query read timeout')
            (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        });
      }
      return result;
    };
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = opts.preparedStatements ? namePreparedStatements(guarded) : guarded;
  });
  return pool;
}
