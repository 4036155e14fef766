/**
 * Every generated clip through ingestVideo with the real ffmpeg; the preview is checked with ffprobe.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mediaCapabilities, resolveMediaBinaries, type MediaCapabilities } from '../../../src/platform/media/binaries';
import { MediaRejectedError } from '../../../src/platform/media/errors';
import { ingestVideo, type IngestResult } from '../../../src/platform/media/ingest';
import { createMediaRunner, type MediaRunner, type RawProbe } from '../../../src/platform/media/runner';
import { CLIP_TITLE, makeClip, makeHeaderLiesClip, type ClipKind } from '../../support/clips';
import { topLevelBoxes as boxesOf } from '../../support/entries';

let dir: string;
let runner: MediaRunner;
let caps: MediaCapabilities;
const results = new Map<ClipKind, Promise<IngestResult>>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-ingest-'));
  const bins = resolveMediaBinaries();
  runner = createMediaRunner(bins);
  caps = await mediaCapabilities(bins);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ingest(kind: ClipKind): Promise<IngestResult> {
  let pending = results.get(kind);
  if (!pending) {
    pending = makeClip(kind, path.join(dir, 'clips')).then((sourcePath) => ingestVideo({ runner, caps, sourcePath, workDir: path.join(dir, 'work', kind) }));
    results.set(kind, pending);
  }
  return pending;
}

const rawProbe = (file: string): Promise<RawProbe> => runner.probe(file, { timeoutMs: 20_000, demuxer: 'mov' });
const videoOf = (raw: RawProbe) => raw.streams.find((s) => s.codec_type === 'video');
const audioOf = (raw: RawProbe) => raw.streams.find((s) => s.codec_type === 'audio');

/** Top-level ISO-BMFF box types of a file, in order. */
async function topLevelBoxes(file: string): Promise<string[]> {
  return boxesOf(await readFile(file));
}

/** Width/height from a JPEG's SOF marker (ffprobe refuses JPEGs: they are not on the format whitelist). */
async function jpegSize(file: string): Promise<{ width: number; height: number }> {
  const bytes = await readFile(file);
  for (let at = 2; at + 9 < bytes.length;) {
    const marker = bytes.readUInt16BE(at);
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xffc0 && marker <= 0xffc3) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  throw new Error('no SOF marker');
}

const check = (result: IngestResult, name: string) => result.qc.checks.find((c) => c.name === name);

describe('ingestVideo with the real ffmpeg', () => {
  it('when a landscape H.264 clip is ingested, then the preview is H.264 High yuv420p, AAC 48 kHz stereo, faststart, at source size, without source metadata', async () => {
    const result = await ingest('landscape');
    const raw = await rawProbe(result.previewPath);
    const v = videoOf(raw);
    const a = audioOf(raw);
    expect(v).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', width: 320, height: 240 });
    expect(v?.r_frame_rate).toBe('30/1');
    expect(v?.avg_frame_rate).toBe('30/1');
    expect(a).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    expect(JSON.stringify(raw)).not.toContain(CLIP_TITLE);
    const boxes = await topLevelBoxes(result.previewPath);
    expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    expect(result.posterSource).toBe('main-run');
    expect(await jpegSize(result.posterPath)).toEqual({ width: 320, height: 240 });
    expect((await readFile(result.posterPath)).subarray(0, 3).toString('hex')).toBe('ffd8ff');
  });

  it('when a landscape clip with normal sound is checked, then only the low resolution is flagged and loudness is kept', async () => {
    const result = await ingest('landscape');
    expect(result.qc.verdict).toBe('warn');
    expect(result.qc.checks.filter((c) => c.status !== 'pass').map((c) => c.name)).toEqual(['resolution']);
    expect(check(result, 'resolution')?.message).toContain('分辨率较低');
    expect(result.loudness?.integratedLufs).toBeCloseTo(-21.8, 0);
    expect(result.loudness?.truePeakDbtp).toBeLessThan(-10);
  });

  it('when a portrait clip is ingested, then the preview stays portrait', async () => {
    const result = await ingest('portrait');
    expect(result.previewProbe).toMatchObject({ displayWidth: 240, displayHeight: 426, rotation: 0 });
  });

  it('when a landscape frame carries a 90° rotation flag, then the preview is portrait with the rotation applied and no flag left', async () => {
    const result = await ingest('rotated');
    expect(result.probe).toMatchObject({ width: 320, height: 240, displayWidth: 240, displayHeight: 320 });
    expect([90, 270]).toContain(result.probe.rotation);
    const v = videoOf(await rawProbe(result.previewPath));
    expect(v).toMatchObject({ width: 240, height: 320 });
    expect(v?.side_data_list ?? []).toEqual([]);
    expect(await jpegSize(result.posterPath)).toEqual({ width: 240, height: 320 });
    expect(check(result, 'rotation')?.message).toContain('旋转');
  });

  it('when an HEVC 10-bit HLG .mov is ingested, then the preview is tone-mapped to 8-bit BT.709 H.264', async () => {
    const result = await ingest('hevc10-hlg');
    expect(result.probe).toMatchObject({ videoCodec: 'hevc', bitDepth: 10, isHdr: true });
    expect(result.previewProbe).toMatchObject({ videoCodec: 'h264', pixFmt: 'yuv420p', bitDepth: 8, isHdr: false });
    if (caps.hdrTonemap) {
      expect(result.previewProbe.colorTransfer).toBe('bt709');
      expect(check(result, 'hdr')?.status).toBe('pass');
    } else {
      expect(check(result, 'hdr')?.status).toBe('warn');
    }
  });

  it('when a variable-frame-rate clip is ingested, then the preview has a constant rate ≤ 30 and QC notes the VFR', async () => {
    const result = await ingest('vfr');
    expect(result.probe.variableFrameRate).toBe(true);
    const v = videoOf(await rawProbe(result.previewPath));
    expect(v?.r_frame_rate).toBe(v?.avg_frame_rate);
    expect(result.previewProbe.fps).toBeLessThanOrEqual(30);
    expect(result.previewProbe.variableFrameRate).toBe(false);
    expect(check(result, 'frame_rate')?.message).toContain('可变帧率');
  });

  it('when the source has odd dimensions, then the preview has even ones', async () => {
    const result = await ingest('odd');
    expect(result.previewProbe).toMatchObject({ width: 320, height: 240, pixFmt: 'yuv420p' });
  });

  it('when the source has no audio, then the preview has no audio track and QC warns 视频没有声音', async () => {
    const result = await ingest('no-audio');
    expect(result.previewProbe.hasAudio).toBe(false);
    expect(result.loudness).toBeNull();
    expect(check(result, 'audio')).toMatchObject({ status: 'warn' });
    expect(check(result, 'audio')?.message).toContain('视频没有声音');
    expect(check(result, 'loudness')).toBeUndefined();
  });

  it('when the audio is very quiet, then QC warns 音量过低', async () => {
    const result = await ingest('quiet');
    expect(result.loudness?.integratedLufs).toBeLessThan(-45);
    expect(check(result, 'loudness')).toMatchObject({ status: 'warn' });
    expect(check(result, 'loudness')?.message).toContain('音量过低，建议重新录制');
    expect(result.qc.verdict).toBe('warn');
  });

  it('when the whole audio track is silent, then QC fails the silence check', async () => {
    const result = await ingest('silent');
    expect(check(result, 'silence')).toMatchObject({ status: 'fail' });
    expect(check(result, 'silence')?.message).toContain('静音');
    expect(result.qc.verdict).toBe('fail');
  });

  it('when the picture is black throughout, then QC fails with 画面全黑 and a poster is still made', async () => {
    const result = await ingest('black');
    expect(check(result, 'black')).toMatchObject({ status: 'fail' });
    expect(check(result, 'black')?.message).toContain('画面全黑');
    expect(result.qc.verdict).toBe('fail');
    expect(result.posterSource).toBe('fallback-run');
    expect(existsSync(result.posterPath)).toBe(true);
  });

  it('when the file is damaged inside, then the preview is still made and QC warns about decode errors', async () => {
    const result = await ingest('corrupt');
    expect(result.measurements.decodeErrors.count).toBeGreaterThan(0);
    expect(check(result, 'decode')).toMatchObject({ status: 'warn' });
    expect(result.previewProbe.videoCodec).toBe('h264');
  });

  it('when the preview is made, then progress is reported up to 100', async () => {
    const sourcePath = await makeClip('landscape', path.join(dir, 'clips'));
    const seen: number[] = [];
    await ingestVideo({ runner, caps, sourcePath, workDir: path.join(dir, 'work', 'progress'), onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toBe(100);
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
  });

  describe('rejections', () => {
    const cases: Array<[ClipKind, string, string]> = [
      ['truncated', 'unreadable', '无法读取'],
      ['zero', 'unreadable', '空的'],
      ['text', 'not_video', '文件不是视频'],
      ['m3u8', 'not_video', '文件不是视频'],
    ];
    it('when the upload is an AVI (MPEG-4 Part 2 + PCM, as older cameras write), then it is ingested with the avi demuxer alone', async () => {
      const result = await ingestVideo({ runner, caps, sourcePath: await makeClip('avi', path.join(dir, 'clips')), workDir: path.join(dir, 'work', 'avi') });
      expect(result.probe.demuxer).toBe('avi');
      expect(result.previewProbe).toMatchObject({ videoCodec: 'h264', hasAudio: true, displayWidth: 320, displayHeight: 240 });
    });
    it.each(cases)('when the upload is %s, then it is rejected as %s with a Chinese message and nothing is left behind', async (kind, code, text) => {
      const sourcePath = await makeClip(kind, path.join(dir, 'clips'));
      const workDir = path.join(dir, 'work', `rejected-${kind}`);
      const error: unknown = await ingestVideo({ runner, caps, sourcePath, workDir }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MediaRejectedError);
      expect((error as MediaRejectedError).code).toBe(code);
      expect((error as MediaRejectedError).message).toContain(text);
      expect((error as MediaRejectedError).detail).toMatch(/[a-z]/);
      expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
    });

    it('when a clip is longer than the campaign limit, then it is rejected as exceeds_limits before any transcode', async () => {
      const sourcePath = await makeClip('landscape', path.join(dir, 'clips'));
      const workDir = path.join(dir, 'work', 'too-long');
      await expect(ingestVideo({ runner, caps, sourcePath, workDir, limits: { maxDurationS: 2 } })).rejects.toMatchObject({
        code: 'exceeds_limits',
        message: expect.stringContaining('时长超过限制'),
      });
      expect(existsSync(workDir)).toBe(false);
    });
  });

  describe('durations come from what plays, not from the header', () => {
    it('when an MP4 header says 1 s but its 30 frames are spread over 10 h (stts edited, no edit list), then it is refused for its length before any transcode, never ready as 1 s', async () => {
      const sourcePath = await makeHeaderLiesClip(path.join(dir, 'clips'), { headerS: 1, playsS: 36_000 });
      const raw = await rawProbe(sourcePath);
      expect(Number(raw.format.duration)).toBeCloseTo(1, 1); // the lie the header tells
      const workDir = path.join(dir, 'work', 'header-lies');
      const started = Date.now();
      const error = await ingestVideo({ runner, caps, sourcePath, workDir }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MediaRejectedError);
      expect(error).toMatchObject({ code: 'exceeds_limits', message: expect.stringContaining('时长超过限制') });
      expect((error as MediaRejectedError).message).toMatch(/\d+ 分钟/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(existsSync(workDir)).toBe(false);
    });

    it('when the header says 1 s but the frames play for 12 s (within the limit), then the QC reports the 12 s that play and the preview is that long', async () => {
      const sourcePath = await makeHeaderLiesClip(path.join(dir, 'clips'), { headerS: 1, playsS: 12 });
      const result = await ingestVideo({ runner, caps, sourcePath, workDir: path.join(dir, 'work', 'header-lies-short') });
      const duration = result.qc.checks.find((c) => c.name === 'duration');
      expect(duration?.value).toMatch(/^1[12]\.\d\d s$/);
      expect(duration?.message).not.toContain('1.00');
      expect(result.probe.durationS).toBeGreaterThan(11);
      expect(result.previewProbe.durationS).toBeGreaterThan(11);
      expect(result.previewProbe.durationS).toBeLessThan(13);
    });

    it('when the packet scan sees the real end, then every stream end is within a frame of what the header says for an honest clip', async () => {
      const sourcePath = await makeClip('landscape', path.join(dir, 'clips'));
      const ends = await runner.packetEnds(sourcePath, { timeoutMs: 20_000, demuxer: 'mov' });
      expect([...ends.keys()].sort()).toEqual([0, 1]);
      for (const end of ends.values()) expect(Math.abs(end - 3)).toBeLessThan(0.1);
    });

    it('when a lie gets past both probes (the packet scan is hidden from the ingest), then the preview stops at the limit and the decoded length refuses the upload in Chinese', async () => {
      const sourcePath = await makeHeaderLiesClip(path.join(dir, 'clips'), { headerS: 1, playsS: 36_000 });
      // The ctts/composition-offset variant of the trick is invisible to a scan of the last
      // packets; simulate it by giving the ingest a runner whose packet scan sees nothing.
      const blindRunner: MediaRunner = { ...runner, packetEnds: async () => new Map() };
      const workDir = path.join(dir, 'work', 'header-lies-hard-stop');
      const error = await ingestVideo({ runner: blindRunner, caps, sourcePath, workDir, limits: { maxDurationS: 20 } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MediaRejectedError);
      expect(error).toMatchObject({ code: 'exceeds_limits', message: expect.stringContaining('实际播放时长超过限制') });
      expect((error as MediaRejectedError).detail).toMatch(/decoded timeline reached (19|20)\.\d s/);
      expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
    });
  });
});

describe('ingestVideo on the npm-shipped ffmpeg 4.1 / ffprobe fallback', () => {
  it('when the fallback build ingests a rotated clip with sound, then the same argv works and the preview is portrait H.264 with loudness measured', async () => {
    const bins = resolveMediaBinaries({ searchPath: '' });
    expect(bins.source).toBe('npm');
    const npmRunner = createMediaRunner(bins);
    const npmCaps = await mediaCapabilities(bins);
    const sourcePath = await makeClip('rotated', path.join(dir, 'clips'));
    const result = await ingestVideo({ runner: npmRunner, caps: npmCaps, sourcePath, workDir: path.join(dir, 'work', 'npm-rotated') });
    expect(result.previewProbe).toMatchObject({ videoCodec: 'h264', displayWidth: 240, displayHeight: 320, hasAudio: true, audioSampleRate: 48000 });
    expect(result.loudness?.integratedLufs).toBeCloseTo(-21.8, 0);
    expect(result.posterSource).toBe('main-run');
  });
});
