/**
 * The broadcast job end to end with the real ffmpeg: a school uploads a generated clip through the
 * API (real original in the store, real ingest loudness), the entry is put at `awarded` directly
 * in the database (judging is tested elsewhere), the city selects it with
 * `POST /api/v1/entries/:id/broadcast`, the in-process worker makes the master, and the TEST
 * downloads the master through `GET /api/v1/broadcast/entries/:id/master` and measures it itself
 * with ffprobe and `ebur128=peak=true` — the job's own verification is not trusted.
 *
 * Cases: a landscape clip (xdcam default), a portrait phone clip (xdcam, blurred pillarbox), a clip
 * without audio (silent track), a −40 LUFS clip (h264-1080p25, +16 dB), and a ≈ −50 LUFS clip that
 * would need more than the +20 dB cap → `failed`, needs a person, the job failed once (not retried).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { resolveMediaBinaries } from '../../../src/platform/media/binaries';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip, type ClipKind } from '../../support/clips';
import { createEntry, schoolWithToken, sleep, uploadFile, waitForVideo } from '../../support/entries';
import { recordFullConsent } from '../../support/factories';
import { downloadBinary } from '../../support/xlsx';

jest.setTimeout(240_000);

const exec = promisify(execFile);
let t: TestApp;
let dir: string;
let admin: { Authorization: string };
const started = Date.now();

interface DeskItem {
  entry: { id: string; status: string };
  master: {
    status: string;
    profile: string;
    pillarbox: string;
    error: string | null;
    needsPerson: boolean;
    loudness: { integratedLufs: number | null; truePeakDbtp: number | null } | null;
    downloadUrl: string | null;
    fileName: string;
  } | null;
}

/** kind → entry id, all uploaded and ingested in beforeAll (in parallel). */
const entries = new Map<ClipKind, string>();
const CASES: Array<{ kind: ClipKind; body: Record<string, unknown> }> = [
  { kind: 'landscape', body: {} },
  { kind: 'portrait', body: { pillarbox: 'blur' } },
  { kind: 'no-audio', body: {} },
  { kind: 'quiet-40', body: { profile: 'h264-1080p25' } },
  { kind: 'quiet', body: {} },
];

/** A TV account: told when a master is ready. */
let tvUser: string;
const tvMessages = (entryId: string) =>
  t.container.db.selectFrom('notifications').select(['kind', 'title', 'link']).where('user_id', '=', tvUser).where('entry_id', '=', entryId).execute();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-bjob-'));
  t = await createTestApp({ env: { WORKER_CONCURRENCY: '2' } });
  t.container.startWorker();
  admin = { Authorization: `Bearer ${await t.token('admin')}` };
  tvUser = (await t.createUser('tv')).id;
  const school = await schoolWithToken(t);
  await Promise.all(
    CASES.map(async ({ kind }) => {
      const entry = await createEntry(t, school.token, { title: `广播测试 ${kind}` });
      await uploadFile(t, school.token, entry.id, await makeClip(kind, dir)).expect(202);
      entries.set(kind, entry.id);
    }),
  );
  for (const { kind } of CASES) {
    const video = await waitForVideo(t, entries.get(kind)!, { timeoutMs: 90_000 });
    if (video.status !== 'ready') throw new Error(`ingest of ${kind}: ${video.status} ${video.error ?? ''}`);
  }
  // Judging is tested elsewhere: put every entry at `awarded` directly.
  await t.container.database.db
    .updateTable('entries')
    .set({ status: 'awarded', award: 'first' })
    .where('id', 'in', [...entries.values()])
    .execute();
  // The guardians allowed TV broadcast (selection needs it).
  for (const id of entries.values()) await recordFullConsent(t, id);
  for (const { kind, body } of CASES) {
    const res = await request(t.app)
      .post(`/api/v1/entries/${entries.get(kind)}/broadcast`)
      .set(admin)
      .send(body)
      .expect(200);
    expect(res.body.status).toBe('broadcast_selected');
  }
});

afterAll(async () => {
  console.log(`broadcast job test: ${Math.round((Date.now() - started) / 1000)} s for ${CASES.length} uploads + masters`);
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Polls the desk until the entry's master is ready or failed. */
async function waitForMaster(entryId: string, timeoutMs = 180_000): Promise<DeskItem> {
  const deadline = Date.now() + timeoutMs;
  let last: DeskItem | undefined;
  while (Date.now() < deadline) {
    const res = await request(t.app).get('/api/v1/broadcast/entries').set(admin).expect(200);
    last = (res.body as DeskItem[]).find((i) => i.entry.id === entryId);
    if (last?.master && (last.master.status === 'ready' || last.master.status === 'failed')) return last;
    await sleep(250);
  }
  throw new Error(`master of ${entryId} still ${last?.master?.status ?? 'missing'}`);
}

/** Downloads the master through the API into a file. */
async function downloadMaster(entryId: string, name: string): Promise<string> {
  const res = await downloadBinary(request(t.app).get(`/api/v1/broadcast/entries/${entryId}/master`).set(admin)).expect(200);
  const file = path.join(dir, name);
  await writeFile(file, res.body as Buffer);
  return file;
}

interface Probed {
  format: string;
  video: { codec_name: string; profile?: string; pix_fmt: string; width: number; height: number; r_frame_rate: string; field_order?: string };
  audio?: { codec_name: string; sample_rate: string; channels: number };
  audioCount: number;
}

async function probe(file: string): Promise<Probed> {
  const { ffprobe } = resolveMediaBinaries();
  const { stdout } = await exec(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file], { maxBuffer: 8 * 1024 * 1024 });
  const json = JSON.parse(stdout) as { format: { format_name: string }; streams: Array<Record<string, unknown>> };
  const audios = json.streams.filter((s) => s.codec_type === 'audio');
  return {
    format: json.format.format_name,
    video: json.streams.find((s) => s.codec_type === 'video') as never,
    audio: audios[0] as never,
    audioCount: audios.length,
  };
}

/** The test's own ebur128 with true peak, on the first audio stream. */
async function loudness(file: string): Promise<{ i: number | null; tp: number | null }> {
  const { ffmpeg } = resolveMediaBinaries();
  const { stderr } = await exec(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-nostats', '-i', file, '-map', '0:a:0', '-vn', '-af', 'ebur128=peak=true', '-f', 'null', '-'],
    { maxBuffer: 32 * 1024 * 1024 },
  );
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const i = /I:\s+(-?[\d.]+|-inf)\s+LUFS/.exec(summary)?.[1];
  const peak = /Peak:\s+(-?[\d.]+|-inf)\s+dBFS/.exec(summary)?.[1];
  if (i === undefined) throw new Error(`no ebur128 summary:\n${stderr.slice(-1500)}`);
  const integrated = i === '-inf' ? null : Number(i);
  return { i: integrated !== null && integrated <= -69.5 ? null : integrated, tp: peak === undefined || peak === '-inf' ? null : Number(peak) };
}

function expectXdcam(p: Probed) {
  expect(p.format).toBe('mxf');
  expect(p.video).toMatchObject({
    codec_name: 'mpeg2video',
    profile: '4:2:2',
    pix_fmt: 'yuv422p',
    width: 1920,
    height: 1080,
    r_frame_rate: '25/1',
    field_order: 'tt',
  });
  expect(p.audio).toMatchObject({ codec_name: 'pcm_s24le', sample_rate: '48000', channels: 2 });
}

function expectOnTarget(m: { i: number | null; tp: number | null }) {
  expect(m.i).not.toBeNull();
  expect(Math.abs(m.i! + 24)).toBeLessThanOrEqual(1);
  expect(m.tp).not.toBeNull();
  expect(m.tp!).toBeLessThanOrEqual(-2);
}

test('when a landscape clip is selected with the default profile, then the master is XDCAM HD422 1080i50 at −24 LUFS, measured by the test', async () => {
  const id = entries.get('landscape')!;
  const item = await waitForMaster(id);
  expect(item.master).toMatchObject({ status: 'ready', profile: 'xdcam-hd422', error: null, needsPerson: false });
  expect(item.master!.fileName).toMatch(/\.mxf$/);
  expect(await tvMessages(id)).toEqual([{ kind: 'master.ready', title: '《广播测试 landscape》的播出母版已就绪', link: '/broadcast' }]);
  const file = await downloadMaster(id, 'landscape.mxf');
  expectXdcam(await probe(file));
  const m = await loudness(file);
  expectOnTarget(m);
  // The desk shows what the job measured; it agrees with the test's own measurement.
  expect(Math.abs(item.master!.loudness!.integratedLufs! - m.i!)).toBeLessThan(0.3);
});

test('when a portrait phone clip is selected with a blurred pillarbox, then the master is full 1920×1080 XDCAM with the picture in the middle', async () => {
  const id = entries.get('portrait')!;
  const item = await waitForMaster(id);
  expect(item.master).toMatchObject({ status: 'ready', profile: 'xdcam-hd422', pillarbox: 'blur' });
  const file = await downloadMaster(id, 'portrait.mxf');
  expectXdcam(await probe(file));
  expectOnTarget(await loudness(file));
  // Blurred sides are not black: the average luma of the left 200 columns is well above black (16).
  const { ffmpeg } = resolveMediaBinaries();
  const { stderr } = await exec(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-i', file, '-frames:v', '1', '-vf', 'crop=200:1080:0:0,signalstats,metadata=print', '-f', 'null', '-'],
    { maxBuffer: 8 * 1024 * 1024 },
  );
  const yavg = Number(/lavfi\.signalstats\.YAVG=([\d.]+)/.exec(stderr)?.[1]);
  expect(yavg).toBeGreaterThan(25);
});

test('when a clip without audio is selected, then the master carries a silent stereo PCM track', async () => {
  const id = entries.get('no-audio')!;
  const item = await waitForMaster(id);
  expect(item.master).toMatchObject({ status: 'ready', loudness: { integratedLufs: null, truePeakDbtp: null } });
  const file = await downloadMaster(id, 'no-audio.mxf');
  const p = await probe(file);
  expectXdcam(p);
  expect(p.audioCount).toBe(1);
  expect((await loudness(file)).i).toBeNull();
});

test('when a −40 LUFS clip is selected as h264-1080p25, then the master is progressive H.264 25 fps with AAC raised to −24 LUFS', async () => {
  const id = entries.get('quiet-40')!;
  const item = await waitForMaster(id);
  expect(item.master).toMatchObject({ status: 'ready', profile: 'h264-1080p25' });
  expect(item.master!.fileName).toMatch(/\.mp4$/);
  const file = await downloadMaster(id, 'quiet-40.mp4');
  const p = await probe(file);
  expect(p.format).toContain('mp4');
  expect(p.video).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', width: 1920, height: 1080, r_frame_rate: '25/1' });
  expect(['progressive', undefined]).toContain(p.video.field_order);
  expect(p.audio).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
  expectOnTarget(await loudness(file));
});

test('when a source is too quiet to rescue (≈ −50 LUFS, +26 dB over the +20 dB cap), then the master fails in Chinese for a person, and the job is not retried', async () => {
  const id = entries.get('quiet')!;
  const item = await waitForMaster(id);
  expect(item.master).toMatchObject({ status: 'failed', needsPerson: true, downloadUrl: null });
  expect(item.master!.error).toMatch(/源视频音量过低.*LUFS.*超过上限.*请人工处理/);
  await request(t.app).get(`/api/v1/broadcast/entries/${id}/master`).set(admin).expect(404);
  // Give the worker a moment: a retry would have re-queued it.
  await sleep(500);
  const all = await t.container.database.db
    .selectFrom('jobs')
    .select(['status', 'attempts', 'last_error', 'payload'])
    .where('type', '=', 'broadcast.master')
    .execute();
  const jobs = all.filter((j) => (j.payload as { entryId?: string }).entryId === id);
  expect(jobs).toHaveLength(1);
  expect(jobs[0]).toMatchObject({ status: 'failed', attempts: 1 });
  expect(jobs[0]!.last_error).toMatch(/源视频音量过低/);
  expect(await tvMessages(id)).toEqual([]); // a failed master is nothing to tell the TV desk
});
