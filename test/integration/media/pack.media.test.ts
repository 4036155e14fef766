/**
 * The new-media pack from generated clips with the real ffmpeg. Every output is measured HERE with
 * ffprobe and ebur128 run by the test itself — makeMediaPack's own verification is not trusted.
 * Clips: landscape (30 fps), portrait, rotated phone (90° flag), 50 fps (→ 25), quiet (−40 LUFS,
 * +24 dB), loud (hard-clipped ≈ −2 LUFS), and a ≈ −50 LUFS clip that is refused with a Chinese message.
 * The title card is checked against the same card drawn WITHOUT text: its pixels must differ
 * (a font that fails silently would leave a plain coloured frame).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cjkFontPath } from '../../../src/platform/documents/fonts';
import { resolveMediaBinaries, type MediaBinaries } from '../../../src/platform/media/binaries';
import { MediaPackError, linkFonts, makeMediaPack, preparePackTexts, type MediaPackResult, type PackCards } from '../../../src/platform/media/pack';
import { cardSource, type PackFonts } from '../../../src/platform/media/pack-args';
import { createMediaRunner, type MediaRunner } from '../../../src/platform/media/runner';
import { makeClip, type ClipKind } from '../../support/clips';

jest.setTimeout(240_000);

const exec = promisify(execFile);
let dir: string;
let bins: MediaBinaries;
let runner: MediaRunner;
const caps = { hdrTonemap: false };
const fonts: PackFonts = { regular: cjkFontPath('regular'), bold: cjkFontPath('bold') };
const timings: string[] = [];
const MAX_BYTES = 50 * 1024 * 1024;

const cards: PackCards = {
  opening: [
    { text: '学习党的二十大精神 唱响青春主旋律', scale: 0.8 },
    { text: '《吕梁颂》', scale: 1.8, bold: true, accent: true },
    { text: '离石区城北小学', scale: 1 },
    { text: '离石区 · 合唱', scale: 0.9 },
  ],
  closing: [
    { text: '指导教师：王老师、李老师', scale: 1 },
    { text: '表演人数：42 人', scale: 1 },
  ],
  coverTitle: '吕梁颂',
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-pack-'));
  bins = resolveMediaBinaries();
  runner = createMediaRunner(bins);
});

afterAll(async () => {
  console.log(`media pack timings (3 s clips):\n${timings.join('\n')}`);
  // PACK_TEST_KEEP=1 keeps the outputs to look at (frames as PNG): the directory is printed.
  if (process.env.PACK_TEST_KEEP) console.log(`pack outputs kept in ${dir}`);
  else await rm(dir, { recursive: true, force: true });
});

const clip = (kind: ClipKind): Promise<string> => makeClip(kind, path.join(dir, 'clips'));

const made = new Map<ClipKind, Promise<MediaPackResult>>();
function pack(kind: ClipKind): Promise<MediaPackResult> {
  if (!made.has(kind)) made.set(kind, makePack(kind));
  return made.get(kind)!;
}

async function makePack(kind: ClipKind): Promise<MediaPackResult> {
  const result = await makeMediaPack({ runner, caps, sourcePath: await clip(kind), workDir: path.join(dir, 'work', kind), cards, fonts, maxBytes: MAX_BYTES });
  timings.push(
    `  ${kind.padEnd(14)} ${String(result.elapsedMs).padStart(6)} ms  plan ${result.loudnessPlan.mode}; ` +
      result.passes.map((p) => `${p.kind} ${p.elapsedMs}`).join(', '),
  );
  return result;
}

interface Probed {
  width: number;
  height: number;
  codec: string;
  profile: string;
  pixFmt: string;
  fieldOrder?: string;
  rate: number;
  audio: { codec: string; sampleRate: number; channels: number };
  durationS: number;
}

async function probe(file: string): Promise<Probed> {
  const { stdout } = await exec(bins.ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const j = JSON.parse(stdout) as { streams: Array<Record<string, string | number>>; format: { duration: string } };
  const v = j.streams.find((s) => s.codec_type === 'video')!;
  const a = j.streams.find((s) => s.codec_type === 'audio')!;
  const [n, d] = String(v.avg_frame_rate).split('/').map(Number);
  return {
    width: Number(v.width),
    height: Number(v.height),
    codec: String(v.codec_name),
    profile: String(v.profile),
    pixFmt: String(v.pix_fmt),
    fieldOrder: v.field_order as string | undefined,
    rate: n! / d!,
    audio: { codec: String(a.codec_name), sampleRate: Number(a.sample_rate), channels: Number(a.channels) },
    durationS: Number(j.format.duration),
  };
}

async function loudness(file: string): Promise<{ i: number; tp: number }> {
  const { stderr } = await exec(bins.ffmpeg, ['-hide_banner', '-nostats', '-i', file, '-map', '0:a:0', '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return { i: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]), tp: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)![1]) };
}

async function imageSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await exec(bins.ffprobe, ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]);
  const [width, height] = stdout.trim().split(',').map(Number);
  return { width: width!, height: height! };
}

/** One frame as raw grey bytes (small), at `atS`. */
async function greyFrame(file: string, atS: number): Promise<Buffer> {
  const { stdout } = await exec(
    bins.ffmpeg,
    ['-v', 'error', '-ss', String(atS), '-i', file, '-frames:v', '1', '-vf', 'scale=270:-2,format=gray', '-f', 'rawvideo', '-'],
    {
      encoding: 'buffer',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout as unknown as Buffer;
}

async function expectPack(r: MediaPackResult, expected: { oa: [number, number]; rate: number }) {
  const oa = await probe(r.files.oa);
  const v = await probe(r.files.vertical);
  for (const [p, size] of [
    [oa, expected.oa],
    [v, [1080, 1920]],
  ] as const) {
    expect([p.width, p.height]).toEqual(size);
    expect(p).toMatchObject({ codec: 'h264', profile: 'High', pixFmt: 'yuv420p', audio: { codec: 'aac', sampleRate: 48000, channels: 2 } });
    expect(p.fieldOrder === undefined || p.fieldOrder === 'progressive').toBe(true);
    expect(p.rate).toBeCloseTo(expected.rate, 2);
    expect(Math.abs(p.durationS - (3 + 6))).toBeLessThan(0.5);
  }
  for (const file of [r.files.oa, r.files.vertical]) {
    const l = await loudness(file);
    expect(Math.abs(l.i - -16)).toBeLessThanOrEqual(1);
    expect(l.tp).toBeLessThanOrEqual(-1);
    expect((await stat(file)).size).toBeLessThanOrEqual(MAX_BYTES);
    // faststart: the moov box is before mdat
    const { stdout } = await exec('sh', ['-c', `head -c 65536 '${file}' | od -An -c | tr -d ' \\n' | grep -ob 'moov\\|mdat' | head -1`]);
    expect(stdout).toContain('moov');
  }
  expect(await imageSize(r.files.coverWide)).toEqual({ width: 900, height: 383 });
  expect(await imageSize(r.files.coverSquare)).toEqual({ width: 900, height: 900 });
  // nothing but the four outputs and their inputs (text files, font links) is left
  const names = await readdir(path.dirname(r.files.oa));
  expect(names.filter((n) => n.includes('partial'))).toEqual([]);
}

test('when a landscape 30 fps clip is packed, then both videos, the covers and the loudness are as WeChat wants them', async () => {
  const r = await pack('landscape');
  await expectPack(r, { oa: [320, 240], rate: 30 });
  expect(r.plan.vertical.mode).toBe('blur');
});

test('when a portrait clip is packed, then the vertical version fills 1080×1920', async () => {
  const r = await pack('portrait');
  await expectPack(r, { oa: [240, 426], rate: 30 });
  expect(r.plan.vertical.mode).toBe('fill');
});

test('when a phone clip carries a 90° rotation flag, then the pack is upright (portrait)', async () => {
  const r = await pack('rotated');
  await expectPack(r, { oa: [240, 320], rate: 30 });
  expect(r.plan.vertical.mode).toBe('fill');
});

test('when a 50 fps clip is packed, then the videos are 25 fps', async () => {
  const r = await pack('fps50');
  await expectPack(r, { oa: [1280, 720], rate: 25 });
});

test('when a quiet (−40 LUFS) clip is packed, then it is raised to −16 LUFS', async () => {
  const r = await pack('quiet-40');
  await expectPack(r, { oa: [320, 240], rate: 30 });
});

test('when a loud, clipped clip is packed, then it is brought down to −16 LUFS with the true peak under −1 dBTP', async () => {
  const r = await pack('loud-clipping');
  await expectPack(r, { oa: [320, 240], rate: 30 });
});

test('when a clip is far too quiet (≈ −50 LUFS), then the pack is refused with the measured value, in Chinese', async () => {
  const err = await makeMediaPack({
    runner,
    caps,
    sourcePath: await clip('quiet'),
    workDir: path.join(dir, 'work', 'quiet'),
    cards,
    fonts,
    maxBytes: MAX_BYTES,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MediaPackError);
  expect((err as MediaPackError).code).toBe('too_quiet');
  expect((err as Error).message).toMatch(/音量过低（−\d+(\.\d)? LUFS）/);
});

test('when the size limit cannot hold the video, then the pack is refused and says so', async () => {
  const err = await makeMediaPack({
    runner,
    caps,
    sourcePath: await clip('landscape'),
    workDir: path.join(dir, 'work', 'tiny'),
    cards,
    fonts,
    maxBytes: 200_000,
  }).catch((e: unknown) => e);
  expect((err as MediaPackError).code).toBe('too_long');
  expect((err as Error).message).toContain('大小限制');
});

test('when the title card is drawn, then its pixels differ from the same card without text (the Chinese font really rendered)', async () => {
  const r = await pack('landscape');
  const withText = await greyFrame(r.files.vertical, 1);
  // The same card, drawn by the same builder without its drawtext filters.
  const work = path.join(dir, 'work', 'card');
  await exec('mkdir', ['-p', work]);
  const texts = await preparePackTexts(work, cards, r.plan);
  const linked = await linkFonts(work, fonts);
  const bare = path.join(work, 'bare.mp4');
  const graph = cardSource(1080, 1920, '30', texts.verticalOpening, linked, 'out', false);
  await exec(bins.ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'anullsrc',
    '-filter_complex',
    graph,
    '-map',
    '[out]',
    '-frames:v',
    '1',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-y',
    bare,
  ]);
  const withoutText = await greyFrame(bare, 0);
  expect(withText.length).toBe(withoutText.length);
  let changed = 0;
  for (let i = 0; i < withText.length; i += 1) if (Math.abs(withText[i]! - withoutText[i]!) > 40) changed += 1;
  // Text covers a few per cent of the card; a plain card would differ only by coding noise.
  expect(changed / withText.length).toBeGreaterThan(0.01);
});
