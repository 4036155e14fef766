/**
 * Shared by the bench scripts: a fresh PostgreSQL database on the server DATABASE_URL names
 * (created at start, dropped at the end), and a clean page cache before a timed disk write.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { adminQuery, databaseUrl } from '../src/platform/db/server-admin';

export interface BenchDatabase {
  /** The new database's URL. */
  url: string;
  drop(): Promise<void>;
}

/** `CREATE DATABASE <prefix>_<hex>` on the server `serverUrl` names; `drop()` removes it again. */
export async function freshDatabase(serverUrl: string, prefix = 'cx_bench'): Promise<BenchDatabase> {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  return { url: databaseUrl(serverUrl, name), drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * `sync`: nothing dirty in the page cache before a timed write. Without it one run's writeback
 * (an earlier run's gigabyte) lands inside the next run's time, and the order of the runs decides
 * the figures (seen in bench/upload: the same bare pipe 2.7 s, then 6.5 s).
 */
export function settleDisk(): void {
  execFileSync('sync');
}
