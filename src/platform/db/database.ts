import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../../config';
import { PGliteDialect } from './pglite-dialect';
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
    const pool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    });
    // A pooled client that loses its server (restart) emits 'error'; the pool drops it and
    // reconnects on the next checkout. Without a listener the process would crash.
    pool.on('error', () => undefined);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', ping: () => ping(db), close: () => db.destroy() };
  }
  if (config.dir !== 'memory://') fs.mkdirSync(config.dir, { recursive: true });
  const client = new PGlite(config.dir === 'memory://' ? undefined : config.dir, {
    parsers: { 20: (value: string) => Number(value) },
  });
  await client.waitReady;
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
  return { db, kind: 'pglite', ping: () => ping(db), close: () => db.destroy() };
}

async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
