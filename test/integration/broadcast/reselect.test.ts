/**
 * Issue 14, defect 1: an entry selected for broadcast again while its master is being made. The
 * master job is keyed by the master row: the earlier job finds its master gone (superseded), leaves
 * no object behind, and its failure can never mark the new master failed. Progress is never
 * written to a master that is already ready. Real ffmpeg, real store, real database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import request from 'supertest';
import { BROADCAST_JOB, MASTER_GENERIC_FAILURE, masterKey, type BroadcastPayload } from '../../../src/broadcast/broadcast.job';
import { BroadcastMasterError } from '../../../src/platform/media';
import { WorkerStoppingError } from '../../../src/platform/queue/job-handler';
import { writeMasterProgress } from '../../../src/broadcast/broadcast.repository';
import { buildJobHandlers } from '../../../src/jobs';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip } from '../../support/clips';
import { sleep, storedObjects } from '../../support/entries';
import { attachReadyVideo, createEntry, schoolWithToken } from '../../support/factories';

jest.setTimeout(180_000);

let t: TestApp;
let dir: string;
let admin: { Authorization: string };

/** An awarded entry whose video's original in the store is a real clip. */
async function awardedEntry(): Promise<string> {
  const school = await schoolWithToken(t);
  const entry = await createEntry(t, school.token, { title: '重新选送' });
  const videoId = await attachReadyVideo(t, entry.id);
  const db = t.container.database.db;
  const { original_key } = await db.selectFrom('videos').select('original_key').where('id', '=', videoId).executeTakeFirstOrThrow();
  await t.container.store.putStream(original_key, Readable.from(createReadStream(await makeClip('landscape', dir))), { contentType: 'video/mp4' });
  await db.updateTable('entries').set({ status: 'awarded', award: 'first' }).where('id', '=', entry.id).execute();
  return entry.id;
}

async function masterOf(entryId: string) {
  return t.container.database.db.selectFrom('masters').selectAll().where('entry_id', '=', entryId).executeTakeFirst();
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-reselect-'));
  t = await createTestApp({ env: { WORKER_CONCURRENCY: '1' } });
  admin = { Authorization: `Bearer ${await t.token('admin')}` };
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

test('when an entry is selected again while its first master is being made, then only the new master is stored and it becomes ready', async () => {
  const entryId = await awardedEntry();
  await request(t.app).post(`/api/v1/entries/${entryId}/broadcast`).set(admin).send({ profile: 'xdcam-hd422' }).expect(200);
  const first = (await masterOf(entryId))!;
  const worker = t.container.startWorker();
  await waitFor('the first master to be processing', async () => (await masterOf(entryId))?.status === 'processing');

  await request(t.app).post(`/api/v1/entries/${entryId}/broadcast`).set(admin).send({ profile: 'h264-1080p25' }).expect(200);
  const second = (await masterOf(entryId))!;
  expect(second.id).not.toBe(first.id);

  const done = await waitFor('the new master to finish', async () => {
    const m = await masterOf(entryId);
    return m && (m.status === 'ready' || m.status === 'failed') ? m : null;
  });
  await waitFor(
    'every job to settle',
    async () =>
      !(await t.container.database.db
        .selectFrom('jobs')
        .select('id')
        .where('status', 'in', ['queued', 'running'])
        .where('type', '!=', 'notifications.deliver') // waits for its minute to end
        .executeTakeFirst()),
  );
  await worker.stop({ graceMs: 5000 });

  expect(done).toMatchObject({ id: second.id, status: 'ready', profile: 'h264-1080p25', object_key: masterKey(second.id, 'h264-1080p25') });
  // No orphan: the earlier job's file is not in the store, only the new master's.
  expect((await storedObjects(t)).filter((k) => k.startsWith('masters/'))).toEqual([masterKey(second.id, 'h264-1080p25')]);
  const jobs = await t.container.database.db.selectFrom('jobs').select(['status', 'payload']).where('type', '=', BROADCAST_JOB).execute();
  expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
});

test('when the earlier job of a re-selected entry fails for good, then the new master is not marked failed', async () => {
  const entryId = await awardedEntry();
  const db = t.container.database.db;
  await request(t.app).post(`/api/v1/entries/${entryId}/broadcast`).set(admin).send({}).expect(200);
  const oldJob = await db
    .selectFrom('jobs')
    .select(['id', 'payload'])
    .where('type', '=', BROADCAST_JOB)
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow();
  await request(t.app).post(`/api/v1/entries/${entryId}/broadcast`).set(admin).send({ profile: 'h264-1080p25' }).expect(200);
  const current = (await masterOf(entryId))!;

  const handler = buildJobHandlers({ config: t.config, db, queue: t.container.queue, store: t.container.store, logger: t.container.logger })[BROADCAST_JOB];
  await db
    .transaction()
    .execute((trx) =>
      handler.onFinalFailure!(
        { id: oldJob.id, type: BROADCAST_JOB, payload: oldJob.payload as BroadcastPayload, attempt: 2, maxAttempts: 2 },
        '源视频无法读取',
        trx,
      ),
    );

  expect(await masterOf(entryId)).toMatchObject({ id: current.id, status: current.status, error: null });
});

test('when a late progress write reaches a master that is already ready, then it stays ready at 100 %', async () => {
  const entryId = await awardedEntry();
  const db = t.container.database.db;
  await request(t.app).post(`/api/v1/entries/${entryId}/broadcast`).set(admin).send({}).expect(200);
  const m = (await masterOf(entryId))!;
  await db
    .updateTable('masters')
    .set({ status: 'ready', progress: 100, object_key: masterKey(m.id, m.profile) })
    .where('id', '=', m.id)
    .execute();

  await writeMasterProgress(db, m.id, 42);

  expect(await masterOf(entryId)).toMatchObject({ status: 'ready', progress: 100 });
});

describe('the reason a master failed for good is chosen by the error type, not by its text', () => {
  async function failFinally(cause: unknown, reason: string) {
    const entryId = await awardedEntry();
    const db = t.container.database.db;
    await request(t.app).post(`/api/v1/entries/${entryId}/broadcast`).set(admin).send({}).expect(200);
    const job = await db.selectFrom('jobs').select(['id', 'payload']).where('type', '=', BROADCAST_JOB).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const handler = buildJobHandlers({ config: t.config, db, queue: t.container.queue, store: t.container.store, logger: t.container.logger })[BROADCAST_JOB];
    await db
      .transaction()
      .execute((trx) =>
        handler.onFinalFailure!({ id: job.id, type: BROADCAST_JOB, payload: job.payload as BroadcastPayload, attempt: 2, maxAttempts: 2 }, reason, trx, cause),
      );
    return (await masterOf(entryId))!;
  }

  test('when the last attempt failed with a media error, then the desk shows its Chinese sentence', async () => {
    const err = new BroadcastMasterError('encode_failed', '母版编码失败：源视频第 12 秒损坏。', 'ffmpeg exited 1');
    expect(await failFinally(err, err.message)).toMatchObject({ status: 'failed', error: '母版编码失败：源视频第 12 秒损坏。' });
  });

  test('when the last attempt failed with any other error, even one worded in Chinese, then the desk shows the generic sentence', async () => {
    const err = new WorkerStoppingError(); // "工作进程正在停止，任务已退回队列": Chinese, but not a sentence for the TV desk
    expect(await failFinally(err, err.message)).toMatchObject({ status: 'failed', error: MASTER_GENERIC_FAILURE });
  });
});
