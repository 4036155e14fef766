import type { Transaction } from 'kysely';
import type { DB } from '../../../src/platform/db/schema';
import { createJobQueue, type JobQueue, type JobRef } from '../../../src/platform/queue/queue';
import {
  createWorker,
  LeaseLostError,
  PermanentJobError,
  WorkerStoppingError,
  type JobHandler,
  type Worker,
  type WorkerOptions,
} from '../../../src/platform/queue/worker';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { clearJobs, effectsOf, jobRow, silentLogger, sleep, sleepUnlessAborted, waitFor } from './helpers';

/** The worker runtime with the real clock and short leases (hundreds of ms). */
describe('worker', () => {
  let t: TestDatabase;
  const db = () => t.database.db;
  const workers: Worker[] = [];
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await clearJobs(db());
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 0 })));
  });

  function startWorker(options: Omit<WorkerOptions, 'logger' | 'pollMs'> & { pollMs?: number }): Worker {
    const worker = createWorker({ pollMs: 20, logger: silentLogger, ...options });
    workers.push(worker);
    worker.start();
    return worker;
  }

  const recordEffect = (trx: Transaction<DB>, job: JobRef, action: string, reason?: string) =>
    trx
      .insertInto('audit_log')
      .values({ actor_name: 'worker', action, object_type: 'test-job', object_id: String(job.id), reason: reason ?? null })
      .execute();

  /** A handler that records its output and completes in one transaction, as real handlers do. */
  const publishing = (runs: Map<number, number>, workMs = 0): JobHandler => ({
    async run(job, ctx) {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      if (workMs) await sleepUnlessAborted(workMs, ctx.signal);
      await db()
        .transaction()
        .execute(async (trx) => {
          await recordEffect(trx, job, 'video.ready');
          await ctx.complete(trx);
        });
    },
  });

  const statusOf = async (id: number) => (await jobRow(db(), id)).status;

  test('when two workers share many jobs, then each job runs once and its effect is recorded once', async () => {
    const queue = createJobQueue(db(), { leaseMs: 2000 });
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push((await queue.enqueue(db(), { type: 'ingest', payload: { i } })).id);
    const runs = new Map<number, number>();
    startWorker({ queue, handlers: { ingest: publishing(runs, 5) }, concurrency: 3, workerId: 'a' });
    startWorker({ queue, handlers: { ingest: publishing(runs, 5) }, concurrency: 3, workerId: 'b' });

    await waitFor(async () => (await queue.stats()).succeeded === 30, 10_000);
    expect([...runs.keys()].sort((x, y) => x - y)).toEqual(ids);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    for (const id of ids) expect(await effectsOf(db(), id)).toBe(1);
  });

  test('when a job outlives its lease but heartbeats, then no other worker takes it and it succeeds on its first attempt', async () => {
    const queue = createJobQueue(db(), { leaseMs: 300 });
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    const runs = new Map<number, number>();
    startWorker({ queue, handlers: { ingest: publishing(runs, 1200) }, workerId: 'slow' });
    await waitFor(async () => (await statusOf(id)) === 'running');
    startWorker({ queue, handlers: { ingest: publishing(runs) }, workerId: 'eager' });

    await waitFor(async () => (await statusOf(id)) === 'succeeded', 5000);
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 1 });
    expect(runs.get(id)).toBe(1);
  });

  test('when a worker stops heartbeating, then another reclaims the job after the lease, the first handler is aborted and its completion refused', async () => {
    const queue = createJobQueue(db(), { leaseMs: 300 });
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    const runs = new Map<number, number>();
    let abandonedSignal: AbortSignal | undefined;
    let abandonedHeartbeat: boolean | undefined;
    let abandonedCompletion: unknown;
    // The abandoned worker: its automatic heartbeat never fires within the test (a hung process).
    startWorker({
      queue,
      heartbeatMs: 60_000,
      workerId: 'hung',
      handlers: {
        ingest: {
          async run(job, ctx) {
            abandonedSignal = ctx.signal;
            await waitFor(async () => (await jobRow(db(), job.id)).attempts === 2, 5000);
            abandonedHeartbeat = await ctx.heartbeat();
            abandonedCompletion = await db()
              .transaction()
              .execute(async (trx) => {
                await recordEffect(trx, job, 'video.ready');
                await ctx.complete(trx);
              })
              .catch((err: unknown) => err);
          },
        },
      },
    });
    await waitFor(async () => (await statusOf(id)) === 'running');
    startWorker({ queue, handlers: { ingest: publishing(runs, 200) }, workerId: 'healthy' });

    await waitFor(async () => (await statusOf(id)) === 'succeeded' && abandonedCompletion !== undefined, 5000);
    expect(abandonedHeartbeat).toBe(false);
    expect(abandonedSignal?.aborted).toBe(true);
    expect(abandonedSignal?.reason).toBeInstanceOf(LeaseLostError);
    expect(abandonedCompletion).toBeInstanceOf(LeaseLostError);
    expect(await jobRow(db(), id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await effectsOf(db(), id)).toBe(1);
  });

  test('when a handler keeps failing, then it is retried with backoff and ends failed with its reason; onFinalFailure once', async () => {
    const queue = createJobQueue(db(), { backoff: [50, 100] });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 3 });
    const attempts: number[] = [];
    const finals: string[] = [];
    startWorker({
      queue,
      handlers: {
        ingest: {
          async run(job) {
            attempts.push(job.attempt);
            throw new Error(`对象存储不可用（第 ${job.attempt} 次）`);
          },
          async onFinalFailure(job, reason, trx) {
            finals.push(reason);
            await recordEffect(trx, job, 'video.failed', reason);
          },
        },
      },
    });
    await waitFor(async () => (await statusOf(id)) === 'failed', 5000);
    expect(attempts).toEqual([1, 2, 3]);
    expect(finals).toEqual(['对象存储不可用（第 3 次）']);
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 3, last_error: '对象存储不可用（第 3 次）' });
    expect(await effectsOf(db(), id)).toBe(1);
  });

  test('when a handler fails once then succeeds, then the job succeeds on its second attempt', async () => {
    const queue = createJobQueue(db(), { backoff: [30] });
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    startWorker({
      queue,
      handlers: {
        ingest: {
          async run(job) {
            if (job.attempt === 1) throw new Error('temporary');
          },
        },
      },
    });
    await waitFor(async () => (await statusOf(id)) === 'succeeded', 5000);
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 2, last_error: 'temporary' });
  });

  test('when a handler throws PermanentJobError, then the job fails at once and onFinalFailure runs once', async () => {
    const queue = createJobQueue(db(), { backoff: [10] });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 5 });
    const finals: string[] = [];
    startWorker({
      queue,
      handlers: {
        ingest: {
          async run() {
            throw new PermanentJobError('视频超出限制：分辨率 100000×100000');
          },
          async onFinalFailure(_job, reason) {
            finals.push(reason);
          },
        },
      },
    });
    await waitFor(async () => (await statusOf(id)) === 'failed', 5000);
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 1, last_error: '视频超出限制：分辨率 100000×100000' });
    await sleep(100);
    expect(finals).toEqual(['视频超出限制：分辨率 100000×100000']);
  });

  test('when the worker on the last attempt hangs, then another worker fails the job with a reason and calls onFinalFailure once', async () => {
    const queue = createJobQueue(db(), { leaseMs: 300 });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 1 });
    const finals: string[] = [];
    const onFinalFailure = async (job: JobRef, reason: string, trx: Transaction<DB>) => {
      finals.push(reason);
      await recordEffect(trx, job, 'video.failed', '处理超时，请重新上传');
    };
    startWorker({
      queue,
      heartbeatMs: 60_000,
      workerId: 'hung',
      handlers: { ingest: { run: (_job, ctx) => sleepUnlessAborted(60_000, ctx.signal), onFinalFailure } },
    });
    await waitFor(async () => (await statusOf(id)) === 'running');
    startWorker({ queue, workerId: 'healthy', handlers: { ingest: { run: async () => undefined, onFinalFailure } } });

    await waitFor(async () => (await statusOf(id)) === 'failed', 5000);
    expect((await jobRow(db(), id)).last_error).toMatch(/^处理超时/);
    await sleep(100);
    expect(finals).toHaveLength(1);
    expect(await effectsOf(db(), id)).toBe(1);
  });

  test('when stopped while a job runs, then no new job is claimed and the running one finishes within the grace period', async () => {
    const queue = createJobQueue(db(), { leaseMs: 2000 });
    const first = await queue.enqueue(db(), { type: 'ingest' });
    const runs = new Map<number, number>();
    const worker = startWorker({ queue, handlers: { ingest: publishing(runs, 300) } });
    await waitFor(async () => (await statusOf(first.id)) === 'running');
    const second = await queue.enqueue(db(), { type: 'ingest' });

    const started = Date.now();
    await worker.stop({ graceMs: 3000 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await statusOf(first.id)).toBe('succeeded');
    worker.nudge();
    await sleep(100);
    expect(await jobRow(db(), second.id)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  test('when a handler exceeds the grace period, then it is aborted and its job is queued again, attempt not counted, for another worker', async () => {
    const queue = createJobQueue(db(), { leaseMs: 2000 });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 1 });
    let reason: unknown;
    const worker = startWorker({
      queue,
      handlers: {
        ingest: {
          async run(_job, ctx) {
            await sleepUnlessAborted(60_000, ctx.signal).catch((err: unknown) => {
              reason = err;
              throw err;
            });
          },
        },
      },
    });
    await waitFor(async () => (await statusOf(id)) === 'running');

    const started = Date.now();
    await worker.stop({ graceMs: 200 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(reason).toBeInstanceOf(WorkerStoppingError);
    expect(await jobRow(db(), id)).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });

    const runs = new Map<number, number>();
    startWorker({ queue, handlers: { ingest: publishing(runs) } });
    await waitFor(async () => (await statusOf(id)) === 'succeeded');
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 1 });
  });

  test('when a handler ignores the abort on stop, then the job is released anyway and its late completion is refused', async () => {
    const queue = createJobQueue(db(), { leaseMs: 2000 });
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    let finishLate: () => void = () => undefined;
    const worker = startWorker({
      queue,
      abortSettleMs: 50,
      handlers: { ingest: { run: () => new Promise<void>((resolve) => (finishLate = resolve)) } },
    });
    await waitFor(async () => (await statusOf(id)) === 'running');
    await worker.stop({ graceMs: 50 });
    expect(await jobRow(db(), id)).toMatchObject({ status: 'queued', attempts: 0 });
    finishLate();
    await sleep(50);
    expect(await statusOf(id)).toBe('queued');
  });

  test('when the registry has a handler without run(), then the worker refuses to start', () => {
    const queue: JobQueue = createJobQueue(db());
    expect(() => createWorker({ queue, handlers: { ingest: {} as JobHandler }, logger: silentLogger })).toThrow(/"ingest": run\(\) is missing/);
    expect(() => createWorker({ queue, handlers: { ingest: { run: async () => undefined } }, concurrency: 0, logger: silentLogger })).toThrow(/concurrency/);
  });
});
