import { createJobQueue, INFRA_FAILURE_REASON } from '../../../src/platform/queue/queue';
import { StoreUnavailableError } from '../../../src/platform/storage';
import { createWorker } from '../../../src/platform/queue/worker';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { clearJobs, jobRow, manualClock, silentLogger, waitFor } from './helpers';

/**
 * Outages are not the job's fault (issue 12): a job stopped by an unavailable database or object
 * store is deferred without spending an attempt, until a long deadline; an admin can retry a
 * failed job with all its attempts.
 */
describe('jobs during an outage', () => {
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

  test('when an attempt is deferred for an outage, then it is queued after 5 s, 10 s, 20 s … capped at 2 min, and its attempts are untouched', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 3 });
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const job = (await queue.claim('w1', ['ingest']))!;
      expect(job.attempt).toBe(1);
      const outcome = await queue.defer(job, new StoreUnavailableError('object store did not answer'));
      expect(outcome.outcome).toBe('deferred');
      if (outcome.outcome === 'deferred') waits.push(outcome.runAt.getTime() - clock.now().getTime());
      expect(await queue.claim('w1', ['ingest'])).toBeNull();
      clock.advance(waits[i]);
    }
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000]);
    const row = await jobRow(db(), id);
    expect(row).toMatchObject({ status: 'queued', attempts: 0, infra_retries: 7 });
    expect(row.last_error).toMatch(/^系统暂时不可用，稍后自动重试（不计入尝试次数）/);

    // The first verdict about the media itself resets the outage count.
    const job = (await queue.claim('w1', ['ingest']))!;
    await queue.fail(job, new Error('bad file'), { retryable: true });
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 1, infra_retries: 0, infra_retry_since: null });
  });

  test('when the outage outlasts the deadline, then the job fails for good with a reason that says the file is fine', async () => {
    const clock = manualClock();
    const queue = createJobQueue(db(), { clock, infraRetryMs: 3600_000 });
    const { id } = await queue.enqueue(db(), { type: 'ingest' });
    const reasons: string[] = [];
    for (;;) {
      const job = await queue.claim('w1', ['ingest']);
      if (!job) {
        clock.advance(120_000);
        continue;
      }
      const outcome = await queue.defer(job, new Error('Connection terminated unexpectedly'), {
        onFinalFailure: async (_job, reason) => {
          reasons.push(reason);
        },
      });
      if (outcome.outcome === 'failed') break;
      clock.advance(120_000);
    }
    const row = await jobRow(db(), id);
    expect(row).toMatchObject({ status: 'failed', last_error: INFRA_FAILURE_REASON, attempts: 1 });
    expect(reasons).toEqual([INFRA_FAILURE_REASON]);
    expect(INFRA_FAILURE_REASON).toContain('无需重新上传');
    expect(clock.now().getTime() - Date.parse('2026-03-01T08:00:00Z')).toBeGreaterThanOrEqual(3600_000);
  });

  test('when an admin retries a failed job, then it is queued at once with all its attempts; a second retry changes nothing', async () => {
    const queue = createJobQueue(db());
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 1 });
    const job = (await queue.claim('w1', ['ingest']))!;
    await queue.fail(job, new Error('broken'), { retryable: true });
    expect((await jobRow(db(), id)).status).toBe('failed');
    expect(await queue.retry(db(), id)).toBe(true);
    expect(await jobRow(db(), id)).toMatchObject({ status: 'queued', attempts: 0, finished_at: null });
    expect(await queue.retry(db(), id)).toBe(false);
    expect((await queue.claim('w1', ['ingest']))?.attempt).toBe(1);
  });

  test('when a handler fails because the store is down, then the worker defers the job (attempt not counted) and runs it again when it is due', async () => {
    const queue = createJobQueue(db(), { infraBackoff: () => 50 });
    const { id } = await queue.enqueue(db(), { type: 'ingest', maxAttempts: 1 });
    let runs = 0;
    const worker = createWorker({
      queue,
      pollMs: 20,
      logger: silentLogger,
      handlers: {
        ingest: {
          async run() {
            runs++;
            if (runs <= 3) throw new StoreUnavailableError('object store did not answer');
          },
        },
      },
    });
    worker.start();
    try {
      await waitFor(async () => (await jobRow(db(), id)).status === 'succeeded', 10_000);
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    expect(runs).toBe(4);
    expect(await jobRow(db(), id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});
