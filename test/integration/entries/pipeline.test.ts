/**
 * The whole video pipeline through the API, the way a school uses it: create an entry, upload a
 * generated clip to POST /api/v1/entries/:id/video, let the in-process worker run the real ffmpeg
 * ingest, then look at what a teacher and an API client see — the entry's video state, the QC
 * report in Chinese, and the preview itself (checked with ffprobe).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { CLIP_TITLE, makeClip, makeHeaderLiesClip, type ClipKind } from '../../support/clips';
import { createTestApp, type TestApp } from '../../support/app';
import {
  createEntry,
  currentVideo,
  ffprobe,
  fraction,
  isJpeg,
  schoolWithToken,
  sleep,
  storedObjects,
  storeTempFiles,
  topLevelBoxes,
  uploadFile,
  waitForEmptyTemp,
  waitForVideo,
  type FfprobeOutput,
  type SchoolAccount,
} from '../../support/entries';

jest.setTimeout(90_000);

let t: TestApp;
let school: SchoolAccount;
let dir: string;

interface Processed {
  entryId: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read field by field
  entry: Record<string, any>;
  preview: Buffer;
  previewProbe: FfprobeOutput;
  poster: Buffer;
}
const processed = new Map<ClipKind, Promise<Processed>>();

/** Uploads one clip to a new entry and waits for the ingest; memoised so each clip runs once. */
function processClip(kind: ClipKind): Promise<Processed> {
  let pending = processed.get(kind);
  if (!pending) {
    // Sequential: one upload + ingest at a time keeps the file inside its time budget on 2 cores.
    const previous = Promise.all([...processed.values()].map((p) => p.catch(() => undefined)));
    pending = previous.then(async () => {
      const entry = await createEntry(t, school.token, { title: `作品-${kind}` });
      const file = await makeClip(kind, path.join(dir, 'clips'));
      const accepted = await uploadFile(t, school.token, entry.id, file).expect(202);
      expect(accepted.body.video.status).toBe('processing');
      const video = await waitForVideo(t, entry.id, { timeoutMs: 40_000 });
      const shown = await request(t.app).get(`/api/v1/entries/${entry.id}`).set(school.auth).expect(200);
      if (video.status !== 'ready') throw new Error(`${kind}: video ${video.status}: ${video.error}`);
      const previewRes = await request(t.app).get(`/api/v1/entries/${entry.id}/preview`).set(school.auth).responseType('blob').expect(200);
      expect(previewRes.headers['content-type']).toMatch(/^video\/mp4/);
      const previewFile = path.join(dir, `preview-${kind}.mp4`);
      await writeFile(previewFile, previewRes.body as Buffer);
      const posterRes = await request(t.app).get(`/api/v1/entries/${entry.id}/poster`).set(school.auth).responseType('blob').expect(200);
      return {
        entryId: entry.id,
        entry: shown.body,
        preview: previewRes.body as Buffer,
        previewProbe: await ffprobe(previewFile),
        poster: posterRes.body as Buffer,
      };
    });
    processed.set(kind, pending);
  }
  return pending;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-pipeline-'));
  t = await createTestApp();
  school = await schoolWithToken(t);
  t.container.startWorker();
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

const videoStream = (p: FfprobeOutput) => p.streams.find((s) => s.codec_type === 'video')!;
const audioStream = (p: FfprobeOutput) => p.streams.find((s) => s.codec_type === 'audio');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read field by field
const check = (entry: Record<string, any>, name: string) =>
  (entry.video.qc.checks as Array<{ name: string; status: string; value: string; message: string }>).find((c) => c.name === name);

const READY_KINDS: Array<{ kind: ClipKind; orientation: 'landscape' | 'portrait'; audio: boolean }> = [
  { kind: 'landscape', orientation: 'landscape', audio: true },
  { kind: 'portrait', orientation: 'portrait', audio: true },
  { kind: 'rotated', orientation: 'portrait', audio: true },
  { kind: 'hevc10-hlg', orientation: 'landscape', audio: true },
  { kind: 'vfr', orientation: 'landscape', audio: true },
  { kind: 'odd', orientation: 'landscape', audio: true },
  { kind: 'no-audio', orientation: 'landscape', audio: false },
  { kind: 'quiet', orientation: 'landscape', audio: true },
];

describe.each(READY_KINDS)('when a school uploads the $kind clip', ({ kind, orientation, audio }) => {
  test('then the video ends ready with a preview URL, a poster URL and a QC report', async () => {
    const { entry } = await processClip(kind);
    expect(entry.status).toBe('draft');
    expect(entry.video).toMatchObject({
      status: 'ready',
      progress: 100,
      error: null,
      previewUrl: `/api/v1/entries/${entry.id}/preview`,
      posterUrl: `/api/v1/entries/${entry.id}/poster`,
    });
    expect(['pass', 'warn']).toContain(entry.video.qc.verdict);
    for (const c of entry.video.qc.checks) {
      expect(c.message).toMatch(/[\u4e00-\u9fff]/); // every check explains itself in Chinese
      expect(['pass', 'warn', 'fail']).toContain(c.status);
    }
    expect(entry.video.probe.hasAudio).toBe(audio);
    expect(entry.video.probe.durationS).toBeGreaterThan(2);
  });

  test(`then the preview is H.264 High yuv420p at a constant ≤ 30 fps with even ${orientation} dimensions`, async () => {
    const { previewProbe } = await processClip(kind);
    const v = videoStream(previewProbe);
    expect(v.codec_name).toBe('h264');
    expect(v.profile).toBe('High');
    expect(v.pix_fmt).toBe('yuv420p');
    expect(v.r_frame_rate).toBe(v.avg_frame_rate);
    expect(fraction(v.r_frame_rate)).toBeGreaterThan(0);
    expect(fraction(v.r_frame_rate)).toBeLessThanOrEqual(30);
    expect(v.width! % 2).toBe(0);
    expect(v.height! % 2).toBe(0);
    if (orientation === 'landscape') expect(v.width!).toBeGreaterThan(v.height!);
    else expect(v.height!).toBeGreaterThan(v.width!);
    // rotation applied to the pixels, never left as a flag for the player to apply a second time
    const rotationFlag = (v.side_data_list ?? []).find((d) => typeof d.rotation === 'number' && d.rotation !== 0);
    expect(rotationFlag).toBeUndefined();
    expect(v.tags?.rotate ?? '0').toBe('0');
  });

  test(audio ? 'then the preview has AAC stereo 48 kHz sound' : 'then the preview has no audio track', async () => {
    const { previewProbe } = await processClip(kind);
    const a = audioStream(previewProbe);
    if (!audio) {
      expect(a).toBeUndefined();
      return;
    }
    expect(a).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
  });

  test('then the school’s metadata is stripped, the preview starts playing before it is fully downloaded (moov before mdat), and the poster is a JPEG', async () => {
    const { preview, previewProbe, poster } = await processClip(kind);
    expect(JSON.stringify(previewProbe)).not.toContain(CLIP_TITLE);
    expect(previewProbe.format.tags?.title).toBeUndefined();
    const boxes = topLevelBoxes(preview);
    expect(boxes).toContain('moov');
    expect(boxes).toContain('mdat');
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    expect(isJpeg(poster)).toBe(true);
  });
});

describe('what the QC report tells the teacher', () => {
  test('when the landscape clip (320×240) is ingested, then only the resolution check warns (低于 480p), every other check passes, and the probe shows no rotation and a constant frame rate', async () => {
    const { entry } = await processClip('landscape');
    expect(entry.video.qc.verdict).toBe('warn');
    expect(check(entry, 'resolution')).toMatchObject({ status: 'warn', value: expect.stringContaining('320'), message: expect.stringContaining('分辨率较低') });
    const others = (entry.video.qc.checks as Array<{ name: string; status: string }>).filter((c) => c.name !== 'resolution');
    expect(others.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(entry.video.probe).toMatchObject({
      rotation: 0,
      variableFrameRate: false,
      hasAudio: true,
      videoCodec: 'h264',
      audioCodec: 'aac',
      width: 320,
      height: 240,
    });
    expect(entry.video.loudness.integratedLufs).toEqual(expect.any(Number));
  });

  test('when the clip has a 90° rotation flag, then the probe reports a quarter turn, portrait display size, and the report says it was turned upright', async () => {
    const { entry } = await processClip('rotated');
    // a quarter turn either way (ffmpeg 5.1 writes the `rotate=90` tag as a counter-clockwise matrix)
    expect([90, 270]).toContain(entry.video.probe.rotation);
    expect(entry.video.probe).toMatchObject({ width: 320, height: 240, displayWidth: 240, displayHeight: 320 });
    expect(check(entry, 'rotation')).toMatchObject({ status: 'pass', message: expect.stringContaining('旋转') });
  });

  test('when the clip has a variable frame rate, then the probe says so and the report notes the preview was made constant', async () => {
    const { entry } = await processClip('vfr');
    expect(entry.video.probe.variableFrameRate).toBe(true);
    expect(check(entry, 'frame_rate')!.message).toContain('恒定帧率');
  });

  test('when the clip has no audio track, then the verdict is warn and the teacher reads 视频没有声音', async () => {
    const { entry } = await processClip('no-audio');
    expect(entry.video.qc.verdict).toBe('warn');
    expect(entry.video.probe.hasAudio).toBe(false);
    expect(check(entry, 'audio')).toMatchObject({ status: 'warn', message: expect.stringContaining('视频没有声音') });
    expect(entry.video.loudness).toBeNull();
    // The school is told, once, in its message centre (消息).
    const told = await request(t.app).get('/api/v1/notifications?limit=100').set(school.auth).expect(200);
    expect(told.body.items.filter((m: { entryId: string; kind: string }) => m.entryId === entry.id)).toEqual([
      expect.objectContaining({ kind: 'video.warn', title: '《作品-no-audio》的视频有质量提醒', link: `/entries/${entry.id}` }),
    ]);
  });

  test('when the clip’s sound is very quiet, then the verdict is warn with a low-volume message', async () => {
    const { entry } = await processClip('quiet');
    expect(entry.video.qc.verdict).toBe('warn');
    expect(check(entry, 'loudness')).toMatchObject({ status: 'warn', message: expect.stringContaining('音量过低') });
    expect(entry.video.loudness.integratedLufs).toBeLessThan(-40);
  });

  test('when the clip is HDR (HLG, 10-bit HEVC), then the probe records it and the HDR check explains the preview colours', async () => {
    const { entry } = await processClip('hevc10-hlg');
    expect(entry.video.probe).toMatchObject({ videoCodec: 'hevc', isHdr: true, bitDepth: 10 });
    expect(check(entry, 'hdr')!.message).toContain('HDR');
  });

  test('when the ready entry has a preview, then the teacher may submit it', async () => {
    const { entryId } = await processClip('landscape');
    const res = await request(t.app).post(`/api/v1/entries/${entryId}/submit`).set(school.auth).expect(200);
    expect(res.body.status).toBe('submitted');
  });
});

describe('when the upload is a truncated file (moov lost)', () => {
  let entryId: string;
  beforeAll(async () => {
    await Promise.all([...processed.values()].map((p) => p.catch(() => undefined)));
    const entry = await createEntry(t, school.token, { title: '截断的视频' });
    entryId = entry.id;
    await uploadFile(t, school.token, entryId, await makeClip('truncated', path.join(dir, 'clips'))).expect(202);
  });

  test('then the video ends failed with a Chinese "unreadable" message, never ready, and its job is failed (not left running)', async () => {
    const video = await waitForVideo(t, entryId, { timeoutMs: 30_000 });
    expect(video.status).toBe('failed');
    expect(video.error).toMatch(/无法读取/);
    expect(video.preview_key).toBeNull();
    const shown = await request(t.app).get(`/api/v1/entries/${entryId}`).set(school.auth).expect(200);
    expect(shown.body.video).toMatchObject({ status: 'failed', previewUrl: null, posterUrl: null, error: expect.stringMatching(/无法读取/) });
    // the video row is marked failed by the handler just before the worker records the job's failure
    const jobOf = () =>
      t.container.database.db.selectFrom('jobs').select(['status', 'attempts']).where('dedupe_key', '=', `ingest:${video.id}`).executeTakeFirstOrThrow();
    let job = await jobOf();
    for (const until = Date.now() + 5000; job.status === 'running' && Date.now() < until; job = await jobOf()) await sleep(50);
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1); // a broken file is not retried
    await request(t.app).get(`/api/v1/entries/${entryId}/preview`).set(school.auth).expect(404);
    // The school is told why, once, in its message centre (消息).
    const told = await request(t.app).get('/api/v1/notifications?limit=100').set(school.auth).expect(200);
    expect(told.body.items.filter((m: { entryId: string }) => m.entryId === entryId)).toEqual([
      expect.objectContaining({ kind: 'video.failed', title: '《截断的视频》的视频处理失败', body: expect.stringMatching(/无法读取/) }),
    ]);
  });

  test('then the entry cannot be submitted and says why', async () => {
    const res = await request(t.app).post(`/api/v1/entries/${entryId}/submit`).set(school.auth).expect(409);
    expect(res.body.code).toBe('invalid_state');
    expect(res.body.detail).toContain('视频处理失败');
  });
});

describe('when the MP4 header says 1 s but its frames are spread over 10 hours (sample timing edited, no edit list)', () => {
  test('then the video ends failed with a Chinese reason about its length, never ready as 1 s, and there is no preview', async () => {
    await Promise.all([...processed.values()].map((p) => p.catch(() => undefined)));
    const entry = await createEntry(t, school.token, { title: '时长造假的视频' });
    const file = await makeHeaderLiesClip(path.join(dir, 'clips'), { headerS: 1, playsS: 36_000 });
    await uploadFile(t, school.token, entry.id, file).expect(202);
    const video = await waitForVideo(t, entry.id, { timeoutMs: 30_000 });
    expect(video.status).toBe('failed');
    expect(video.error).toMatch(/时长超过限制（(5[89]\d|600) 分钟，最长 15 分钟）/);
    expect(video.preview_key).toBeNull();
    const shown = await request(t.app).get(`/api/v1/entries/${entry.id}`).set(school.auth).expect(200);
    expect(shown.body.video).toMatchObject({ status: 'failed', previewUrl: null, error: expect.stringMatching(/时长/) });
    expect(JSON.stringify(shown.body)).not.toContain('1.00 s');
    await request(t.app).get(`/api/v1/entries/${entry.id}/preview`).set(school.auth).expect(404);
  });
});

describe.each([
  { kind: 'zero' as ClipKind, detail: /空/ },
  { kind: 'text' as ClipKind, detail: /不是视频/ },
  { kind: 'm3u8' as ClipKind, detail: /不是视频/ },
])('when the upload is the $kind file named .mp4', ({ kind, detail }) => {
  test('then it is refused at once with 415 unsupported_media in Chinese, and nothing is kept: no video row, no stored object, an empty temp dir', async () => {
    await Promise.all([...processed.values()].map((p) => p.catch(() => undefined)));
    const entry = await createEntry(t, school.token, { title: `拒收-${kind}` });
    const objectsBefore = await storedObjects(t);
    const res = await uploadFile(t, school.token, entry.id, await makeClip(kind, path.join(dir, 'clips')), 'performance.mp4').expect(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 415, code: 'unsupported_media', detail: expect.stringMatching(detail) });
    expect(res.body.detail).toMatch(/[\u4e00-\u9fff]/);
    expect(await currentVideo(t, entry.id)).toBeUndefined();
    const rows = await t.container.database.db.selectFrom('videos').select('id').where('entry_id', '=', entry.id).execute();
    expect(rows).toEqual([]);
    expect(await storedObjects(t)).toEqual(objectsBefore);
    expect((await storedObjects(t)).filter((k) => k.startsWith(`originals/${entry.id}`))).toEqual([]);
    expect(await storeTempFiles(t)).toEqual([]);
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });
});

test('when every upload has been processed, then the upload temp dir is empty again and no job is left queued or running', async () => {
  await Promise.all([...processed.values()].map((p) => p.catch(() => undefined)));
  expect(await waitForEmptyTemp(t)).toEqual([]);
  // Notification deliveries wait for their minute to end (src/notifications/notify.ts): not part of the ingest.
  const open = await t.container.database.db
    .selectFrom('jobs')
    .select(['id', 'status'])
    .where('status', 'in', ['queued', 'running'])
    .where('type', '!=', 'notifications.deliver')
    .execute();
  expect(open).toEqual([]);
});
