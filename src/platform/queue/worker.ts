import crypto from 'node:crypto';
import os from 'node:os';
import type { Transaction } from 'kysely';
import type { DB } from '../db/schema';
import { LeaseLostError, PermanentJobError, WorkerStoppingError, type JobContext, type JobHandler, type JobHandlers } from './job-handler';
import { describeError, type ClaimedJob, type DeferOutcome, type FinalFailureHook, type JobRunQueue } from './queue';
import { outageOf } from '../outage';

export { LeaseLostError, PermanentJobError, WorkerStoppingError };
export type { JobContext, JobHandler, JobHandlers };

/**
 * The generic worker runtime: a claim loop over the queue, `concurrency` jobs at a time, with an
 * automatic heartbeat and a graceful stop. The same object runs in-process (the embedded default:
 * the web server starts one) and in its own process (workers/main.ts).
 *
 * - Polls every `pollMs` when the queue is empty; a finished job or `nudge()` wakes it at once;
 *   it never spins (a full worker waits for a slot, a database error backs off up to 30 s).
 * - Heartbeat every leaseMs/3 while a handler runs. When the lease is lost (another attempt took
 *   the job, or heartbeats failed for a whole lease), the handler's signal aborts with
 *   LeaseLostError and nothing is recorded for this attempt.
 * - A handler error is retried with backoff until max_attempts; PermanentJobError fails at once.
 *   An outage (database or object store unavailable, src/platform/outage.ts) is not the job's
 *   fault: the job is deferred (queue.defer) without spending an attempt.
 *   Both end with the handler's onFinalFailure in the failing transaction.
 * - stop({ graceMs }): no new claims; running jobs get graceMs to finish. Past that, their signal
 *   aborts with WorkerStoppingError and the job is released: back to queued at once, and the
 *   attempt is NOT counted (a deploy should not use up a job's retries). A handler that ignores
 *   the signal is not waited for beyond `abortSettleMs`; its late completion is refused.
 */

export interface WorkerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface WorkerOptions {
  queue: JobRunQueue;
  handlers: JobHandlers;
  /** Jobs run at once by this worker. Default 1. */
  concurrency?: number;
  /** Wait between claims when the queue is empty. Default 1000 ms. */
  pollMs?: number;
  /** Appears in lease tokens and logs. Default host:pid:random. */
  workerId?: string;
  logger?: WorkerLogger;
  /** Default queue.leaseMs / 3. */
  heartbeatMs?: number;
  /** After an abort on stop, how long to let handlers unwind before releasing anyway. Default 2000 ms. */
  abortSettleMs?: number;
  onProgress?(job: ClaimedJob, percent: number, note?: string): void;
}

export interface Worker {
  readonly workerId: string;
  /** Job types this worker claims (the registry's keys). */
  readonly types: readonly string[];
  /** Jobs currently running. */
  readonly activeJobs: number;
  start(): void;
  /** Claim now instead of at the next poll (e.g. right after an in-process enqueue). */
  nudge(): void;
  /** Resolves when no job of this worker still holds a lease. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

type RunState = 'running' | 'stopping' | 'released' | 'lost' | 'done';

interface ActiveJob {
  job: ClaimedJob;
  controller: AbortController;
  state: RunState;
  completedByHandler: boolean;
  stopHeartbeat(): void;
  settled: Promise<void>;
}

export function createWorker(options: WorkerOptions): Worker {
  const { queue } = options;
  const handlers = validateHandlers(options.handlers);
  const types = Object.keys(handlers);
  const concurrency = positiveInt('concurrency', options.concurrency ?? 1);
  const pollMs = positiveInt('pollMs', options.pollMs ?? 1000);
  const heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs ?? Math.max(1, Math.floor(queue.leaseMs / 3)));
  const abortSettleMs = options.abortSettleMs ?? 2000;
  const workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  const logger = options.logger ?? consoleLogger();

  const active = new Map<number, ActiveJob>();
  let started = false;
  let stopping = false;
  let loopDone: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  const wake = () => {
    const resolve = wakeUp;
    wakeUp = undefined;
    resolve?.();
  };
  /** Sleeps until woken (or for ms, when given). */
  const pause = (ms?: number) =>
    new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => wake(), ms);
      wakeUp = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });

  const onFinalFailure: FinalFailureHook = async (job, reason, trx, cause) => {
    logger.warn('job failed for good', { workerId, jobId: job.id, type: job.type, attempt: job.attempt, reason });
    await handlers[job.type]?.onFinalFailure?.(job, reason, trx, cause);
  };

  async function loop(): Promise<void> {
    let dbErrors = 0;
    while (!stopping) {
      if (active.size >= concurrency) {
        await pause();
        continue;
      }
      let job: ClaimedJob | null;
      try {
        job = await queue.claim(workerId, types, { onFinalFailure });
        dbErrors = 0;
      } catch (err) {
        dbErrors++;
        logger.error('claim failed; backing off', { workerId, err: describeError(err) });
        await pause(Math.min(pollMs * 2 ** Math.min(dbErrors, 10), 30_000));
        continue;
      }
      if (!job) {
        await pause(pollMs);
        continue;
      }
      if (stopping) {
        // Claimed while stop() was called: hand it straight back.
        await queue.release(job).catch((err) => logger.error('release failed', { workerId, jobId: job?.id, err: describeError(err) }));
        break;
      }
      runJob(job);
    }
  }

  function runJob(job: ClaimedJob): void {
    const controller = new AbortController();
    let heartbeatTimer: NodeJS.Timeout | undefined;
    let lastHeartbeatOk = Date.now();
    const entry: ActiveJob = {
      job,
      controller,
      state: 'running',
      completedByHandler: false,
      stopHeartbeat: () => {
        if (heartbeatTimer) clearTimeout(heartbeatTimer);
        heartbeatTimer = undefined;
      },
      settled: Promise.resolve(),
    };
    const log = { workerId, jobId: job.id, type: job.type, attempt: job.attempt };

    const loseLease = (why: string) => {
      if (entry.state !== 'running' && entry.state !== 'stopping') return;
      entry.state = 'lost';
      entry.stopHeartbeat();
      logger.warn('lease lost; aborting the handler', { ...log, why });
      controller.abort(new LeaseLostError());
    };

    const heartbeat = async (): Promise<boolean> => {
      if (entry.state === 'lost' || entry.state === 'released') return false;
      if (entry.completedByHandler) return true;
      try {
        const ok = await queue.heartbeat(job);
        if (ok) {
          lastHeartbeatOk = Date.now();
          return true;
        }
        if (!entry.completedByHandler) loseLease('the lease belongs to another attempt');
        return false;
      } catch (err) {
        logger.warn('heartbeat failed', { ...log, err: describeError(err) });
        if (Date.now() - lastHeartbeatOk < queue.leaseMs) return true;
        loseLease('no successful heartbeat for a whole lease');
        return false;
      }
    };
    const scheduleHeartbeat = () => {
      heartbeatTimer = setTimeout(async () => {
        await heartbeat();
        if (heartbeatTimer !== undefined && (entry.state === 'running' || entry.state === 'stopping')) scheduleHeartbeat();
      }, heartbeatMs);
    };

    const ctx: JobContext = {
      signal: controller.signal,
      heartbeat,
      async complete(trx: Transaction<DB>) {
        if (!(await queue.complete(job, trx))) {
          loseLease('completion refused');
          throw new LeaseLostError();
        }
        entry.completedByHandler = true;
        entry.stopHeartbeat();
      },
      progress(percent, note) {
        options.onProgress?.(job, percent, note);
      },
    };

    const execute = async () => {
      try {
        const handler = handlers[job.type];
        if (!handler) throw new PermanentJobError(`未知的任务类型「${job.type}」，没有对应的处理程序 (unknown job type)`);
        await handler.run(job, ctx);
        if (entry.state === 'lost' || entry.state === 'released') {
          logger.warn('handler finished after its lease was gone; result not recorded', log);
          return;
        }
        if (!entry.completedByHandler && !(await queue.complete(job))) {
          logger.warn('completion refused: the lease belongs to another attempt', log);
          return;
        }
        logger.info('job succeeded', log);
      } catch (err) {
        if (entry.state === 'lost' || err instanceof LeaseLostError) {
          logger.warn('attempt abandoned: lease lost', { ...log, err: describeError(err) });
          return;
        }
        if (entry.state === 'stopping' && controller.signal.aborted) {
          await releaseEntry(entry);
          return;
        }
        if (entry.state === 'released') return;
        const outage = outageOf(err);
        if (outage && !(err instanceof PermanentJobError)) {
          const outcome = await deferWhenPossible(entry, err);
          if (outcome?.outcome === 'deferred') {
            logger.warn('job deferred: a dependency is unavailable (attempt not counted)', {
              ...log,
              outage,
              reason: outcome.reason,
              runAt: outcome.runAt.toISOString(),
            });
          }
          return;
        }
        const retryable = !(err instanceof PermanentJobError);
        const outcome = await queue.fail(job, err, { retryable, onFinalFailure });
        if (outcome.outcome === 'retry') {
          logger.warn('job attempt failed; will retry', { ...log, reason: outcome.reason, runAt: outcome.runAt.toISOString() });
        } else if (outcome.outcome === 'lost') {
          logger.warn('attempt failed after its lease was lost; nothing recorded', { ...log, err: describeError(err) });
        }
      }
    };

    active.set(job.id, entry);
    scheduleHeartbeat();
    entry.settled = execute()
      .catch((err) => {
        // The queue itself failed (database down): the lease expires and the job is reclaimed.
        logger.error('could not record the job outcome; it will be reclaimed after its lease', { ...log, err: describeError(err) });
      })
      .finally(() => {
        entry.stopHeartbeat();
        if (entry.state === 'running' || entry.state === 'stopping') entry.state = 'done';
        active.delete(job.id);
        wake();
      });
  }

  /**
   * Records a deferral, retrying while the database itself is down (the same outage may have
   * stopped the job). Gives up after a whole lease: the job is then reclaimed like a dead worker's.
   */
  async function deferWhenPossible(entry: ActiveJob, err: unknown): Promise<DeferOutcome | null> {
    const giveUpAt = Date.now() + queue.leaseMs;
    for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        return await queue.defer(entry.job, err, { onFinalFailure });
      } catch (writeErr) {
        if (!outageOf(writeErr) || Date.now() + wait > giveUpAt) throw writeErr;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  async function releaseEntry(entry: ActiveJob): Promise<void> {
    if (entry.state === 'released' || entry.state === 'lost' || entry.state === 'done') return;
    entry.state = 'released';
    entry.stopHeartbeat();
    try {
      const ok = await queue.release(entry.job);
      logger.info(ok ? 'job released to the queue' : 'release refused: lease already gone', {
        workerId,
        jobId: entry.job.id,
        type: entry.job.type,
      });
    } catch (err) {
      logger.error('release failed; the job will be reclaimed after its lease', { workerId, jobId: entry.job.id, err: describeError(err) });
    }
  }

  const settleAll = () => Promise.all([...active.values()].map((e) => e.settled)).then(() => undefined);
  const within = (promise: Promise<void>, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      // settle promises never reject (each job's outcome is handled where it runs)
      void promise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  return {
    workerId,
    types,
    get activeJobs() {
      return active.size;
    },
    start() {
      if (started) throw new Error('worker already started');
      started = true;
      if (types.length === 0) {
        logger.warn('no job handlers registered; this worker will claim nothing', { workerId });
        return;
      }
      logger.info('worker started', { workerId, types, concurrency });
      loopDone = loop().catch((err) => logger.error('claim loop crashed', { workerId, err: describeError(err) }));
    },
    nudge: wake,
    stop({ graceMs = 30_000 } = {}) {
      stopped ??= (async () => {
        stopping = true;
        wake();
        await loopDone;
        if (active.size > 0) {
          logger.info('stopping: waiting for running jobs', { workerId, jobs: active.size, graceMs });
          for (const entry of active.values()) if (entry.state === 'running') entry.state = 'stopping';
          await within(settleAll(), graceMs);
        }
        if (active.size > 0) {
          const late = [...active.values()];
          for (const entry of late) if (entry.state === 'stopping') entry.controller.abort(new WorkerStoppingError());
          await within(settleAll(), abortSettleMs);
          await Promise.all(late.map(releaseEntry));
        }
        logger.info('worker stopped', { workerId });
      })();
      return stopped;
    },
  };
}

function validateHandlers(handlers: JobHandlers): Record<string, JobHandler> {
  const problems: string[] = [];
  for (const [type, handler] of Object.entries(handlers)) {
    if (!/^[a-z][a-z0-9_.:-]*$/i.test(type)) problems.push(`"${type}": job type must be a plain name`);
    if (!handler || typeof handler.run !== 'function') problems.push(`"${type}": run() is missing`);
    else if (handler.onFinalFailure !== undefined && typeof handler.onFinalFailure !== 'function') {
      problems.push(`"${type}": onFinalFailure must be a function`);
    }
  }
  if (problems.length) throw new Error(`invalid job handler registry: ${problems.join('; ')}`);
  return { ...handlers };
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer ≥ 1, got ${value}`);
  return value;
}

/** One JSON line per event; the composition root passes the platform logger instead. */
export function consoleLogger(): WorkerLogger {
  const write = (level: string, msg: string, fields?: Record<string, unknown>) =>
    (level === 'info' ? process.stdout : process.stderr).write(`${JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields })}\n`);
  return {
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}
