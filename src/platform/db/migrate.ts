import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database';
import { SCRIPT_MARKER } from './pglite-dialect';

/** Frozen, numbered SQL files in migrations/; never edited once landed. */
class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(this.dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const text = await fs.readFile(path.join(this.dir, file), 'utf8');
      migrations[file.replace(/\.sql$/, '')] = {
        up: async (db) => {
          await sql.raw(`${SCRIPT_MARKER}\n${text}`).execute(db);
        },
      };
    }
    return migrations;
  }
}

/**
 * Runs pending migrations. Kysely's Migrator takes a lock (a lock table row under FOR UPDATE,
 * inside one transaction), so several processes starting at once apply each migration once.
 */
export async function migrateToLatest(db: Db, dir = resolveMigrationsDir()): Promise<string[]> {
  // One connection without DB_STATEMENT_TIMEOUT_MS: a migration over a large table (or waiting for
  // another process's migration lock) may take longer than any request should.
  const { error, results } = await db.connection().execute(async (conn) => {
    await sql`SET statement_timeout = 0`.execute(conn);
    try {
      return await new Migrator({ db: conn, provider: new SqlFileMigrationProvider(dir) }).migrateToLatest();
    } finally {
      await sql`RESET statement_timeout`.execute(conn);
    }
  });
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Works from src/ (ts via jest) and from dist/src/ (compiled). */
export function resolveMigrationsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(path.join(candidate, '0001_foundation.sql'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('migrations/ folder not found');
}
