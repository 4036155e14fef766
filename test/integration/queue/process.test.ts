import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createJobQueue } from '../../../src/platform/queue/queue';
import { createWorker, type Worker } from '../../../src/platform/queue/worker';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { clearJobs, effectsOf, jobRow, silentLogger, sleep, waitFor } from './helpers';

/**
 * Real worker processes (workers/process.ts, the body of `npm run worker`) killed and signalled
 * mid-job. Needs PostgreSQL: an embedded PGlite database lives inside one process and cannot be
 * shared with a child. Without DATABASE_URL these are skipped; worker.test.ts covers the same
 * paths in-process with an abandoned worker instance.
 */
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('worker process', () => {
  let t: TestDatabase;
  const db = () => t.database.db;
  const children: ChildProcess[] = [];
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
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 0 })));
  });

  function spawnWorker(env: Record<string, string>) {
    if (t.config.kind !== 'postgres') throw new Error('needs PostgreSQL');
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'worker-child.js')], {
      env: { ...process.env, DATABASE_URL: t.config.url, LOG_LEVEL: 'silent', WORKER_CONCURRENCY: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const started = (jobId: number) =>
      waitFor(() => out.includes(`STARTED ${jobId} `), 10_000).catch(() => {
        throw new Error(`child never started job ${jobId}; stderr: ${err}`);
      });
    return { child, exited, started, stderr: () => err };
  }

  test('when a worker process is killed with SIGKILL mid-job, then another worker reclaims it after the lease; one effect, one final state', async () => {
    const queue = createJobQueue(db(), { leaseMs: 500 });
    const { id } = await queue.enqueue(db(), { type: 'test.slow' });
    const victim = spawnWorker({ TEST_LEASE_MS: '500', TEST_JOB_MS: '60000', TEST_WORKER_ID: 'victim' });
    await victim.started(id);
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();
    const held = await jobRow(db(), id);
    expect(held.lease_owner).toMatch(/^victim:1:/);

    let reclaimedAt = 0;
    const survivor = createWorker({
      queue,
      pollMs: 20,
      logger: silentLogger,
      workerId: 'survivor',
      handlers: {
        'test.slow': {
          async run(job, ctx) {
            reclaimedAt = Date.now();
            await db()
              .transaction()
              .execute(async (trx) => {
                await trx
                  .insertInto('audit_log')
                  .values({ actor_name: 'survivor', action: 'video.ready', object_type: 'test-job', object_id: String(job.id) })
                  .execute();
                await ctx.complete(trx);
              });
          },
        },
      },
    });
    workers.push(survivor);
    survivor.start();

    await waitFor(async () => (await jobRow(db(), id)).status === 'succeeded', 5000);
    expect(await jobRow(db(), id)).toMatchObject({ attempts: 2, lease_owner: null });
    expect(await effectsOf(db(), id)).toBe(1);
    expect(reclaimedAt).toBeGreaterThan(0);
    // It waited for the dead worker's lease to run out (a live worker might still be running it), no longer.
    expect(reclaimedAt).toBeGreaterThanOrEqual((held.lease_expires_at as Date).getTime());
    expect(reclaimedAt - killedAt).toBeLessThan(3000);
  });

  test('when a worker process gets SIGTERM mid-job, then it takes no new job, finishes the current one and exits 0', async () => {
    const queue = createJobQueue(db());
    const first = await queue.enqueue(db(), { type: 'test.slow' });
    const proc = spawnWorker({ TEST_JOB_MS: '400', TEST_GRACE_MS: '5000' });
    await proc.started(first.id);
    const second = await queue.enqueue(db(), { type: 'test.slow' });
    proc.child.kill('SIGTERM');

    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(await jobRow(db(), first.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await effectsOf(db(), first.id)).toBe(1);
    expect(await jobRow(db(), second.id)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  test('when a worker process gets SIGTERM and its job outlasts the grace period, then the job is released for others and it exits 0', async () => {
    const queue = createJobQueue(db());
    const { id } = await queue.enqueue(db(), { type: 'test.slow', maxAttempts: 1 });
    const proc = spawnWorker({ TEST_JOB_MS: '60000', TEST_GRACE_MS: '200' });
    await proc.started(id);
    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');

    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(3000);
    expect(await jobRow(db(), id)).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });
    await sleep(10);
    expect(await queue.claim('next', ['test.slow'])).toMatchObject({ id, attempt: 1 });
  });
});
