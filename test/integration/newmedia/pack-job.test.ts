/**
 * The new-media pack end to end with the real ffmpeg: a school uploads a generated clip through the
 * API, the entry is put at `awarded` directly in the database (judging is tested elsewhere), a
 * 新媒体编辑 starts the pack with `POST /api/v1/entries/:id/media-pack`, the in-process worker makes it,
 * and the TEST downloads the ZIP, unpacks it and measures every file itself (ffprobe, ebur128) —
 * the job's own verification is not trusted. Also: a ≈ −50 LUFS clip fails with the measured value
 * and is retried; a non-awarded entry is refused; both downloads are logged.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { resolveMediaBinaries } from '../../../src/platform/media/binaries';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip } from '../../support/clips';
import { createEntry, schoolWithToken, sleep, uploadFile, waitForVideo } from '../../support/entries';
import { recordFullConsent } from '../../support/factories';
import { downloadBinary } from '../../support/xlsx';

jest.setTimeout(300_000);

const exec = promisify(execFile);
const UTF8 = { env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };
let t: TestApp;
let dir: string;
let editor: { Authorization: string };
const ids = { landscape: '', quiet: '', notAwarded: '' };
let editorId = '';
let schoolToken = '';

interface PackView {
  status: string;
  progress: number;
  error: string | null;
  outputs: Record<string, { fileName: string; sizeBytes: number }> | null;
  post: { title: string; summary: string; body: string };
  downloadUrl: string | null;
  fileName: string;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-packjob-'));
  t = await createTestApp({ env: { WORKER_CONCURRENCY: '1', PACK_MAX_MB: '20' } });
  t.container.startWorker();
  const user = await t.createUser('newmedia');
  editorId = user.id;
  editor = { Authorization: `Bearer ${await t.token(user.username)}` };
  const school = await schoolWithToken(t);
  schoolToken = school.token;
  for (const kind of ['landscape', 'quiet'] as const) {
    const entry = await createEntry(t, school.token, { title: `新媒体 ${kind}` });
    await uploadFile(t, school.token, entry.id, await makeClip(kind, dir)).expect(202);
    ids[kind] = entry.id;
  }
  ids.notAwarded = (await createEntry(t, school.token, { title: '未获奖' })).id;
  for (const id of [ids.landscape, ids.quiet]) {
    const video = await waitForVideo(t, id, { timeoutMs: 90_000 });
    if (video.status !== 'ready') throw new Error(`ingest: ${video.status} ${video.error ?? ''}`);
  }
  await t.container.database.db
    .updateTable('entries')
    .set({ status: 'awarded', award: 'first', director_name: '王晓燕、李明', performer_count: 42 })
    .where('id', 'in', [ids.landscape, ids.quiet])
    .execute();
  // The guardians allowed every channel, new media included (packing needs it).
  for (const id of [ids.landscape, ids.quiet]) await recordFullConsent(t, id);
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

async function waitForPack(entryId: string, timeoutMs = 240_000): Promise<{ pack: PackView; progressSeen: number[] }> {
  const deadline = Date.now() + timeoutMs;
  const progressSeen: number[] = [];
  while (Date.now() < deadline) {
    const res = await request(t.app).get(`/api/v1/entries/${entryId}/media-pack`).set(editor).expect(200);
    const pack = res.body as PackView;
    progressSeen.push(pack.progress);
    if (pack.status === 'ready' || pack.status === 'failed') return { pack, progressSeen };
    await sleep(500);
  }
  throw new Error(`pack of ${entryId} not finished`);
}

async function probe(file: string) {
  const { stdout } = await exec(resolveMediaBinaries().ffprobe, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file]);
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: Array<Record<string, string | number>> };
  const v = j.streams.find((s) => s.codec_type === 'video')!;
  const a = j.streams.find((s) => s.codec_type === 'audio')!;
  return { v, a, durationS: Number(j.format.duration) };
}

async function loudness(file: string): Promise<{ i: number; tp: number }> {
  const { stderr } = await exec(resolveMediaBinaries().ffmpeg, [
    '-hide_banner',
    '-nostats',
    '-i',
    file,
    '-map',
    '0:a:0',
    '-af',
    'ebur128=peak=true',
    '-f',
    'null',
    '-',
  ]);
  const s = stderr.slice(stderr.lastIndexOf('Summary:'));
  return { i: Number(/I:\s+(-?[\d.]+) LUFS/.exec(s)![1]), tp: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(s)![1]) };
}

test('when the new-media editor packs an awarded entry, then the ZIP holds both videos, both covers and the post, named in Chinese and measured to spec', async () => {
  const start = await request(t.app).post(`/api/v1/entries/${ids.landscape}/media-pack`).set(editor).expect(202);
  expect(start.body.status).toBe('queued');
  const { pack, progressSeen } = await waitForPack(ids.landscape);
  expect(pack.error).toBeNull();
  expect(pack.status).toBe('ready');
  expect(pack.progress).toBe(100);
  expect(progressSeen.length).toBeGreaterThan(1);
  expect(pack.post.summary.length).toBeLessThanOrEqual(120);
  expect(pack.post.body).toContain('指导教师：王晓燕、李明');
  expect(pack.post.body).toContain('表演人数：42 人');
  expect(pack.post.body).toContain('唱响青春主旋律');

  const res = await downloadBinary(request(t.app).get(pack.downloadUrl!).set(editor)).expect(200);
  expect(res.headers['content-type']).toBe('application/zip');
  expect(decodeURIComponent(String(res.headers['content-disposition']))).toContain(pack.fileName);
  const zip = path.join(dir, 'pack.zip');
  await writeFile(zip, res.body as Buffer);
  await exec('unzip', ['-tq', zip]);
  const { stdout } = await exec('zipinfo', ['-1', zip], UTF8);
  const folder = pack.fileName.replace(/\.zip$/, '');
  expect(stdout.trim().split('\n').sort()).toEqual(
    ['公众号视频.mp4', '视频号竖版.mp4', '封面_2.35比1.jpg', '封面_1比1.jpg', '推文草稿.txt'].map((n) => `${folder}/${n}`).sort(),
  );
  const out = path.join(dir, 'x');
  await exec('unzip', ['-q', zip, '-d', out], UTF8);
  const oa = await probe(path.join(out, folder, '公众号视频.mp4'));
  const vertical = await probe(path.join(out, folder, '视频号竖版.mp4'));
  expect([oa.v.width, oa.v.height]).toEqual([320, 240]);
  expect([vertical.v.width, vertical.v.height]).toEqual([1080, 1920]);
  for (const p of [oa, vertical]) {
    expect(p.v).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', avg_frame_rate: '30/1' });
    expect(p.a).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    expect(Math.abs(p.durationS - 9)).toBeLessThan(0.5);
  }
  for (const f of ['公众号视频.mp4', '视频号竖版.mp4']) {
    const l = await loudness(path.join(out, folder, f));
    expect(Math.abs(l.i + 16)).toBeLessThanOrEqual(1);
    expect(l.tp).toBeLessThanOrEqual(-1);
  }
  const covers = await exec(resolveMediaBinaries().ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    path.join(out, folder, '封面_2.35比1.jpg'),
  ]);
  expect(covers.stdout.trim()).toBe('900,383');
  const post = await readFile(path.join(out, folder, '推文草稿.txt'), 'utf8');
  expect(post).toContain(`标题：${pack.post.title}`);
  expect(post).toContain('指导教师：王晓燕、李明');

  // All (selected) packs as one ZIP.
  const all = await downloadBinary(request(t.app).get(`/api/v1/media-packs.zip?entryId=${ids.landscape}`).set(editor)).expect(200);
  await writeFile(path.join(dir, 'all.zip'), all.body as Buffer);
  const listed = await exec('zipinfo', ['-1', path.join(dir, 'all.zip')], UTF8);
  expect(listed.stdout).toContain(`${folder}/公众号视频.mp4`);

  const logged = await t.container.database.db
    .selectFrom('downloads')
    .select(['kind', 'entry_id', 'user_id'])
    .where('kind', 'in', ['media_pack', 'media_pack_archive'])
    .orderBy('id')
    .execute();
  expect(logged).toEqual([
    { kind: 'media_pack', entry_id: ids.landscape, user_id: editorId },
    { kind: 'media_pack_archive', entry_id: null, user_id: editorId },
  ]);
  // The editor was told when it was ready.
  const told = await t.container.database.db
    .selectFrom('notifications')
    .select(['kind', 'title', 'link'])
    .where('user_id', '=', editorId)
    .where('entry_id', '=', ids.landscape)
    .execute();
  expect(told).toEqual([{ kind: 'media_pack.ready', title: expect.stringMatching(/^新媒体包已制作完成：《.+》$/), link: '/newmedia' }]);
});

test('when a clip is far too quiet, then the pack fails with the measured value, and a retry queues it again', async () => {
  await request(t.app).post(`/api/v1/entries/${ids.quiet}/media-pack`).set(editor).expect(202);
  const { pack } = await waitForPack(ids.quiet);
  expect(pack.status).toBe('failed');
  expect(pack.error).toMatch(/音量过低（−\d+(\.\d)? LUFS）/);
  await request(t.app).get(`/api/v1/entries/${ids.quiet}/media-pack.zip`).set(editor).expect(404);
  const retry = await request(t.app).post(`/api/v1/entries/${ids.quiet}/media-pack`).set(editor).expect(202);
  expect(retry.body).toMatchObject({ status: 'queued', error: null, progress: 0 });
  expect((await waitForPack(ids.quiet)).pack.status).toBe('failed');
  // The message is written when the job is finally given up (a moment after the status shows 失败).
  let told: Array<{ kind: string; body: string }> = [];
  for (let i = 0; i < 100 && told.length < 2; i++) {
    told = await t.container.database.db
      .selectFrom('notifications')
      .select(['kind', 'body'])
      .where('user_id', '=', editorId)
      .where('entry_id', '=', ids.quiet)
      .execute();
    if (told.length < 2) await sleep(100);
  }
  expect(told).toHaveLength(2);
  expect(told.every((n) => n.kind === 'media_pack.failed' && n.body.includes('音量过低'))).toBe(true);
});

test('when an entry has not won an award, then it cannot be packed (409), and the TV desk may not pack at all (403)', async () => {
  await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', ids.notAwarded).execute();
  const admin = { Authorization: `Bearer ${await t.token('admin')}` };
  const res = await request(t.app).post(`/api/v1/entries/${ids.notAwarded}/media-pack`).set(admin).expect(409);
  expect(res.body.detail).toBe('只有获奖作品可以制作新媒体包。');
  // The editor does not see non-awarded entries at all.
  await request(t.app).post(`/api/v1/entries/${ids.notAwarded}/media-pack`).set(editor).expect(404);
  const tv = await t.createUser('tv');
  await request(t.app)
    .post(`/api/v1/entries/${ids.landscape}/media-pack`)
    .set({ Authorization: `Bearer ${await t.token(tv.username)}` })
    .expect(403);
});

test('when the school withdraws the new-media permission, then the pack and its files are deleted, it leaves the desk and its downloads, and a new pack is refused', async () => {
  // The first test made this entry's pack.
  await request(t.app).get(`/api/v1/entries/${ids.landscape}/media-pack.zip`).set(editor).expect(200);
  const row = await t.container.db.selectFrom('media_packs').select('outputs').where('entry_id', '=', ids.landscape).executeTakeFirstOrThrow();
  const keys = Object.values(row.outputs as Record<string, { key: string }>).map((o) => o.key);
  expect(keys).toHaveLength(4);
  await request(t.app)
    .post(`/api/v1/entries/${ids.landscape}/consent/withdraw`)
    .set({ Authorization: `Bearer ${schoolToken}` })
    .send({ scopes: ['newmedia'], reason: '家长要求不在公众号发布' })
    .expect(200);
  const zip = await request(t.app).get(`/api/v1/entries/${ids.landscape}/media-pack.zip`).set(editor).expect(409);
  expect(zip.body.code).toBe('consent_required');
  const desk = await request(t.app).get('/api/v1/media-packs').set(editor).expect(200);
  expect((desk.body.items as Array<{ entry: { id: string } }>).map((i) => i.entry.id)).not.toContain(ids.landscape);
  // The pack itself is gone: its row and its four files in the bucket.
  await request(t.app).get(`/api/v1/entries/${ids.landscape}/media-pack`).set(editor).expect(404);
  for (const key of keys) expect(await t.container.store.head(key)).toBeNull();
  const again = await request(t.app).post(`/api/v1/entries/${ids.landscape}/media-pack`).set(editor).expect(409);
  expect(again.body.code).toBe('consent_required');
});
