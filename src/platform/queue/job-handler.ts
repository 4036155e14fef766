import type { Transaction } from 'kysely';
import type { DB } from '../db/schema';
import type { ClaimedJob, JobRef } from './queue';

/**
 * What a job type's handler implements. One handler per job type, registered in one map
 * (src/jobs.ts) and checked when a worker starts.
 *
 * Handlers are idempotent (at-least-once delivery): outputs go to deterministic keys, and a
 * completion is only recorded by the attempt that still holds the lease.
 */
export interface JobHandler<P = unknown> {
  /**
   * Does the work. Resolve → the job is completed (unless `ctx.complete(trx)` already did it).
   * Throw → retried with backoff while attempts remain; throw `PermanentJobError` to fail at once.
   * Watch `ctx.signal`: it aborts when the lease is lost or the worker stops past its grace period.
   */
  run(job: ClaimedJob<P>, ctx: JobContext): Promise<void>;
  /**
   * Called once when the job reaches `failed` (permanent error, attempts exhausted, or the worker
   * died on the last attempt), inside the transaction that marks it failed — e.g. set the video's
   * status to failed with `reason`. Must only touch the database through `trx`. `cause` is the error
   * of the last attempt (absent when the worker died on it): decide by its type, never by its text.
   */
  onFinalFailure?(job: JobRef<P>, reason: string, trx: Transaction<DB>, cause?: unknown): Promise<void>;
}

export type JobHandlers = Readonly<Record<string, JobHandler>>;

/** One handler per job type of a payload map, each typed by its payload (see JobPayloads in src/jobs.ts). */
export type JobHandlersFor<P> = { readonly [T in keyof P]: JobHandler<P[T]> };

export interface JobContext {
  /** Aborts when the lease is lost (`LeaseLostError`) or the worker is stopping (`WorkerStoppingError`). */
  readonly signal: AbortSignal;
  /**
   * Extends the lease now (the worker also does this every leaseMs/3). false → the lease is lost
   * and `signal` is aborted. Never call it from inside an open transaction: on embedded PGlite
   * (one connection) it would wait for that transaction forever.
   */
  heartbeat(): Promise<boolean>;
  /**
   * Records the completion inside the handler's own transaction, so its result and the job's
   * completion commit together. Throws `LeaseLostError` when this attempt no longer holds the
   * lease, which rolls the handler's transaction back.
   */
  complete(trx: Transaction<DB>): Promise<void>;
  /** Optional progress report (0–100) for live status; never required. */
  progress(percent: number, note?: string): void;
}

/** Throw from a handler when retrying cannot help (bad input, exceeds limits): fails at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** This attempt no longer holds the job's lease: another attempt owns it; stop and record nothing. */
export class LeaseLostError extends Error {
  constructor(message = '任务租约已失效，已由其他工作进程接手 (lease lost)') {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/** The worker is stopping and the grace period ran out; the job is released to the queue. */
export class WorkerStoppingError extends Error {
  constructor(message = '工作进程正在停止，任务已退回队列 (worker stopping)') {
    super(message);
    this.name = 'WorkerStoppingError';
  }
}
