import crypto from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema';
import { beijingDay } from '../format';
import type { JobStatus } from './queue.schema';

/**
 * A small PostgreSQL job queue (docs/architecture.md §6 "Jobs"): at-least-once delivery, claims with
 * `FOR UPDATE SKIP LOCKED`, a lease a live worker extends, bounded attempts with backoff, and a
 * final `failed` state with a reason a person can read. Works the same on PostgreSQL and PGlite.
 *
 * Semantics:
 * - `claim` starts an attempt: attempts + 1, status running, a fresh lease token, lease until
 *   now + leaseMs. A running job whose lease expired is claimable again (its dead attempt counts).
 * - Every later write for an attempt (heartbeat, complete, fail, release) matches the row on
 *   `lease_owner = leaseToken AND attempts = attempt AND status = 'running'`, inside the writing
 *   transaction; a stale attempt's write changes nothing and returns false / 'lost'.
 * - `fail(retryable)` requeues with backoff while attempts < max_attempts, else `failed`.
 * - A running job whose lease expired on its last attempt is moved to `failed` by the next claim
 *   that sees it, and `onFinalFailure` runs in that same transaction.
 * - `release` (graceful stop) puts the job back to queued at once and does not count the attempt.
 * - `defer` (an outage: database or object store unavailable) puts the job back to queued after an
 *   outage backoff (5 s doubling to 2 min) and does not count the attempt; attempts are for bad
 *   media. Past `infraRetryMs` since the outage first stopped the job, it fails for good with
 *   INFRA_FAILURE_REASON (which never blames the file). An admin can `retry` a failed job.
 * - Time comes from `clock` (injectable for tests), not the database's now().
 */

export interface Clock {
  now(): Date;
}

/** Milliseconds to wait before the next attempt, after attempt n (1-based) failed. */
export type BackoffPolicy = readonly number[] | ((attempt: number) => number);

export const DEFAULT_BACKOFF_MS: readonly number[] = [5_000, 30_000, 120_000];

export interface JobQueueOptions {
  clock?: Clock;
  /** How long a claim or heartbeat keeps a job; a worker heartbeats every leaseMs/3. */
  leaseMs?: number;
  /** Default 5 s, 30 s, 2 min (the last value repeats). */
  backoff?: BackoffPolicy;
  /** Wait before re-running a job deferred by an outage, after the n-th deferral. Default 5 s doubling, capped at 2 min. */
  infraBackoff?: BackoffPolicy;
  /** How long a job may keep being deferred by an outage before it fails for good. Default 24 h. */
  infraRetryMs?: number;
}

/** The final reason of a job that an outage kept from running for JOB_INFRA_RETRY_HOURS: not the file's fault. */
export const INFRA_FAILURE_REASON = '系统故障（数据库或文件存储长时间不可用），视频未能处理。原始文件已保存，无需重新上传；管理员可在作品页点击「重新处理」。';

export const DEFAULT_INFRA_BACKOFF = (n: number) => Math.min(5_000 * 2 ** Math.max(0, n - 1), 120_000);

type Executor = Kysely<DB> | Transaction<DB>;

export interface EnqueueInput {
  type: string;
  /** Any JSON value; a handler reads it back as `job.payload`. */
  payload?: unknown;
  runAt?: Date;
  maxAttempts?: number;
  /** A job with this key is enqueued once, ever; enqueueing it again returns the existing id. */
  dedupeKey?: string;
}

/**
 * What `enqueue` accepts when the queue is typed by a map of job type → payload (the application's
 * `JobPayloads`, src/jobs.ts): the type names a registered job and the payload is that job's.
 */
export type TypedEnqueueInput<P> = {
  [T in keyof P & string]: Omit<EnqueueInput, 'type' | 'payload'> & { type: T } & (undefined extends P[T] ? { payload?: P[T] } : { payload: P[T] });
}[keyof P & string];

export interface EnqueueResult {
  id: number;
  /** false when a job with the same dedupeKey already existed. */
  created: boolean;
}

/** A job as a handler sees it. */
export interface JobRef<P = unknown> {
  readonly id: number;
  readonly type: string;
  readonly payload: P;
  /** 1-based number of this attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
}

/** A job claimed by one attempt; `leaseToken` identifies this attempt and no other. */
export interface ClaimedJob<P = unknown> extends JobRef<P> {
  readonly leaseToken: string;
}

/** Runs inside the transaction that marks a job failed for good (see JobHandler.onFinalFailure). */
export type FinalFailureHook = (job: JobRef, reason: string, trx: Transaction<DB>, cause?: unknown) => Promise<void>;

export type FailOutcome =
  | { outcome: 'retry'; runAt: Date; reason: string }
  | { outcome: 'failed'; reason: string }
  /** The attempt no longer held the lease: nothing was changed. */
  | { outcome: 'lost' };

export type DeferOutcome = { outcome: 'deferred'; runAt: Date; reason: string } | { outcome: 'failed'; reason: string } | { outcome: 'lost' };

export type JobStats = Record<JobStatus, number>;

/** The queue; `P` maps job types to payloads (untyped — any type, any JSON — when not given). */
export interface JobQueue<P = Record<string, unknown>> extends JobRunQueue {
  /** Pass the caller's transaction so the state change and its job commit together. */
  enqueue(executor: Executor, input: TypedEnqueueInput<P>): Promise<EnqueueResult>;
}

/** The worker's side of the queue (everything but enqueue): whatever the payload map, the runtime is the same. */
export interface JobRunQueue {
  readonly leaseMs: number;
  /** The next due job of one of `types`, or null. Also fails jobs whose last attempt's worker died. */
  claim(workerId: string, types: readonly string[], options?: { onFinalFailure?: FinalFailureHook }): Promise<ClaimedJob | null>;
  /** Extends the lease; false when this attempt no longer holds it. */
  heartbeat(job: ClaimedJob): Promise<boolean>;
  /** Marks the job succeeded; pass the handler's transaction to commit it with the result. false: lease lost. */
  complete(job: ClaimedJob, trx?: Transaction<DB>): Promise<boolean>;
  fail(job: ClaimedJob, error: unknown, options: { retryable: boolean; onFinalFailure?: FinalFailureHook }): Promise<FailOutcome>;
  /** Graceful stop: back to queued now, attempt not counted. false: lease lost. */
  release(job: ClaimedJob): Promise<boolean>;
  /** An outage stopped the attempt: back to queued after the outage backoff, attempt not counted (see INFRA_FAILURE_REASON). */
  defer(job: ClaimedJob, error: unknown, options?: { onFinalFailure?: FinalFailureHook }): Promise<DeferOutcome>;
  /** An admin's retry of a failed job: queued now with all its attempts. false: the job is not failed (or does not exist). */
  retry(executor: Executor, jobId: number): Promise<boolean>;
  stats(): Promise<JobStats>;
}

const MAX_REASON_CHARS = 2000;
/** Exhausted-lease jobs one claim call will clean up before giving up until the next poll. */
const MAX_REAPS_PER_CLAIM = 20;

/**
 * Adds a job in the caller's transaction (what `queue.enqueue` does). For writers that have a
 * transaction but no queue object, e.g. notify() scheduling its delivery; prefer `queue.enqueue`.
 */
export async function enqueueJob(executor: Executor, input: EnqueueInput, now: Date = new Date()): Promise<EnqueueResult> {
  if (!input.type) throw new Error('job type is required');
  const maxAttempts = input.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  const inserted = await executor
    .insertInto('jobs')
    .values({
      type: input.type,
      payload: JSON.stringify(input.payload ?? {}),
      max_attempts: maxAttempts,
      run_at: input.runAt ?? now,
      dedupe_key: input.dedupeKey ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('dedupe_key').where('dedupe_key', 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, created: true };
  const existing = await executor
    .selectFrom('jobs')
    .select('id')
    .where('dedupe_key', '=', input.dedupeKey ?? null)
    .executeTakeFirstOrThrow();
  return { id: existing.id, created: false };
}

/**
 * A job that runs once a Beijing day, at `hour`:00 (or at once when that hour has passed): its
 * dedupeKey names the day, so every process may call this every hour and the day still gets one job.
 */
export function dailyJob<T extends string>(type: T, hourBeijing: number, now: Date): { type: T; payload: { day: string }; runAt: Date; dedupeKey: string } {
  const day = beijingDay(now);
  const at = new Date(`${day}T${String(hourBeijing).padStart(2, '0')}:00:00+08:00`);
  return { type, payload: { day }, runAt: at > now ? at : now, dedupeKey: `${type}:${day}` };
}

/** The id of the job queued under this dedupe key, if there is one (e.g. to `retry` it). */
export async function findJobIdByDedupeKey(executor: Executor, dedupeKey: string): Promise<number | undefined> {
  const job = await executor.selectFrom('jobs').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirst();
  return job?.id;
}

export function createJobQueue<P = Record<string, unknown>>(db: Kysely<DB>, options: JobQueueOptions = {}): JobQueue<P> {
  const clock = options.clock ?? { now: () => new Date() };
  const leaseMs = options.leaseMs ?? 60_000;
  if (!Number.isInteger(leaseMs) || leaseMs < 10) throw new Error(`leaseMs must be an integer ≥ 10, got ${leaseMs}`);
  const backoffMs = toBackoffFn(options.backoff ?? DEFAULT_BACKOFF_MS);
  const infraBackoffMs = toBackoffFn(options.infraBackoff ?? DEFAULT_INFRA_BACKOFF);
  const infraRetryMs = options.infraRetryMs ?? 24 * 3600_000;
  const later = (from: Date, ms: number) => new Date(from.getTime() + ms);

  const ownedBy = (job: ClaimedJob) =>
    db
      .updateTable('jobs')
      .where('id', '=', job.id)
      .where('lease_owner', '=', job.leaseToken)
      .where('attempts', '=', job.attempt)
      .where('status', '=', 'running');

  /** The job's row, locked, while this attempt still holds its lease (else no row: the attempt was lost). */
  const lockOwned = (trx: Transaction<DB>, job: ClaimedJob) =>
    trx
      .selectFrom('jobs')
      .where('id', '=', job.id)
      .where('lease_owner', '=', job.leaseToken)
      .where('attempts', '=', job.attempt)
      .where('status', '=', 'running')
      .forUpdate();

  /** Moves a locked row to failed and runs the hook in the same transaction. */
  async function finalize(trx: Transaction<DB>, job: JobRef, reason: string, hook: FinalFailureHook | undefined, now: Date, cause?: unknown) {
    let finalReason = reason;
    if (hook) {
      // A hook that throws must not leave the job stuck (every later claim would hit it again):
      // undo only the hook's writes, keep the job's failure, and say so in the reason.
      await sql`savepoint job_final_failure`.execute(trx);
      try {
        await hook(job, reason, trx, cause);
        await sql`release savepoint job_final_failure`.execute(trx);
      } catch (err) {
        await sql`rollback to savepoint job_final_failure`.execute(trx);
        finalReason = `${reason}（onFinalFailure 出错：${describeError(err)}）`;
      }
    }
    await trx
      .updateTable('jobs')
      .set({
        status: 'failed',
        last_error: truncate(finalReason),
        lease_owner: null,
        lease_expires_at: null,
        finished_at: now,
        updated_at: now,
      })
      .where('id', '=', job.id)
      .execute();
    return finalReason;
  }

  return {
    leaseMs,

    enqueue(executor, typed) {
      return enqueueJob(executor, typed as EnqueueInput, clock.now());
    },

    async claim(workerId, types, claimOptions = {}) {
      if (!workerId) throw new Error('workerId is required');
      if (types.length === 0) return null;
      for (let i = 0; i < MAX_REAPS_PER_CLAIM; i++) {
        const result = await db.transaction().execute(async (trx) => {
          const now = clock.now();
          const row = await trx
            .selectFrom('jobs')
            .select(['id', 'type', 'payload', 'status', 'attempts', 'max_attempts'])
            .where('type', 'in', [...types])
            .where((eb) =>
              eb.or([
                eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
                eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<=', now)]),
              ]),
            )
            .orderBy('run_at')
            .orderBy('id')
            .limit(1)
            .forUpdate()
            .skipLocked()
            .executeTakeFirst();
          if (!row) return { kind: 'none' as const };

          if (row.status === 'running' && row.attempts >= row.max_attempts) {
            const job: JobRef = { id: row.id, type: row.type, payload: row.payload, attempt: row.attempts, maxAttempts: row.max_attempts };
            const reason = `处理超时：第 ${row.attempts}/${row.max_attempts} 次（最后一次）尝试时工作进程失去响应。The worker stopped responding on the last attempt (lease expired).`;
            await finalize(trx, job, reason, claimOptions.onFinalFailure, now);
            return { kind: 'reaped' as const };
          }

          const attempt = row.attempts + 1;
          const leaseToken = `${workerId}:${attempt}:${crypto.randomBytes(4).toString('hex')}`;
          await trx
            .updateTable('jobs')
            .set({
              status: 'running',
              attempts: attempt,
              lease_owner: leaseToken,
              lease_expires_at: later(now, leaseMs),
              updated_at: now,
            })
            .where('id', '=', row.id)
            .execute();
          const job: ClaimedJob = { id: row.id, type: row.type, payload: row.payload, attempt, maxAttempts: row.max_attempts, leaseToken };
          return { kind: 'claimed' as const, job };
        });
        if (result.kind === 'claimed') return result.job;
        if (result.kind === 'none') return null;
      }
      return null;
    },

    async heartbeat(job) {
      const now = clock.now();
      const result = await ownedBy(job)
        .set({ lease_expires_at: later(now, leaseMs), updated_at: now })
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async complete(job, trx) {
      const now = clock.now();
      const result = await (trx ?? db)
        .updateTable('jobs')
        .set({ status: 'succeeded', lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now })
        .where('id', '=', job.id)
        .where('lease_owner', '=', job.leaseToken)
        .where('attempts', '=', job.attempt)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async fail(job, error, failOptions) {
      const reason = describeError(error);
      return db.transaction().execute(async (trx): Promise<FailOutcome> => {
        const now = clock.now();
        const row = await lockOwned(trx, job).select(['attempts', 'max_attempts']).executeTakeFirst();
        if (!row) return { outcome: 'lost' };
        if (failOptions.retryable && row.attempts < row.max_attempts) {
          const runAt = later(now, backoffMs(row.attempts));
          await trx
            .updateTable('jobs')
            .set({
              status: 'queued',
              run_at: runAt,
              lease_owner: null,
              lease_expires_at: null,
              last_error: truncate(reason),
              infra_retries: 0,
              infra_retry_since: null,
              updated_at: now,
            })
            .where('id', '=', job.id)
            .execute();
          return { outcome: 'retry', runAt, reason };
        }
        const finalReason = await finalize(trx, job, reason, failOptions.onFinalFailure, now, error);
        return { outcome: 'failed', reason: finalReason };
      });
    },

    async release(job) {
      const now = clock.now();
      const result = await ownedBy(job)
        .set((eb) => ({
          status: 'queued',
          attempts: eb('attempts', '-', 1),
          lease_owner: null,
          lease_expires_at: null,
          updated_at: now,
        }))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async defer(job, error, deferOptions = {}) {
      const reason = describeError(error);
      return db.transaction().execute(async (trx): Promise<DeferOutcome> => {
        const now = clock.now();
        const row = await lockOwned(trx, job).select(['infra_retries', 'infra_retry_since']).executeTakeFirst();
        if (!row) return { outcome: 'lost' };
        const since = row.infra_retry_since ? new Date(row.infra_retry_since) : now;
        if (now.getTime() - since.getTime() >= infraRetryMs) {
          const finalReason = await finalize(trx, job, INFRA_FAILURE_REASON, deferOptions.onFinalFailure, now, error);
          return { outcome: 'failed', reason: finalReason };
        }
        const retries = row.infra_retries + 1;
        const runAt = later(now, infraBackoffMs(retries));
        await trx
          .updateTable('jobs')
          .set((eb) => ({
            status: 'queued',
            attempts: eb('attempts', '-', 1),
            run_at: runAt,
            lease_owner: null,
            lease_expires_at: null,
            last_error: truncate(`系统暂时不可用，稍后自动重试（不计入尝试次数）：${reason}`),
            infra_retries: retries,
            infra_retry_since: since,
            updated_at: now,
          }))
          .where('id', '=', job.id)
          .execute();
        return { outcome: 'deferred', runAt, reason };
      });
    },

    async retry(executor, jobId) {
      const now = clock.now();
      const result = await executor
        .updateTable('jobs')
        .set({
          status: 'queued',
          attempts: 0,
          run_at: now,
          lease_owner: null,
          lease_expires_at: null,
          finished_at: null,
          infra_retries: 0,
          infra_retry_since: null,
          updated_at: now,
        })
        .where('id', '=', jobId)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async stats() {
      const rows = await db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      const stats: JobStats = { queued: 0, running: 0, succeeded: 0, failed: 0 };
      for (const row of rows) stats[row.status] = Number(row.n);
      return stats;
    },
  };
}

function toBackoffFn(policy: BackoffPolicy): (attempt: number) => number {
  if (typeof policy === 'function') return (attempt) => Math.max(0, policy(attempt));
  if (policy.length === 0) throw new Error('backoff needs at least one delay');
  return (attempt) => policy[Math.min(Math.max(attempt, 1), policy.length) - 1];
}

/** The reason stored in last_error: the error's own message (handlers write it for people). */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : String(error);
  return message.trim() || '未知错误 (unknown error)';
}

function truncate(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
}
