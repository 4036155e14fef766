import crypto from 'node:crypto';
import type { DatabaseConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/platform/db/database';
import { migrateToLatest } from '../../src/platform/db/migrate';
import { adminQuery, databaseUrl } from '../../src/platform/db/server-admin';

/**
 * A fresh, migrated database for one test file: a new database on the PostgreSQL server named by
 * DATABASE_URL (dropped again by `drop`), or an in-memory PGlite when DATABASE_URL is unset.
 */
export interface TestDatabase {
  config: DatabaseConfig;
  database: Database;
  /** Closes the connection and drops the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const config: DatabaseConfig = { kind: 'pglite', dir: 'memory://' };
    const database = await openDatabase(config);
    await migrateToLatest(database.db);
    return { config, database, drop: () => database.close().catch(() => undefined) };
  }
  const name = `cx_test_${crypto.randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const config: DatabaseConfig = { kind: 'postgres', url: databaseUrl(serverUrl, name) };
  const database = await openDatabase(config);
  await migrateToLatest(database.db);
  return {
    config,
    database,
    drop: async () => {
      await database.close().catch(() => undefined); // the container may have closed it already
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
