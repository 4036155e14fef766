import fs from 'node:fs';
import type { Config } from '../config';
import { openDatabase, type Database } from './db/database';
import { migrateToLatest } from './db/migrate';
import { adminQuery, databaseUrl } from './db/server-admin';
import { ensureS3Bucket } from './storage/s3-store';

export interface SetupReport {
  /** `created`: the database did not exist and setup created it. */
  database: 'created' | 'exists' | 'embedded';
  /** Migrations applied by this run (empty when the schema was up to date). */
  applied: string[];
  bucket: 'created' | 'exists' | 'local';
}

export class SetupError extends Error {}

/**
 * `npm run setup`: everything a new installation needs before its first web or worker process, and
 * safe to run again at every deploy. Creates the PostgreSQL database if it is missing (the user
 * needs CREATEDB; otherwise the error names the SQL to run), applies pending migrations, and creates
 * the S3 bucket if it is missing. Touches nothing that exists.
 */
export async function runSetup(config: Config, log: (line: string) => void = () => undefined): Promise<SetupReport> {
  let databaseState: SetupReport['database'] = 'embedded';
  let database: Database;
  if (config.database.kind === 'postgres') {
    databaseState = 'exists';
    const url = config.database.url;
    database = await openDatabase(config.database);
    try {
      await database.ping();
    } catch (err) {
      await database.close();
      if ((err as { code?: string }).code !== '3D000') throw err; // 3D000: the database does not exist
      await createDatabase(url, log);
      databaseState = 'created';
      database = await openDatabase(config.database);
    }
  } else {
    fs.mkdirSync(config.database.dir, { recursive: true });
    database = await openDatabase(config.database);
  }
  let applied: string[];
  try {
    applied = await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
  log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations: the database is up to date');

  let bucket: SetupReport['bucket'] = 'local';
  if (config.storage.kind === 's3') {
    bucket = await ensureS3Bucket(config.storage);
    log(`bucket ${config.storage.bucket}: ${bucket === 'created' ? 'created' : 'exists'}`);
  } else {
    fs.mkdirSync(config.storage.rootDir, { recursive: true });
    log(`object store: local directory ${config.storage.rootDir}`);
  }
  return { database: databaseState, applied, bucket };
}

async function createDatabase(url: string, log: (line: string) => void): Promise<void> {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const owner = decodeURIComponent(parsed.username) || 'postgres';
  const quoted = `"${name.replace(/"/g, '""')}"`;
  try {
    // The maintenance database every PostgreSQL server has.
    await adminQuery(databaseUrl(url, 'postgres'), `CREATE DATABASE ${quoted}`);
  } catch (err) {
    throw new SetupError(
      `database ${quoted} does not exist and could not be created (${(err as Error).message}). ` +
        `As a superuser, run: CREATE DATABASE ${quoted} OWNER "${owner.replace(/"/g, '""')}";`,
      { cause: err },
    );
  }
  log(`database ${quoted}: created`);
}
