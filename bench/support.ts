/**
 * Shared by the bench scripts: a fresh PostgreSQL database on the server DATABASE_URL names
 * (created at start, dropped at the end), a clean page cache before a timed disk write, and the
 * bare Node upload server the app's uploads are compared with.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../src/platform/db/database';
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
 * Marks every account as having chosen its own password. Accounts an admin creates must change
 * theirs first (every request but the change answers 403), and a bench's accounts are nobody's.
 */
export async function passwordsChosen(db: Db): Promise<void> {
  await db.updateTable('users').set({ must_change_password: false }).execute();
}

/**
 * The node flags `npm start` gives the web process (package.json's `start` script), so a bench's app
 * child runs as production does (today `--heap-growing-percent=300`: see docs/benchmarks.md).
 */
export function webNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/**
 * `sync`: nothing dirty in the page cache before a timed write. Without it one run's writeback
 * (an earlier run's gigabyte) lands inside the next run's time, and the order of the runs decides
 * the figures (seen in bench/upload: the same bare pipe 2.7 s, then 6.5 s).
 */
export function settleDisk(): void {
  execFileSync('sync');
}

/**
 * The baseline the upload benches compare with: each request body piped into a new file in `dir`
 * (`pipeline(req, fs.createWriteStream(file))`), answered `ok`, the file removed after the answer.
 * `?fsync` in the URL: the file is fsync'ed before the answer, as durable as the app's store.
 */
export function bareUploadHandler(dir: string): http.RequestListener {
  let n = 0;
  return (req, res) => {
    const file = path.join(dir, `upload-${++n}`);
    const durable = req.url?.includes('fsync');
    pipeline(req, fs.createWriteStream(file))
      .then(async () => {
        if (!durable) return;
        const handle = await fs.promises.open(file, 'r+');
        await handle.sync().finally(() => handle.close());
      })
      .then(
        () => {
          res.end('ok');
          res.on('finish', () => fs.rm(file, { force: true }, () => undefined));
        },
        (err: unknown) => {
          res.statusCode = 500;
          res.end(String(err));
        },
      );
  };
}
