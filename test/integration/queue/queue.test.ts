import type { Transaction } from 'kysely';
import type { DB } from '../../../src/platform/db/schema';
import { createJobQueue, type ClaimedJob, type FinalFailureHook, type JobRef } from '../../../src/platform/queue/queue';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { clearJobs, effectsOf, jobRow, manualClock } from './helpers';

/** The queue on its own, with a hand-moved clock: every lease and backoff is exact. */
describe('job queue', () => {
  let t: TestDatabase;
  const db = () => t.database.db;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await clearJobs(db());
  });

  const recordEffect = (trx: Transaction<DB>, job: JobRef, action: string, reason?: string) =>
    trx
      .insertInto('audit_log')
      .values({ actor_name: 'worker', action, object_type: 'test-job', object_id: String(job.id), reason: reason ?? null })
      .execute();

  function recordingHook() {
    const calls: Array<{ job: JobRef; reason: string }> = [];
    const hook: FinalFailureHook = async (job, reason, trx) => {
      calls.push({ job, reason });
      await recordEffect(trx, job, 'video.failed', reason);
    };
    return { calls, hook };
  }

  test('when a job is enqueued inside a transaction that rolls back, then there is no job; when it commits, then it is claimable', async () => {
    const queue = createJobQueue(db());
    await expect(
      db()
        .transaction()
        .execute(async (trx) => {
          await queue.enqueue(trx, { type: 'ingest', payload: { videoId: 'v1' } });
          throw new Error('state change refused');
        }),
    ).rejects.toThrow('state change refused');
    expect(await queue.claim('w1', ['ingest'])).toBeNull();

    const { id } = await db()
      .transaction()
      .execute((trx) => queue.enqueue(trx, { type: 'ingest', payload: { videoId: 'v2' } }));
    const job = await queue.claim('w1', ['ingest']);
    expect(job).toMatchObject({ id, type: 'ingest', payload: { videoId: 'v2' }, attempt: 1, maxAttempts: 3 });
    expect(job?.leaseToken).toMatch(/^w1:1:/);
  });

  test('when the same dedupe key is enqueued twice, then there is one job and the second call returns its id', async () => {
    const queue = createJobQueue(db());
    const first = await queue.enqueue(db(), { type: 'ingest', dedupeKey: 'ingest:v1' });
    const second = await queue.enqueue(db(), { type: 'ingest', dedupeKey: 'ingest:v1' });
    expect(second).toEqual({ id: first.id, created: false });
    expect(first.created).toBe(true);
    expect((await queue.stats()).queued).toBe(1);
  });

  test('when a job is due later or of another type, then it is not claimed', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock });
    await queue.enqueue(db(), { type: 'ingest', runAt: new Date(clock.now().getTime() + 10_000) });
    await queue.enqueue(db(), { type: 'broadcast' });
    expect(await queue.claim('w1', ['ingest'])).toBeNull();
    clock.advance(10_000);
    expect(await queue.claim('w1', ['ingest'])).toMatchObject({ type: 'ingest' });
  });

  test('when many claimers race over many jobs, then each job is claimed once and completed once', async () => {
    const queue = createJobQueue(db());
    const ids = new Set<number>();
    for (let i = 0; i < 40; i++) ids.add((await queue.enqueue(db(), { type: 'ingest', payload: { i } })).id);

    const claimed: number[] = [];
    const claimer = async (workerId: string) => {
      for (let job = await queue.claim(workerId, ['ingest']); job; job = await queue.claim(workerId, ['ingest'])) {
        claimed.push(job.id);
        expect(await queue.complete(job)).toBe(true);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => claimer(`w${i}`)));

    expect(claimed).toHaveLength(40);
    expect(new Set(claimed)).toEqual(ids);
    expect(await queue.stats()).toEqual({ queued: 0, running: 0, succeeded: 40, failed: 0 });
  });

  test('when a lease expires, then another worker reclaims the job and the stale attempt is refused everywhere', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock, leaseMs: 1000 });
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    const stale = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    expect(await queue.claim('b', ['ingest'])).toBeNull(); // lease still held

    clock.advance(1000);
    const fresh = (await queue.claim('b', ['ingest'])) as ClaimedJob;
    expect(fresh).toMatchObject({ id, attempt: 2 });

    expect(await queue.heartbeat(stale)).toBe(false);
    expect(await queue.complete(stale)).toBe(false);
    expect(await queue.fail(stale, new Error('late'), { retryable: true })).toEqual({ outcome: 'lost' });
    expect(await queue.release(stale)).toBe(false);
    expect(await queue.complete(fresh)).toBe(true);

    const row = await jobRow(db(), id);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, lease_owner: null, lease_expires_at: null });
    expect(row.finished_at).toEqual(clock.now());
  });

  test('when a heartbeat extends the lease, then the job is not reclaimed past the original lease', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock, leaseMs: 1000 });
    await queue.enqueue(db(), { type: 'ingest' });
    const job = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    for (let i = 0; i < 5; i++) {
      clock.advance(600);
      expect(await queue.heartbeat(job)).toBe(true);
      expect(await queue.claim('b', ['ingest'])).toBeNull();
    }
    expect(await queue.complete(job)).toBe(true);
  });

  test('when the handler transaction that completes a job rolls back, then the job is still running; when it commits, then result and completion land together', async () => {
    const queue = createJobQueue(db());
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    const job = (await queue.claim('a', ['ingest'])) as ClaimedJob;

    await expect(
      db()
        .transaction()
        .execute(async (trx) => {
          await recordEffect(trx, job, 'video.ready');
          expect(await queue.complete(job, trx)).toBe(true);
          throw new Error('publishing failed');
        }),
    ).rejects.toThrow('publishing failed');
    expect((await jobRow(db(), id)).status).toBe('running');
    expect(await effectsOf(db(), id)).toBe(0);

    await db()
      .transaction()
      .execute(async (trx) => {
        await recordEffect(trx, job, 'video.ready');
        expect(await queue.complete(job, trx)).toBe(true);
      });
    expect((await jobRow(db(), id)).status).toBe('succeeded');
    expect(await effectsOf(db(), id)).toBe(1);
  });

  test('when a retryable failure repeats, then it waits 5 s, then 30 s, then fails with the reason and calls onFinalFailure once', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock, backoff: [5_000, 30_000] });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 3 });
    const { calls, hook } = recordingHook();

    let job = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    const first = await queue.fail(job, new Error('对象存储不可用 (object store down)'), { retryable: true, onFinalFailure: hook });
    expect(first).toMatchObject({ outcome: 'retry', runAt: new Date(clock.now().getTime() + 5_000) });
    expect(await jobRow(db(), id)).toMatchObject({ status: 'queued', attempts: 1, last_error: '对象存储不可用 (object store down)' });

    clock.advance(4_999);
    expect(await queue.claim('a', ['ingest'])).toBeNull();
    clock.advance(1);
    job = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    expect(job.attempt).toBe(2);
    expect(await queue.fail(job, new Error('still down'), { retryable: true, onFinalFailure: hook })).toMatchObject({ outcome: 'retry' });

    clock.advance(29_999);
    expect(await queue.claim('a', ['ingest'])).toBeNull();
    clock.advance(1);
    job = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    expect(job.attempt).toBe(3);
    expect(await queue.fail(job, new Error('存储仍不可用'), { retryable: true, onFinalFailure: hook })).toEqual({ outcome: 'failed', reason: '存储仍不可用' });

    expect(await jobRow(db(), id)).toMatchObject({ status: 'failed', attempts: 3, last_error: '存储仍不可用', lease_owner: null });
    expect(calls).toEqual([{ job: expect.objectContaining({ id, type: 'ingest', attempt: 3 }), reason: '存储仍不可用' }]);
    expect(await effectsOf(db(), id)).toBe(1);
    clock.advance(3_600_000);
    expect(await queue.claim('a', ['ingest'])).toBeNull();
  });

  test('when a failure is not retryable, then the job fails at once on its first attempt', async () => {
    const queue = createJobQueue(db());
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 5 });
    const { calls, hook } = recordingHook();
    const job = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    const outcome = await queue.fail(job, new Error('视频超出限制：时长 10 小时'), { retryable: false, onFinalFailure: hook });
    expect(outcome).toEqual({ outcome: 'failed', reason: '视频超出限制：时长 10 小时' });
    expect(await jobRow(db(), id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls).toHaveLength(1);
  });

  test('when the worker dies on the last attempt, then the next claim fails the job with a reason and onFinalFailure runs once in that transaction', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock, leaseMs: 1000 });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 2 });
    const other = await queue.enqueue(db(), { type: 'ingest' });
    const { calls, hook } = recordingHook();

    await queue.claim('dies-1', ['ingest']); // attempt 1 of the first job, then the worker dies
    await queue.claim('busy', ['ingest']); // the other job, still held
    clock.advance(1000);
    const second = (await queue.claim('dies-2', ['ingest'], { onFinalFailure: hook })) as ClaimedJob;
    expect(second).toMatchObject({ id, attempt: 2 });
    clock.advance(1000);
    // The first job is on its last attempt with an expired lease: reaped; the other job (expired, attempts left) is returned.
    const next = await queue.claim('w', ['ingest'], { onFinalFailure: hook });
    expect(next).toMatchObject({ id: other.id, attempt: 2 });

    const row = await jobRow(db(), id);
    expect(row).toMatchObject({ status: 'failed', attempts: 2, lease_owner: null });
    expect(row.last_error).toMatch(/^处理超时.*lease expired/);
    expect(calls).toEqual([{ job: expect.objectContaining({ id, attempt: 2 }), reason: row.last_error }]);
    expect(await effectsOf(db(), id)).toBe(1);
    expect(await queue.complete(second)).toBe(false);
  });

  test('when onFinalFailure throws, then its writes are undone but the job still ends failed, saying so', async () => {
    const queue = createJobQueue(db());
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 1 });
    const job = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    const hook: FinalFailureHook = async (failed, reason, trx) => {
      await recordEffect(trx, failed, 'video.failed', reason);
      throw new Error('video row missing');
    };
    const outcome = await queue.fail(job, new Error('ffmpeg crashed'), { retryable: true, onFinalFailure: hook });
    expect(outcome).toMatchObject({ outcome: 'failed' });
    const row = await jobRow(db(), id);
    expect(row.status).toBe('failed');
    expect(row.last_error).toContain('ffmpeg crashed');
    expect(row.last_error).toContain('onFinalFailure 出错：video row missing');
    expect(await effectsOf(db(), id)).toBe(0);
  });

  test('when a job is released, then it is queued at once without counting the attempt, and the released attempt is refused', async () => {
    const queue = createJobQueue(db());
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 1 });
    const released = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    expect(await queue.release(released)).toBe(true);
    expect(await jobRow(db(), id)).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });

    const again = (await queue.claim('a', ['ingest'])) as ClaimedJob;
    expect(again).toMatchObject({ id, attempt: 1 });
    expect(again.leaseToken).not.toBe(released.leaseToken);
    expect(await queue.complete(released)).toBe(false);
    expect(await queue.complete(again)).toBe(true);
  });

  test('when jobs are in every state, then stats counts them by status', async () => {
    const queue = createJobQueue(db());
    for (let i = 0; i < 4; i++) await queue.enqueue(db(), { type: 'ingest' });
    const a = (await queue.claim('w', ['ingest'])) as ClaimedJob;
    const b = (await queue.claim('w', ['ingest'])) as ClaimedJob;
    await queue.claim('w', ['ingest']);
    await queue.complete(a);
    await queue.fail(b, 'bad input', { retryable: false });
    expect(await queue.stats()).toEqual({ queued: 1, running: 1, succeeded: 1, failed: 1 });
  });
});
