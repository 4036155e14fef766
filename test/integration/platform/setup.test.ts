import crypto from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../../../src/config';
import { openDatabase } from '../../../src/platform/db/database';
import { adminQuery, databaseUrl } from '../../../src/platform/db/server-admin';
import { runSetup, SetupError } from '../../../src/platform/setup';
import { createS3Store } from '../../../src/platform/storage';
import { startS3rver, type S3rverHandle } from '../../support/s3';

/**
 * `npm run setup` on an installation "from nothing": a PostgreSQL server without the app's
 * database (or, without DATABASE_URL, an empty DATA_DIR) and an S3 service without the bucket.
 */
const serverUrl = process.env.DATABASE_URL;
// Creating a database needs a PostgreSQL server; PGlite has none to create it on, so that case runs only with DATABASE_URL.
const onPostgres = serverUrl ? it : it.skip;

describe('npm run setup', () => {
  let s3: S3rverHandle;
  let dataDir: string;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3.stop();
  });
  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-setup-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  function configFor(bucket: string, database: string | undefined): Config {
    return loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: database,
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
  }

  function freshDatabaseName(): string {
    const name = `cx_test_setup_${crypto.randomBytes(5).toString('hex')}`;
    cleanups.push(() => adminQuery(serverUrl!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    return name;
  }

  it('when neither the database nor the bucket exists, then setup creates both and migrates; a second run changes nothing', async () => {
    const bucket = `cx-setup-${crypto.randomBytes(4).toString('hex')}`;
    const config = configFor(bucket, serverUrl ? databaseUrl(serverUrl, freshDatabaseName()) : undefined);
    const store = createS3Store({ ...(config.storage as Extract<Config['storage'], { kind: 's3' }>) });
    cleanups.push(() => store.close());
    await expect(store.ping()).rejects.toThrow(); // no bucket yet: /readyz would answer 503

    const lines: string[] = [];
    const first = await runSetup(config, (line) => lines.push(line));

    expect(first.database).toBe(serverUrl ? 'created' : 'embedded');
    expect(first.bucket).toBe('created');
    expect(first.applied.length).toBeGreaterThan(0);
    await expect(store.ping()).resolves.toBeUndefined();
    const database = await openDatabase(config.database);
    try {
      const counties = await sql<{ n: number }>`select count(*)::int as n from counties`.execute(database.db);
      expect(counties.rows[0]!.n).toBe(13); // the seed migration ran
    } finally {
      await database.close();
    }
    expect(lines.join('\n')).toContain(`bucket ${bucket}: created`);

    const second = await runSetup(config);
    expect(second).toEqual({ database: serverUrl ? 'exists' : 'embedded', applied: [], bucket: 'exists' });
  });

  onPostgres('when the database is missing and the user may not create it, then setup fails and names the SQL to run', async () => {
    const role = `cx_test_setup_role_${crypto.randomBytes(4).toString('hex')}`;
    await adminQuery(serverUrl!, `CREATE ROLE ${role} LOGIN NOCREATEDB`);
    cleanups.push(() => adminQuery(serverUrl!, `DROP ROLE IF EXISTS ${role}`));
    const name = freshDatabaseName();
    const url = new URL(databaseUrl(serverUrl!, name));
    url.username = role;
    url.password = '';

    const setup = runSetup(configFor(s3.bucket, url.toString()));

    await expect(setup).rejects.toThrow(SetupError);
    await expect(setup).rejects.toThrow(`CREATE DATABASE "${name}" OWNER "${role}"`);
  });
});
