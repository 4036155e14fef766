/**
 * Broadcast masters from generated clips with the real ffmpeg. Every master is checked HERE with
 * ffprobe and ebur128 run by the test itself — not trusted from makeBroadcastMaster's own verification.
 * h264 (libx264 medium, 1080p) is the expensive profile, so it runs on two clips only (the AAC
 * loudness path and the generated silent track); the 50p → 25p choice for h264 is unit-tested.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries, type MediaBinaries } from '../../../src/platform/media/binaries';
import { BroadcastMasterError, makeBroadcastMaster, type BroadcastMasterResult } from '../../../src/platform/media/broadcast';
import type { BroadcastProfile, PillarboxStyle } from '../../../src/platform/media/broadcast-args';
import type { LoudnessMeasurement } from '../../../src/platform/media/qc';
import { createMediaRunner, type MediaRunner } from '../../../src/platform/media/runner';
import { makeClip, type ClipKind } from '../../support/clips';

jest.setTimeout(120_000);

const exec = promisify(execFile);
let dir: string;
let bins: MediaBinaries;
let runner: MediaRunner;
const caps = { hdrTonemap: false };
const timings: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-broadcast-'));
  bins = resolveMediaBinaries();
  runner = createMediaRunner(bins);
});

afterAll(async () => {
  console.log(`broadcast master timings (3 s clips):\n${timings.join('\n')}`);
  await rm(dir, { recursive: true, force: true });
});

const clip = (kind: ClipKind): Promise<string> => makeClip(kind, path.join(dir, 'clips'));

async function master(
  kind: ClipKind,
  profile: BroadcastProfile,
  options: { pillarbox?: PillarboxStyle; ingest?: boolean } = {},
): Promise<BroadcastMasterResult> {
  const sourcePath = await clip(kind);
  const ingestLoudness = options.ingest ? await measureSourceLikeIngest(sourcePath) : undefined;
  const result = await makeBroadcastMaster({
    runner,
    caps,
    sourcePath,
    profile,
    pillarbox: options.pillarbox ?? 'black',
    ingestLoudness,
    workDir: path.join(dir, 'work', `${kind}-${profile}-${options.pillarbox ?? 'black'}`),
  });
  timings.push(
    `  ${kind.padEnd(14)} ${profile.padEnd(13)} ${(options.pillarbox ?? 'black').padEnd(5)} ${String(result.elapsedMs).padStart(6)} ms  ` +
      `first pass: ${result.firstPassSource ?? 'none'}; plan ${result.loudnessPlan.mode}; encodes ${result.encodes}; ` +
      result.passes.map((p) => `${p.kind}#${p.attempt} ${p.elapsedMs}`).join(', '),
  );
  return result;
}

/** The ingest's measurement chain (ingest-args.ts): stereo 48 kHz mix, ebur128=peak=true. */
async function measureSourceLikeIngest(file: string): Promise<LoudnessMeasurement> {
  const m = ebur128(await loudnessLog(file, 'aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,ebur128=peak=true'));
  if (m.integratedLufs === null) throw new Error('source is silent');
  return { integratedLufs: m.integratedLufs, truePeakDbtp: m.truePeakDbtp, lra: m.lra };
}

/** ffmpeg's log of the first audio stream through `filter` (an ebur128 chain), decoded to nowhere. */
async function loudnessLog(file: string, filter: string): Promise<string> {
  const { stderr } = await exec(bins.ffmpeg, ['-hide_banner', '-nostdin', '-nostats', '-i', file, '-map', '0:a:0', '-vn', '-af', filter, '-f', 'null', '-']);
  return stderr;
}

/** The test's own ebur128 summary parser (the last summary in the log). */
function ebur128(stderr: string): { integratedLufs: number | null; truePeakDbtp: number | null; lra: number } {
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const i = /I:\s+(-?[\d.]+|-inf)\s+LUFS/.exec(summary)?.[1];
  const lra = /LRA:\s+(-?[\d.]+)\s+LU/.exec(summary)?.[1];
  const peak = /Peak:\s+(-?[\d.]+|-inf)\s+dBFS/.exec(summary)?.[1];
  if (i === undefined || lra === undefined) throw new Error(`no ebur128 summary:\n${stderr.slice(-2000)}`);
  const integrated = i === '-inf' ? null : Number(i);
  return {
    integratedLufs: integrated !== null && integrated <= -69.5 ? null : integrated,
    truePeakDbtp: peak === undefined || peak === '-inf' ? null : Number(peak),
    lra: Number(lra),
  };
}

interface Measured {
  format: string;
  video: Record<string, string | number>;
  audio: Record<string, string | number> | undefined;
  durationS: number;
  loudness: ReturnType<typeof ebur128>;
}

async function measure(file: string): Promise<Measured> {
  const { stdout } = await exec(bins.ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const probe = JSON.parse(stdout) as { streams: Array<Record<string, string | number>>; format: Record<string, string> };
  const video = probe.streams.find((s) => s.codec_type === 'video');
  if (!video) throw new Error('no video');
  const stderr = await loudnessLog(file, 'ebur128=peak=true');
  return {
    format: probe.format.format_name ?? '',
    video,
    audio: probe.streams.find((s) => s.codec_type === 'audio'),
    durationS: Number(probe.format.duration),
    loudness: ebur128(stderr),
  };
}

/** Luma bytes of a region of the frame at 1 s (gray8). */
async function lumaOf(file: string, crop: string): Promise<Buffer> {
  const { stdout } = await exec(
    bins.ffmpeg,
    ['-hide_banner', '-nostdin', '-v', 'error', '-ss', '1', '-i', file, '-frames:v', '1', '-vf', `crop=${crop},format=gray`, '-f', 'rawvideo', '-'],
    { encoding: 'buffer', maxBuffer: 8 * 1024 * 1024 },
  );
  return stdout;
}
const max = (b: Buffer): number => b.reduce((m, v) => Math.max(m, v), 0);
const mean = (b: Buffer): number => b.reduce((s, v) => s + v, 0) / b.length;

function expectProfile(m: Measured, profile: BroadcastProfile): void {
  expect(m.video).toMatchObject({ width: 1920, height: 1080, r_frame_rate: '25/1', sample_aspect_ratio: '1:1' });
  expect(m.durationS).toBeGreaterThan(2.9);
  expect(m.durationS).toBeLessThan(3.1);
  if (profile === 'xdcam-hd422') {
    expect(m.format).toBe('mxf');
    expect(m.video).toMatchObject({ codec_name: 'mpeg2video', profile: '4:2:2', pix_fmt: 'yuv422p', field_order: 'tt', color_primaries: 'bt709' });
    expect(m.audio).toMatchObject({ codec_name: 'pcm_s24le', sample_rate: '48000', channels: 2 });
  } else {
    expect(m.format).toContain('mp4');
    expect(m.video).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', field_order: 'progressive' });
    expect(m.audio).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
  }
}

function expectBroadcastLoudness(m: Measured): void {
  expect(m.loudness.integratedLufs).not.toBeNull();
  expect(Math.abs((m.loudness.integratedLufs as number) + 24)).toBeLessThanOrEqual(1);
  expect(m.loudness.truePeakDbtp).not.toBeNull();
  expect(m.loudness.truePeakDbtp as number).toBeLessThanOrEqual(-2);
}

describe('makeBroadcastMaster with the real ffmpeg', () => {
  it('when a portrait phone clip is mastered for xdcam (black), then it is a 50i MPEG-2 4:2:2 MXF, pillarboxed in black, at −24 LUFS', async () => {
    const result = await master('portrait', 'xdcam-hd422');
    expect(result.outputPath.endsWith('master.mxf')).toBe(true);
    expect(result.picture).toMatchObject({ fit: 'pillarbox', contentWidth: 608 });
    expect(result.firstPassSource).toBe('loudnorm');
    expect(result.loudnessPlan.mode).toBe('linear');
    const m = await measure(result.outputPath);
    expectProfile(m, 'xdcam-hd422');
    expectBroadcastLoudness(m);
    // 240×426 → 608×1080 in the middle: 656 px bars each side
    expect(max(await lumaOf(result.outputPath, '640:1080:0:0'))).toBeLessThanOrEqual(18);
    expect(max(await lumaOf(result.outputPath, '640:1080:1280:0'))).toBeLessThanOrEqual(18);
    expect(max(await lumaOf(result.outputPath, '500:1000:710:40'))).toBeGreaterThan(100);
    expect(await readdir(path.dirname(result.outputPath))).toEqual(['master.mxf']);
  });

  it('when the same clip is mastered with the blurred background, then the bars are the blurred picture, not black', async () => {
    const result = await master('portrait', 'xdcam-hd422', { pillarbox: 'blur' });
    const m = await measure(result.outputPath);
    expectProfile(m, 'xdcam-hd422');
    expectBroadcastLoudness(m);
    expect(mean(await lumaOf(result.outputPath, '600:1080:0:0'))).toBeGreaterThan(30);
  });

  it('when a loud, hard-clipping clip is mastered (first pass by loudnorm), then it is brought down linearly to −24 LUFS, TP ≤ −2', async () => {
    const result = await master('loud-clipping', 'xdcam-hd422');
    expect(result.loudnessPlan).toMatchObject({ mode: 'linear' });
    expect((result.loudnessPlan as { gainDb: number }).gainDb).toBeLessThan(-15);
    const m = await measure(result.outputPath);
    expectProfile(m, 'xdcam-hd422');
    expectBroadcastLoudness(m);
  });

  it('when the loud clip is mastered as h264 with the ingest measurement, then no first pass runs and the AAC master is in spec', async () => {
    const result = await master('loud-clipping', 'h264-1080p25', { ingest: true });
    expect(result.firstPassSource).toBe('ingest-ebur128');
    expect(result.passes.map((p) => p.kind)).not.toContain('loudness_first_pass');
    expect(result.passes.filter((p) => p.kind === 'encode')).toHaveLength(1);
    const m = await measure(result.outputPath);
    expect(result.outputPath.endsWith('master.mp4')).toBe(true);
    expectProfile(m, 'h264-1080p25');
    expectBroadcastLoudness(m);
  });

  it('when a quiet (−40 LUFS) clip is mastered from its ingest measurement, then it is raised linearly by ≈ 16 dB', async () => {
    const result = await master('quiet-40', 'xdcam-hd422', { ingest: true });
    expect(result.firstPassSource).toBe('ingest-ebur128');
    expect(result.loudnessPlan.mode).toBe('linear');
    expect((result.loudnessPlan as { gainDb: number }).gainDb).toBeGreaterThan(14);
    expect(result.encodes).toBe(1);
    const m = await measure(result.outputPath);
    expectProfile(m, 'xdcam-hd422');
    expectBroadcastLoudness(m);
  });

  it('when a peaky clip would clip after the linear gain, then the 192 kHz limiter holds the true peak and loudness stays −24 ±1', async () => {
    const result = await master('peaky', 'xdcam-hd422');
    expect(result.loudnessPlan.mode).toBe('limited');
    const m = await measure(result.outputPath);
    expectProfile(m, 'xdcam-hd422');
    expectBroadcastLoudness(m);
  });

  it.each(['xdcam-hd422', 'h264-1080p25'] as const)(
    'when a clip without audio is mastered as %s, then the master carries a silent 48 kHz stereo track',
    async (profile) => {
      const result = await master('no-audio', profile);
      expect(result.loudnessPlan).toEqual({ mode: 'silence' });
      expect(result.loudness).toEqual({ integratedLufs: null, truePeakDbtp: null });
      const m = await measure(result.outputPath);
      expectProfile(m, profile);
      expect(m.loudness.integratedLufs).toBeNull();
      expect(m.loudness.truePeakDbtp).toBeNull();
    },
  );

  it('when a 50 fps clip is mastered as xdcam, then it becomes 50i TFF (25 frames of two fields) at 1920×1080', async () => {
    const result = await master('fps50', 'xdcam-hd422');
    expect(result.picture).toMatchObject({ fit: 'scale', fps: 50, scan: 'interlace-tff' });
    const m = await measure(result.outputPath);
    expectProfile(m, 'xdcam-hd422');
    expectBroadcastLoudness(m);
    // interlace=scan=tff weaves two different moments into each frame: idet sees TFF, not progressive
    const { stderr } = await exec(bins.ffmpeg, ['-hide_banner', '-nostdin', '-i', result.outputPath, '-map', '0:v:0', '-vf', 'idet', '-f', 'null', '-']);
    const single = /Single frame detection: TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)/.exec(stderr);
    expect(single).not.toBeNull();
    expect(Number(single?.[1])).toBeGreaterThan(Number(single?.[3]));
  });

  it('when a clip is too quiet to rescue (≈ −50 LUFS), then it is flagged for a person with a Chinese message and no file is written', async () => {
    const workDir = path.join(dir, 'work', 'quiet');
    const error = await makeBroadcastMaster({ runner, caps, sourcePath: await clip('quiet'), workDir, profile: 'xdcam-hd422', pillarbox: 'black' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BroadcastMasterError);
    expect(error).toMatchObject({ code: 'too_quiet', plan: { mode: 'too_quiet' } });
    expect((error as Error).message).toMatch(
      /^源视频音量过低（−(49|50|51)(\.\d)? LUFS），需要提升 2\d(\.\d)? dB，超过上限 20 dB，请人工处理或要求学校重新录制$/,
    );
    expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
  });

  it('when the audio track is digital silence, then it is flagged (静音), not boosted', async () => {
    const error = await makeBroadcastMaster({
      runner,
      caps,
      sourcePath: await clip('silent'),
      workDir: path.join(dir, 'work', 'silent'),
      profile: 'xdcam-hd422',
      pillarbox: 'black',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'too_quiet' });
    expect((error as Error).message).toContain('静音');
  });
});
