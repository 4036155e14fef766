/**
 * Helpers for entry and video tests: create an entry through the API, upload a file, wait for the
 * ingest to finish, run the queue on demand, inspect the preview with ffprobe, list the store and
 * the upload temp dir.
 *
 *   const school = await schoolWithToken(t);
 *   const entry = await createEntry(t, school.token);
 *   await uploadFile(t, school.token, entry.id, await makeClip('landscape', dir)).expect(202);
 *   const video = await waitForVideo(t, entry.id, { timeoutMs: 30_000 });
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { buildJobHandlers } from '../../src/jobs';
import { resolveMediaBinaries } from '../../src/platform/media/binaries';
import type { ObjectStore } from '../../src/platform/storage/object-store';
import { createWorker } from '../../src/platform/queue/worker';
import type { TestApp } from './app';

const run = promisify(execFile);

export interface SchoolAccount {
  id: string;
  username: string;
  schoolId: string;
  token: string;
  auth: { Authorization: string };
}

/** A school user (new school in 离石区 unless countyId is given) and its bearer token. */
export async function schoolWithToken(t: TestApp, opts: { countyId?: string | null } = {}): Promise<SchoolAccount> {
  const user = await t.createUser('school', { countyId: opts.countyId });
  const token = await t.token(user.username);
  return { id: user.id, username: user.username, schoolId: user.schoolId!, token, auth: { Authorization: `Bearer ${token}` } };
}

/** POST /api/v1/entries with a designated song; returns the Entry body. */
export async function createEntry(
  t: TestApp,
  token: string,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; code: string; status: string; [k: string]: unknown }> {
  const campaign = await request(t.app).get('/api/v1/campaign').set('Authorization', `Bearer ${token}`).expect(200);
  const song = (campaign.body.songs as Array<{ id: string; designated: boolean }>).find((s) => s.designated)!;
  const res = await request(t.app)
    .post('/api/v1/entries')
    .set('Authorization', `Bearer ${token}`)
    .send({ title: '我们的祖国歌甜花香', songId: song.id, form: 'chorus', level: 'primary', performerCount: 40, directorName: '王老师', ...overrides });
  if (res.status !== 201) throw new Error(`create entry: ${res.status} ${res.text}`);
  return res.body;
}

/** POST /api/v1/entries/:id/video with the file as field `video` (supertest: chain `.expect()`). */
export function uploadFile(t: TestApp, token: string, entryId: string, filePath: string, filename?: string) {
  return request(t.app)
    .post(`/api/v1/entries/${entryId}/video`)
    .set('Authorization', `Bearer ${token}`)
    .attach('video', filePath, filename ? { filename, contentType: 'video/mp4' } : undefined);
}

export type VideoRow = NonNullable<Awaited<ReturnType<typeof currentVideo>>>;

/** The entry's current video row (entries.video_id), or undefined. */
export async function currentVideo(t: TestApp, entryId: string) {
  const db = t.container.database.db;
  const entry = await db.selectFrom('entries').select('video_id').where('id', '=', entryId).executeTakeFirst();
  if (!entry?.video_id) return undefined;
  return db.selectFrom('videos').selectAll().where('id', '=', entry.video_id).executeTakeFirst();
}

/** Polls the database until the entry's current video is `ready` or `failed`; throws on timeout. */
export async function waitForVideo(t: TestApp, entryId: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<VideoRow> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: VideoRow | undefined;
  while (Date.now() < deadline) {
    last = await currentVideo(t, entryId);
    if (last && (last.status === 'ready' || last.status === 'failed')) return last;
    await sleep(opts.pollMs ?? 100);
  }
  throw new Error(`video of entry ${entryId} still ${last?.status ?? 'missing'} (${last?.progress ?? 0}%) after ${opts.timeoutMs ?? 30_000} ms`);
}

/** Jobs by status, e.g. { succeeded: 2, failed: 1 }. */
export async function jobCounts(t: TestApp): Promise<Record<string, number>> {
  const rows = await t.container.database.db.selectFrom('jobs').select(['status']).execute();
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/**
 * Runs a worker (the app's handlers, fast polling) until no job is queued or running, then stops
 * it. For tests that need to look at the state between an upload and its ingest.
 */
export async function drainQueue(t: TestApp, opts: { timeoutMs?: number } = {}): Promise<void> {
  const worker = createWorker({
    queue: t.container.queue,
    handlers: buildJobHandlers({
      config: t.config,
      db: t.container.database.db,
      queue: t.container.queue,
      store: t.container.store,
      logger: t.container.logger,
    }),
    pollMs: 50,
    logger: t.container.logger,
  });
  worker.start();
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      // Due jobs only: a notification delivery waits for its minute to end (src/notifications/notify.ts).
      const pending = await t.container.database.db
        .selectFrom('jobs')
        .select('id')
        .where('status', 'in', ['queued', 'running'])
        .where('run_at', '<=', new Date())
        .execute();
      if (pending.length === 0) return;
      if (Date.now() > deadline) throw new Error(`jobs still pending after ${opts.timeoutMs ?? 30_000} ms: ${pending.map((p) => p.id).join(', ')}`);
      await sleep(50);
    }
  } finally {
    await worker.stop({ graceMs: 5000 });
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every file under `dir` (relative paths, sorted); [] when the dir does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

/** An object's bytes, whole (small test objects only). */
export async function objectBytes(store: ObjectStore, key: string): Promise<Buffer> {
  const got = await store.get(key);
  const chunks: Buffer[] = [];
  for await (const c of got.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The bytes of the original the entry's current video was stored from. */
export async function storedOriginal(t: TestApp, entryId: string): Promise<Buffer> {
  const video = await currentVideo(t, entryId);
  if (!video) throw new Error(`storedOriginal: entry ${entryId} has no video`);
  return objectBytes(t.container.store, video.original_key);
}

/** The local store's object files (without its `.meta/` sidecars and `.tmp/` work files). */
export async function storedObjects(t: TestApp): Promise<string[]> {
  const storage = t.config.storage;
  if (storage.kind !== 'local') throw new Error('storedObjects: the app does not use the local store');
  return (await listFiles(storage.rootDir)).filter((f) => !f.startsWith('.meta/') && !f.startsWith('.tmp/'));
}

/** Files left in the local store's `.tmp/` (partial writes). */
export async function storeTempFiles(t: TestApp): Promise<string[]> {
  const storage = t.config.storage;
  if (storage.kind !== 'local') return [];
  return listFiles(path.join(storage.rootDir, '.tmp'));
}

/** Files in the upload temp dir (multer's and the ingest work dirs). */
export function uploadTempFiles(t: TestApp): Promise<string[]> {
  return listFiles(t.config.uploads.tmpDir);
}

/** Polls until the upload temp dir is empty; returns what is left after the timeout. */
export async function waitForEmptyTemp(t: TestApp, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await uploadTempFiles(t);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(50);
  }
}

export interface FfprobeStream {
  codec_type: string;
  codec_name?: string;
  profile?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  tags?: Record<string, string>;
  side_data_list?: Array<Record<string, unknown>>;
}
export interface FfprobeOutput {
  streams: FfprobeStream[];
  format: { format_name: string; duration?: string; tags?: Record<string, string> };
}

/** ffprobe -show_streams -show_format as JSON, with the same binary the app uses. */
export async function ffprobe(file: string): Promise<FfprobeOutput> {
  const { ffprobe: bin } = resolveMediaBinaries();
  const { stdout } = await run(bin, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file], { maxBuffer: 8 * 1024 * 1024 });
  return JSON.parse(stdout) as FfprobeOutput;
}

/** Top-level ISO-BMFF box types in file order (faststart: moov before mdat). */
export function topLevelBoxes(bytes: Buffer): string[] {
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size === 0) size = bytes.length - at;
    boxes.push(type);
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

export const fraction = (f: string | undefined): number => {
  const [n, d] = (f ?? '0/1').split('/').map(Number);
  return d ? n! / d : 0;
};

export function isJpeg(bytes: Buffer): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Reads a file (re-export so tests need one import for media checks). */
export const readBytes = (file: string) => readFile(file);

/** The app listening on 127.0.0.1 on a random port (for raw http requests and browsers). */
export async function listen(t: Pick<TestApp, 'app'>): Promise<{ server: http.Server; port: number; baseUrl: string; close(): Promise<void> }> {
  const server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
