import crypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Names of everything a process spools or works in under UPLOAD_TMP_DIR carry the owner's pid
 * (`<kind>-p<pid>-<random>`), so that a process starting up can remove what a dead one left
 * behind — a worker killed mid-ingest (source + partial preview, gigabytes), a web process killed
 * mid-multipart (the spool file) — without touching what live processes on the same machine are
 * using. UPLOAD_TMP_DIR is local to one machine (or container).
 */
export const KINDS = ['ingest', 'master', 'upload', 'import', 'tus', 'pack'] as const;
export type TempKind = (typeof KINDS)[number];

export function tempName(kind: TempKind, pid = process.pid): string {
  return `${kind}-p${pid}-${crypto.randomBytes(6).toString('hex')}`;
}

const OWNED = new RegExp(`^(?:${KINDS.join('|')})-p(\\d+)-`);
/** Files of our kinds from before names carried a pid, or of a pid reused by another program. */
const LEGACY = new RegExp(`^(?:${KINDS.join('|')})-`);
const ORPHAN_AFTER_MS = 24 * 3600_000;

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // we just started: nothing under our pid is ours yet (pid 1 in a container)
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * At start-up: removes work directories and spool files of processes that are gone, and any of our
 * kinds older than a day. Returns what was removed (names).
 */
export async function sweepStaleTemp(tmpDir: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(tmpDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owned = OWNED.exec(name);
    let stale = owned ? !alive(Number(owned[1])) : false;
    if (!stale && LEGACY.test(name)) {
      const stat = await fs.stat(path.join(tmpDir, name)).catch(() => null);
      stale = stat !== null && now - stat.mtimeMs > ORPHAN_AFTER_MS;
    }
    if (!stale) continue;
    await fs.rm(path.join(tmpDir, name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** At a graceful stop: what this process still has under tmpDir (e.g. a spool file of a request cut at the end of the grace period). */
export async function removeOwnTemp(tmpDir: string): Promise<number> {
  const mine = new RegExp(`^(?:${KINDS.join('|')})-p${process.pid}-`);
  const names = await fs.readdir(tmpDir).catch(() => [] as string[]);
  let n = 0;
  for (const name of names) {
    if (!mine.test(name)) continue;
    await fs.rm(path.join(tmpDir, name), { recursive: true, force: true }).catch(() => undefined);
    n++;
  }
  return n;
}
