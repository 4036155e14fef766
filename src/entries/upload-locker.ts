import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { Logger } from '../platform/logger';
import { UploadLockTimeout } from './tus-reply';
import { deleteExpiredUploadLocks, deleteUploadLock, renewUploadLock, requestUploadLockRelease, takeUploadLock } from './upload.repository';

/**
 * The tus Locker for several web processes: a lease row per upload in `upload_locks`
 * (migration 0007), so two processes serving the same upload take turns — each request holds
 * the lock while tus reads the upload's offset and writes its bytes.
 *
 * @tus/server's own MemoryLocker serialises requests only inside one process; behind a load
 * balancer a resuming client's HEAD/PATCH can land on another process while the old PATCH (a
 * half-open connection) is still writing there, and both could pass tus's offset check and write.
 *
 * Semantics follow tus's Lock contract (and MemoryLocker's behaviour):
 * - `lock()` takes the row when it is free or its lease has expired (a holder that died), else asks
 *   the holder to let go (`release_requested`) and polls until it is free, the request is aborted,
 *   or `acquireTimeoutMs` passes (→ tus's ERR_LOCK_TIMEOUT).
 * - The holder renews its lease every `ttlMs / 4`; when a renewal finds `release_requested`, or
 *   finds that it no longer holds the row, it calls tus's `requestRelease` (tus then ends that
 *   request after its lockDrainTimeout), so the newest request for an upload wins.
 * - `unlock()` deletes the row only if this attempt still holds it.
 * Times are the database's `now()`, not each process's clock.
 */
export interface UploadLockerOptions {
  /** A lease not renewed for this long is free for the taking (a crashed holder). */
  ttlMs?: number;
  /** How long `lock()` waits for the holder before tus answers ERR_LOCK_TIMEOUT. */
  acquireTimeoutMs?: number;
  /** First wait between attempts; doubles up to 500 ms. */
  pollMs?: number;
}

export interface UploadLock {
  lock(stopSignal: AbortSignal, requestRelease: () => Promise<void> | void): Promise<void>;
  unlock(): Promise<void>;
}

export interface UploadLocker {
  newLock(id: string): UploadLock;
  /** Removes rows whose lease expired (their holders died); returns how many. */
  sweep(): Promise<number>;
}

/** tus's ERR_LOCK_TIMEOUT, in the shape its handlers pass through to the response (its type marks it as ours). */
export const LOCK_TIMEOUT = new UploadLockTimeout();

export function createUploadLocker(db: Kysely<DB>, logger: Logger, options: UploadLockerOptions = {}): UploadLocker {
  // Short: a web process that dies holding a lock keeps the upload waiting at most this long
  // (renewed every ttlMs / 4 while the holder lives).
  const ttlMs = options.ttlMs ?? 4_000;
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
  const firstPollMs = options.pollMs ?? 50;
  const instance = crypto.randomBytes(4).toString('hex');

  /** Takes the row when free or expired; true when this holder has it now. */
  async function tryTake(id: string, holder: string): Promise<boolean> {
    return (await takeUploadLock(db, id, holder, ttlMs)) === holder;
  }

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });

  return {
    newLock(id) {
      const holder = `${instance}-${crypto.randomBytes(8).toString('hex')}`;
      let renewal: NodeJS.Timeout | undefined;

      function keepAlive(requestRelease: () => Promise<void> | void) {
        let asked = false;
        const ask = () => {
          if (asked) return;
          asked = true;
          void Promise.resolve(requestRelease()).catch(() => undefined);
        };
        renewal = setInterval(
          () => {
            renewUploadLock(db, id, holder, ttlMs).then(
              (row) => {
                if (!row) {
                  logger.warn('upload lock lost before release', { uploadId: id });
                  ask();
                } else if (row.release_requested) ask();
              },
              (err: unknown) => logger.warn('upload lock renewal failed', { uploadId: id, err: String(err) }),
            );
          },
          Math.max(10, Math.floor(ttlMs / 4)),
        );
        renewal.unref();
      }

      return {
        async lock(stopSignal, requestRelease) {
          const deadline = Date.now() + acquireTimeoutMs;
          let wait = firstPollMs;
          for (;;) {
            if (stopSignal.aborted) throw LOCK_TIMEOUT;
            if (await tryTake(id, holder)) {
              keepAlive(requestRelease);
              return;
            }
            // Someone else is writing this upload: ask them to finish (they see it at their next renewal).
            await requestUploadLockRelease(db, id);
            const left = deadline - Date.now();
            if (left <= 0) throw LOCK_TIMEOUT;
            await sleep(Math.min(wait, left), stopSignal);
            wait = Math.min(500, wait * 2);
          }
        },
        async unlock() {
          clearInterval(renewal);
          renewal = undefined;
          await deleteUploadLock(db, id, holder);
        },
      };
    },

    sweep: () => deleteExpiredUploadLocks(db),
  };
}
