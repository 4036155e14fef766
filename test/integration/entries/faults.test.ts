/**
 * Faults around the video pipeline (docs/security.md "Faults"): the object store is down while a school
 * uploads, and a worker dies holding an ingest job. Nothing is lost, nothing is done twice, and the
 * teacher gets a readable message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { INGEST_JOB } from '../../../src/entries/ingest.job';
import { buildJobHandlers } from '../../../src/jobs';
import { createObjectStore } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage/object-store';
import { createJobQueue } from '../../../src/platform/queue/queue';
import { createWorker } from '../../../src/platform/queue/worker';
import { makeClip } from '../../support/clips';
import { createTestApp, type TestApp } from '../../support/app';
import {
  createEntry,
  currentVideo,
  schoolWithToken,
  sleep,
  storedObjects,
  uploadFile,
  waitForEmptyTemp,
  waitForVideo,
  type SchoolAccount,
} from '../../support/entries';

jest.setTimeout(60_000);

let clips: string;
beforeAll(async () => {
  clips = await mkdtemp(path.join(tmpdir(), 'cx-faults-'));
});
afterAll(async () => {
  await rm(clips, { recursive: true, force: true });
});

// s3rver ships no types; this is the part we use.
interface S3rverInstance {
  run(): Promise<net.AddressInfo>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (o: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An s3rver that can be stopped and started again on the same port and directory. */
function restartableS3(port: number, directory: string, bucket: string) {
  let current: S3rverInstance | undefined;
  return {
    async start() {
      current = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket }] });
      await current.run();
    },
    async stop() {
      if (!current) return;
      const closing = current.close();
      current.httpServer?.closeAllConnections();
      await closing;
      current = undefined;
    },
  };
}

describe('when the object store is down during an upload', () => {
  const bucket = 'changxiang-faults';
  let s3: ReturnType<typeof restartableS3>;
  let s3dir: string;
  let store: ObjectStore;
  let t: TestApp;
  let school: SchoolAccount;
  let entryId: string;

  beforeAll(async () => {
    s3dir = await mkdtemp(path.join(tmpdir(), 'cx-faults-s3-'));
    const port = await freePort();
    s3 = restartableS3(port, s3dir, bucket);
    await s3.start();
    store = createObjectStore({
      kind: 's3',
      endpoint: `http://127.0.0.1:${port}`,
      bucket,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    });
    t = await createTestApp({ store });
    school = await schoolWithToken(t);
    entryId = (await createEntry(t, school.token)).id;
    await s3.stop();
  });

  afterAll(async () => {
    await t?.close();
    await store?.close();
    await s3?.stop();
    await rm(s3dir, { recursive: true, force: true });
  });

  test('then the school gets 503 problem+json in Chinese, no video row points at a missing object, and the temp file is removed', async () => {
    const started = Date.now();
    const res = await uploadFile(t, school.token, entryId, await makeClip('landscape', clips));
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 503, code: 'unavailable', detail: expect.stringMatching(/存储暂时不可用/) });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await t.container.database.db.selectFrom('videos').select('id').where('entry_id', '=', entryId).execute()).toEqual([]);
    expect(await t.container.database.db.selectFrom('jobs').select('id').execute()).toEqual([]);
    expect(await waitForEmptyTemp(t)).toEqual([]);
    const shown = await request(t.app).get(`/api/v1/entries/${entryId}`).set(school.auth).expect(200);
    expect(shown.body.video).toBeNull();
  });

  test('then, once the store is back, the same upload goes through and the video becomes ready', async () => {
    await s3.start();
    await uploadFile(t, school.token, entryId, await makeClip('landscape', clips)).expect(202);
    t.container.startWorker();
    const video = await waitForVideo(t, entryId, { timeoutMs: 45_000 });
    expect(video.status).toBe('ready');
    expect(await store.head(video.original_key)).not.toBeNull();
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });
});

describe('when a worker dies holding the ingest job (its lease expires)', () => {
  let t: TestApp;
  let school: SchoolAccount;

  beforeAll(async () => {
    t = await createTestApp();
    school = await schoolWithToken(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const jobOf = (videoId: string) =>
    t.container.database.db.selectFrom('jobs').selectAll().where('dedupe_key', '=', `ingest:${videoId}`).executeTakeFirstOrThrow();

  // first, before the in-process worker of the next test runs: this worker must be the one that recovers
  test('then a separate worker with a short lease recovers it after the lease, keeps its own lease alive through an ingest longer than the lease, and the video is ready after exactly two attempts', async () => {
    const db = t.container.database.db;
    const entryId = (await createEntry(t, school.token)).id;
    await uploadFile(t, school.token, entryId, await makeClip('portrait', clips)).expect(202);
    const video = (await currentVideo(t, entryId))!;
    const queue = createJobQueue(db, { leaseMs: 500 });
    const dead = await queue.claim('dead-worker', [INGEST_JOB]);
    expect(dead).not.toBeNull();

    const worker = createWorker({
      queue,
      handlers: buildJobHandlers({ config: t.config, db, queue, store: t.container.store, logger: t.container.logger }),
      pollMs: 100,
      logger: t.container.logger,
    });
    worker.start();
    try {
      const done = await waitForVideo(t, entryId, { timeoutMs: 45_000 });
      expect(done.status).toBe('ready');
      const job = await db.selectFrom('jobs').selectAll().where('dedupe_key', '=', `ingest:${video.id}`).executeTakeFirstOrThrow();
      expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(await queue.complete(dead!)).toBe(false);
    } finally {
      await worker.stop({ graceMs: 5000 });
    }
  });

  test('then the in-process worker picks it up after the lease, the video ends ready once, and the dead attempt cannot complete it', async () => {
    const entryId = (await createEntry(t, school.token)).id;
    await uploadFile(t, school.token, entryId, await makeClip('landscape', clips)).expect(202);
    const video = (await currentVideo(t, entryId))!;

    // a worker with a short lease claims the job and is never heard from again
    const deadQueue = createJobQueue(t.container.database.db, { leaseMs: 300 });
    const dead = await deadQueue.claim('dead-worker', [INGEST_JOB]);
    expect(dead).not.toBeNull();
    expect((await jobOf(video.id)).status).toBe('running');
    await sleep(400);

    t.container.startWorker();
    const done = await waitForVideo(t, entryId, { timeoutMs: 45_000 });
    expect(done.status).toBe('ready');
    const job = await jobOf(video.id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
    // the dead attempt's late completion is refused; the state stays as the live attempt left it
    expect(await deadQueue.complete(dead!)).toBe(false);
    expect((await jobOf(video.id)).status).toBe('succeeded');
    // one set of outputs
    expect((await storedObjects(t)).filter((k) => k.includes(video.id)).sort()).toEqual([
      `originals/${entryId}/${video.id}`,
      `posters/${video.id}.jpg`,
      `previews/${video.id}.mp4`,
    ]);
    const shown = await request(t.app).get(`/api/v1/entries/${entryId}`).set(school.auth).expect(200);
    expect(shown.body.video).toMatchObject({ id: video.id, status: 'ready', progress: 100 });
  });
});
