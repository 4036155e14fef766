import type { Clock } from '../../../src/platform/queue/queue';
import type { Db } from '../../../src/platform/db/database';
import type { WorkerLogger } from '../../../src/platform/queue/worker';

/** A clock the test moves by hand. */
export function manualClock(start = Date.parse('2026-03-01T08:00:00Z')): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}

export const silentLogger: WorkerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

export async function jobRow(db: Db, id: number) {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function clearJobs(db: Db): Promise<void> {
  await db.deleteFrom('jobs').execute();
  await db.deleteFrom('audit_log').where('object_type', '=', 'test-job').execute();
}

/** A stand-in for a handler's domain write (the "output record"), counted to prove effects happen once. */
export async function effectsOf(db: Db, jobId: number): Promise<number> {
  const rows = await db.selectFrom('audit_log').select('id').where('object_type', '=', 'test-job').where('object_id', '=', String(jobId)).execute();
  return rows.length;
}
