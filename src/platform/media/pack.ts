/**
 * The new-media pack of one source: probe → audio analysis → loudness first pass (the ingest's
 * measurement when usable, else loudnorm's, audio only) → ONE run making both videos and both
 * covers (pack-args.ts) → independent verification of every file → rename into place.
 * Knows nothing about entries, DB or storage: reads `sourcePath`, writes into `workDir`.
 *
 * Verification reads the files back (ffprobe with the mp4-only whitelist, ebur128 over each
 * video's audio, the JPEG headers, the MP4 box order): size ≤ the budget, H.264 High, yuv420p,
 * progressive, the planned dimensions and rate, AAC 48 kHz stereo, moov before mdat (faststart),
 * duration = source + cards, −16 LUFS ±1 and true peak ≤ −1 dBTP, covers 900×383 and 900×900.
 * A miss → PackVerificationError with the measured values (Chinese); a loudness-only miss gets
 * one corrected encode first (as masters do).
 */
import { open, mkdir, rename, stat, symlink, copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MediaCapabilities } from './binaries';
import { buildLoudnessMeasureArgs } from './broadcast-args';
import { MediaAbortedError, MediaRunError, MediaTimeoutError } from './errors';
import {
  firstPassFromIngest,
  firstPassFromLoudnorm,
  formatDb,
  isLoudnormJsonLine,
  parseLoudnormJson,
  planLoudness,
  type LoudnessFirstPass,
  type LoudnessPlan,
} from './loudness';
import {
  CARD_SECONDS,
  COVER_SIZES,
  PACK_LOUDNESS,
  PACK_TP_HEADROOM_DB,
  PackPlanError,
  VERTICAL_HEIGHT,
  VERTICAL_WIDTH,
  buildPackArgs,
  buildPackCoverFallbackArgs,
  buildPackMeasureArgs,
  buildPackProbeArgs,
  layoutCard,
  planPackPicture,
  type CardBlock,
  type CardLine,
  type DrawLine,
  type PackFonts,
  type PackPicturePlan,
  type PackTexts,
} from './pack-args';
import { ProbeUnreadableError, needsFrameScanCheck, normalizeProbe, parseRatio, withAudioStream, type ProbeResult } from './probe';
import { createMeasurementCapture, parseEbur128Summary, type LoudnessMeasurement } from './qc';
import { execMediaTool, type MediaRunner, type RawProbe } from './runner';
import { sniffVideoFile } from './sniff';
import { analyseAudio, detectScanFromFrames, type AudioPlan } from './source-analysis';
import { nonEmpty, removeAll } from './files';
import { posterWindowStartS } from './ingest-args';

export type PackFailureCode = 'too_quiet' | 'too_long' | 'pack_out_of_spec' | 'source_unreadable' | 'encode_failed' | 'timeout';

export const PACK_MESSAGES = {
  sourceUnreadable: '源视频无法读取，无法制作新媒体包，请检查原始文件',
  encodeFailed: '新媒体包制作失败（转码出错），请稍后重试；多次失败请联系技术人员',
  timeout: '新媒体包制作超时，请稍后重试',
} as const;

/** A pack could not be made. `message` is Chinese for the editor; `detail` English for logs. */
export class MediaPackError extends Error {
  override readonly name: string = 'MediaPackError';
  constructor(
    readonly code: PackFailureCode,
    message: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the verification read from one finished video. */
export interface PackVideoMeasurement {
  readonly sizeBytes: number;
  readonly formatName: string | null;
  readonly videoCodec: string | null;
  readonly videoProfile: string | null;
  readonly pixFmt: string | null;
  readonly fieldOrder: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly frameRate: number | null;
  readonly audioCodec: string | null;
  readonly audioSampleRate: number | null;
  readonly audioChannels: number | null;
  readonly durationS: number | null;
  readonly faststart: boolean;
  readonly integratedLufs: number | null;
  readonly truePeakDbtp: number | null;
}

export interface PackMeasurement {
  readonly oa: PackVideoMeasurement;
  readonly vertical: PackVideoMeasurement;
  readonly coverWide: { width: number; height: number } | null;
  readonly coverSquare: { width: number; height: number } | null;
}

export class PackVerificationError extends MediaPackError {
  override readonly name = 'PackVerificationError';
  constructor(
    message: string,
    readonly measured: PackMeasurement,
    readonly failures: readonly string[],
  ) {
    super('pack_out_of_spec', message, `pack out of spec: ${failures.join('; ')}`);
  }
}

export interface PackCards {
  /** Opening card: campaign, song, school, county, form. */
  readonly opening: readonly CardBlock[];
  /** Closing credits: 指导教师, number of performers. */
  readonly closing: readonly CardBlock[];
  /** The song title on the covers. */
  readonly coverTitle: string;
}

export interface MakeMediaPackOptions {
  readonly runner: MediaRunner;
  readonly caps: Pick<MediaCapabilities, 'hdrTonemap'>;
  readonly sourcePath: string;
  readonly workDir: string;
  readonly cards: PackCards;
  readonly fonts: PackFonts;
  /** The official-account video's size limit (the vertical one keeps to it too). */
  readonly maxBytes: number;
  readonly ingestLoudness?: LoudnessMeasurement | null;
  readonly signal?: AbortSignal;
  onProgress?(percent: number): void;
  readonly probeTimeoutMs?: number;
}

export interface MediaPackFiles {
  readonly oa: string;
  readonly vertical: string;
  readonly coverWide: string;
  readonly coverSquare: string;
}

export interface MediaPackResult {
  readonly files: MediaPackFiles;
  readonly plan: PackPicturePlan;
  readonly loudnessPlan: LoudnessPlan;
  readonly measured: PackMeasurement;
  readonly coversFrom: 'poster-branch' | 'fallback-run';
  readonly encodes: number;
  readonly elapsedMs: number;
  readonly passes: ReadonlyArray<{ kind: string; elapsedMs: number }>;
}

export function packTimeoutMs(durationS: number): number {
  return Math.ceil((6 * (durationS + 2 * CARD_SECONDS) + 60) * 1000);
}

/** Writes each laid-out line's text to its own file (drawtext `textfile=`), returns the lines with their files. */
async function writeLines(workDir: string, prefix: string, lines: readonly CardLine[]): Promise<DrawLine[]> {
  return Promise.all(
    lines.map(async (l, i) => {
      const file = path.join(workDir, `${prefix}-${i}.txt`);
      await writeFile(file, l.text, 'utf8');
      return { ...l, file };
    }),
  );
}

/** Lays out and writes every card and cover text of a pack. Exported for the card test and the bench. */
export async function preparePackTexts(workDir: string, cards: PackCards, plan: Pick<PackPicturePlan, 'oa'>): Promise<PackTexts> {
  const title: CardBlock[] = [{ text: cards.coverTitle, scale: 1, bold: true, accent: true }];
  const coverLines = (size: { width: number; height: number }, share: number): CardLine[] => {
    const band = Math.round(size.height * share);
    const laid = layoutCard(title, size.width, band).map((l) => ({
      ...l,
      fontSize: Math.round(Math.min(band * 0.5, size.width / Math.max(4, [...cards.coverTitle].length + 2))),
    }));
    return laid.slice(0, 1).map((l) => ({ ...l, y: size.height - band + Math.round((band - l.fontSize) / 2) }));
  };
  return {
    oaOpening: await writeLines(workDir, 'oa-open', layoutCard(cards.opening, plan.oa.width, plan.oa.height)),
    oaClosing: await writeLines(workDir, 'oa-close', layoutCard(cards.closing, plan.oa.width, plan.oa.height)),
    verticalOpening: await writeLines(workDir, 'v-open', layoutCard(cards.opening, VERTICAL_WIDTH, VERTICAL_HEIGHT)),
    verticalClosing: await writeLines(workDir, 'v-close', layoutCard(cards.closing, VERTICAL_WIDTH, VERTICAL_HEIGHT)),
    coverWide: await writeLines(workDir, 'cover-wide', coverLines(COVER_SIZES.wide, 0.34)),
    coverSquare: await writeLines(workDir, 'cover-square', coverLines(COVER_SIZES.square, 0.2)),
  };
}

/** The fonts under plain names inside the work directory (so a configured path with any characters is safe in the graph). */
export async function linkFonts(workDir: string, fonts: PackFonts): Promise<PackFonts> {
  const place = async (from: string, name: string) => {
    const to = path.join(workDir, name);
    await symlink(path.resolve(from), to).catch(() => copyFile(from, to));
    return to;
  };
  return { regular: await place(fonts.regular, 'font-regular.ttf'), bold: await place(fonts.bold, 'font-bold.ttf') };
}

export async function makeMediaPack(options: MakeMediaPackOptions): Promise<MediaPackResult> {
  const started = Date.now();
  const { runner, signal } = options;
  const sourcePath = path.resolve(options.sourcePath);
  const workDir = path.resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  const files: MediaPackFiles = {
    oa: path.join(workDir, 'oa.mp4'),
    vertical: path.join(workDir, 'vertical.mp4'),
    coverWide: path.join(workDir, 'cover-wide.jpg'),
    coverSquare: path.join(workDir, 'cover-square.jpg'),
  };
  const partial: MediaPackFiles = {
    oa: path.join(workDir, 'oa.partial.mp4'),
    vertical: path.join(workDir, 'vertical.partial.mp4'),
    coverWide: path.join(workDir, 'cover-wide.partial.jpg'),
    coverSquare: path.join(workDir, 'cover-square.partial.jpg'),
  };
  const all = [...Object.values(files), ...Object.values(partial)];
  const passes: Array<{ kind: string; elapsedMs: number }> = [];
  const timed = async <T>(kind: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      passes.push({ kind, elapsedMs: Date.now() - t0 });
    }
  };
  const progress = (p: number) => options.onProgress?.(Math.max(0, Math.min(100, Math.round(p))));
  const probeTimeoutMs = options.probeTimeoutMs ?? 30_000;

  let probe = await timed('probe', () => probeSource(runner, sourcePath, probeTimeoutMs, signal));
  const durationS = probe.videoDurationS ?? probe.durationS;
  if (durationS === null || !(durationS > 0)) throw new MediaPackError('source_unreadable', PACK_MESSAGES.sourceUnreadable, 'source duration unknown');
  const timeoutMs = packTimeoutMs(durationS);
  let plan: PackPicturePlan;
  try {
    plan = planPackPicture(probe, { maxBytes: options.maxBytes, caps: options.caps });
  } catch (error) {
    if (!(error instanceof PackPlanError)) throw error;
    throw new MediaPackError(
      'too_long',
      `视频时长 ${Math.round(durationS)} 秒，在 ${Math.floor(options.maxBytes / 1048576)} MB 的大小限制内无法保证画质，请调大新媒体视频大小上限后重试`,
      error.message,
    );
  }
  const audio: AudioPlan | null = await timed('audio_analysis', () =>
    runOrFail(() =>
      analyseAudio(runner, probe, sourcePath, { timeoutMs, signal }).catch((e: unknown) => (e instanceof MediaRunError ? null : Promise.reject(e))),
    ),
  );
  if (audio && audio.streamIndex !== probe.audioStreamIndex) probe = withAudioStream(probe, audio.streamIndex);

  let firstPass: LoudnessFirstPass | null = null;
  if (probe.hasAudio) {
    firstPass = firstPassFromIngest(options.ingestLoudness);
    if (firstPass === null) {
      const result = await timed('loudness_first_pass', () =>
        runOrFail(() =>
          runner.run(buildLoudnessMeasureArgs(probe, sourcePath, PACK_LOUDNESS, audio), {
            timeoutMs,
            durationS,
            signal,
            onProgress: (p) => progress(p * 0.1),
            keepLine: isLoudnormJsonLine,
          }),
        ),
      );
      const json = parseLoudnormJson(result.keptLines);
      if (!json) throw new MediaPackError('encode_failed', PACK_MESSAGES.encodeFailed, 'loudnorm first pass printed no JSON');
      firstPass = firstPassFromLoudnorm(json);
    }
  }
  let loudness = planLoudness(firstPass, { ...PACK_LOUDNESS, truePeakHeadroomDb: PACK_TP_HEADROOM_DB });
  if (loudness.mode === 'too_quiet') {
    const message =
      loudness.measuredI === null
        ? '源视频的音轨是静音（测不到声音），无法调整到手机播放响度，请人工处理或要求学校重新录制'
        : `源视频音量过低（${formatDb(loudness.measuredI)} LUFS），需要提升 ${formatDb(loudness.gainDb ?? 0)} dB，超过上限 ${formatDb(PACK_LOUDNESS.gainCapDb)} dB，请人工处理或要求学校重新录制`;
    throw new MediaPackError('too_quiet', message, `gain ${String(loudness.gainDb)} dB over the cap`);
  }

  await removeAll(all);
  const fonts = await linkFonts(workDir, options.fonts);
  const texts = await preparePackTexts(workDir, options.cards, plan);
  const expectSilence = loudness.mode === 'silence';

  try {
    let encodes = 0;
    let coversFrom: MediaPackResult['coversFrom'] = 'poster-branch';
    let verdict: { failures: string[]; loudnessOnly: boolean; measured: PackMeasurement } | null = null;
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      encodes = attempt;
      const base = attempt === 1 ? 10 : 55;
      const span = attempt === 1 ? 75 : 35;
      const covers = attempt === 1;
      const encodeLoudness = loudness;
      await timed('encode', () =>
        runOrFail(() =>
          runner.run(buildPackArgs(probe, { inputPath: sourcePath, outputs: partial, plan, loudness: encodeLoudness, audio, texts, fonts, covers }), {
            timeoutMs,
            durationS: plan.totalS,
            signal,
            onProgress: (p) => progress(base + (p * span) / 100),
          }),
        ),
      );
      if (!(await nonEmpty(partial.oa)) || !(await nonEmpty(partial.vertical))) {
        throw new MediaPackError('encode_failed', PACK_MESSAGES.encodeFailed, 'pack video output missing or empty');
      }
      if (covers && (!(await nonEmpty(partial.coverWide)) || !(await nonEmpty(partial.coverSquare)))) {
        // No non-black frame in the poster window (black or very short video): one frame from the middle.
        coversFrom = 'fallback-run';
        await timed('cover_fallback', () =>
          runOrFail(() =>
            runner.run(
              buildPackCoverFallbackArgs(probe, {
                inputPath: sourcePath,
                atS: Math.min(posterWindowStartS(probe), durationS / 2),
                coverWide: partial.coverWide,
                coverSquare: partial.coverSquare,
                plan,
                texts,
                fonts,
              }),
              { timeoutMs, signal },
            ),
          ),
        );
      }
      const measured = await timed('verify', () => measurePack(runner, partial, timeoutMs, probeTimeoutMs, signal));
      verdict = evaluatePack(measured, plan, { maxBytes: options.maxBytes, expectSilence });
      const offTarget = measured.oa.integratedLufs === null ? 0 : PACK_LOUDNESS.targetI - measured.oa.integratedLufs;
      if (attempt === 2 || !verdict.loudnessOnly || loudness.mode === 'silence' || firstPass === null) break;
      const gainDb: number = Math.round((loudness.gainDb + offTarget) * 100) / 100;
      if (gainDb > PACK_LOUDNESS.gainCapDb) break;
      loudness = {
        mode: 'limited',
        reason: 'correction',
        gainDb,
        ceilingDbtp: PACK_LOUDNESS.targetTP - PACK_TP_HEADROOM_DB,
        predictedTruePeakDbtp: Math.round(((firstPass.measuredTP ?? -99) + gainDb) * 100) / 100,
        firstPass,
      };
      progress(55);
    }
    if (!verdict) throw new Error('unreachable: no verification');
    if (verdict.failures.length) {
      throw new PackVerificationError(`新媒体包未通过检测：${verdict.failures.join('；')}`, verdict.measured, verdict.failures);
    }
    await Promise.all((Object.keys(files) as Array<keyof MediaPackFiles>).map((k) => rename(partial[k], files[k])));
    progress(100);
    return { files, plan, loudnessPlan: loudness, measured: verdict.measured, coversFrom, encodes, elapsedMs: Date.now() - started, passes };
  } catch (error) {
    await removeAll(all);
    throw error;
  }
}

/** Pure: the checks of a measured pack against its plan. */
export function evaluatePack(
  m: PackMeasurement,
  plan: PackPicturePlan,
  options: { maxBytes: number; expectSilence: boolean },
): { failures: string[]; loudnessOnly: boolean; measured: PackMeasurement } {
  const failures: string[] = [];
  const loudnessFailures: string[] = [];
  const video = (name: string, v: PackVideoMeasurement, width: number, height: number) => {
    if (v.sizeBytes > options.maxBytes)
      failures.push(`${name}文件 ${(v.sizeBytes / 1048576).toFixed(1)} MB（应不大于 ${(options.maxBytes / 1048576).toFixed(1)} MB）`);
    if (!v.formatName?.includes('mp4')) failures.push(`${name}封装 ${v.formatName ?? '未知'}（应为 MP4）`);
    if (v.videoCodec !== 'h264' || v.videoProfile !== 'High')
      failures.push(`${name}视频编码 ${v.videoCodec ?? '?'} ${v.videoProfile ?? ''}（应为 H.264 High）`);
    if (v.pixFmt !== 'yuv420p') failures.push(`${name}像素格式 ${v.pixFmt ?? '?'}（应为 yuv420p）`);
    if (v.fieldOrder && v.fieldOrder !== 'progressive' && v.fieldOrder !== 'unknown') failures.push(`${name}场序 ${v.fieldOrder}（应为逐行）`);
    if (v.width !== width || v.height !== height) failures.push(`${name}分辨率 ${v.width ?? '?'}×${v.height ?? '?'}（应为 ${width}×${height}）`);
    if (v.frameRate === null || Math.abs(v.frameRate - plan.fpsValue) > 0.01)
      failures.push(`${name}帧率 ${v.frameRate?.toFixed(2) ?? '?'}（应为 ${plan.fpsValue.toFixed(2)}）`);
    if (v.audioCodec !== 'aac' || v.audioSampleRate !== 48000 || v.audioChannels !== 2)
      failures.push(`${name}音频 ${v.audioCodec ?? '?'} ${v.audioSampleRate ?? '?'} Hz ${v.audioChannels ?? '?'} 声道（应为 AAC 48000 Hz 立体声）`);
    if (v.durationS === null || Math.abs(v.durationS - plan.totalS) > 0.5)
      failures.push(`${name}时长 ${v.durationS?.toFixed(2) ?? '?'} 秒（应为 ${plan.totalS.toFixed(2)} 秒）`);
    if (!v.faststart) failures.push(`${name}未做快速启动（moov 不在文件开头）`);
    if (options.expectSilence) {
      if (v.integratedLufs !== null) failures.push(`${name}：无声源视频应为静音，测得 ${formatDb(v.integratedLufs)} LUFS`);
    } else if (v.integratedLufs === null) {
      loudnessFailures.push(`${name}音轨是静音`);
    } else {
      if (Math.abs(v.integratedLufs - PACK_LOUDNESS.targetI) > PACK_LOUDNESS.toleranceLu)
        loudnessFailures.push(
          `${name}综合响度 ${formatDb(v.integratedLufs)} LUFS（应为 ${formatDb(PACK_LOUDNESS.targetI)} ±${PACK_LOUDNESS.toleranceLu} LUFS）`,
        );
      if (v.truePeakDbtp !== null && v.truePeakDbtp > PACK_LOUDNESS.targetTP)
        loudnessFailures.push(`${name}真峰值 ${formatDb(v.truePeakDbtp)} dBTP（应不高于 ${formatDb(PACK_LOUDNESS.targetTP)} dBTP）`);
    }
  };
  video('公众号视频', m.oa, plan.oa.width, plan.oa.height);
  video('视频号竖版', m.vertical, VERTICAL_WIDTH, VERTICAL_HEIGHT);
  const cover = (name: string, c: { width: number; height: number } | null, want: { width: number; height: number }) => {
    if (!c || c.width !== want.width || c.height !== want.height)
      failures.push(`${name} ${c ? `${c.width}×${c.height}` : '无法读取'}（应为 ${want.width}×${want.height}）`);
  };
  cover('封面（2.35:1）', m.coverWide, COVER_SIZES.wide);
  cover('封面（1:1）', m.coverSquare, COVER_SIZES.square);
  return { failures: [...failures, ...loudnessFailures], loudnessOnly: failures.length === 0 && loudnessFailures.length > 0, measured: m };
}

async function measurePack(runner: MediaRunner, f: MediaPackFiles, timeoutMs: number, probeTimeoutMs: number, signal?: AbortSignal): Promise<PackMeasurement> {
  const [oa, vertical, coverWide, coverSquare] = await Promise.all([
    measureVideo(runner, f.oa, timeoutMs, probeTimeoutMs, signal),
    measureVideo(runner, f.vertical, timeoutMs, probeTimeoutMs, signal),
    jpegSize(f.coverWide),
    jpegSize(f.coverSquare),
  ]);
  return { oa, vertical, coverWide, coverSquare };
}

async function measureVideo(runner: MediaRunner, file: string, timeoutMs: number, probeTimeoutMs: number, signal?: AbortSignal): Promise<PackVideoMeasurement> {
  const probed = await runOrFail(() =>
    execMediaTool(runner.binaries.ffprobe, buildPackProbeArgs(file), { timeoutMs: probeTimeoutMs, signal, captureStdoutBytes: 4 * 1024 * 1024 }),
  );
  let raw: RawProbe;
  try {
    const parsed = JSON.parse(probed.stdout) as Partial<RawProbe>;
    raw = { streams: Array.isArray(parsed.streams) ? parsed.streams : [], format: parsed.format ?? {} };
  } catch (error) {
    throw new MediaPackError('encode_failed', PACK_MESSAGES.encodeFailed, 'pack ffprobe JSON unparseable', { cause: error });
  }
  const capture = createMeasurementCapture();
  const measured = await runOrFail(() =>
    execMediaTool(runner.binaries.ffmpeg, buildPackMeasureArgs(file), { timeoutMs, signal, keepLine: (l) => capture.keepLine(l) }),
  );
  const loudness = parseEbur128Summary(measured.keptLines);
  const silent = loudness === null || loudness.integratedLufs <= -69.5;
  const v = raw.streams.find((s) => s.codec_type === 'video');
  const a = raw.streams.find((s) => s.codec_type === 'audio');
  return {
    sizeBytes: (await stat(file)).size,
    formatName: raw.format.format_name ?? null,
    videoCodec: v?.codec_name ?? null,
    videoProfile: v?.profile ?? null,
    pixFmt: v?.pix_fmt ?? null,
    fieldOrder: v?.field_order ?? null,
    width: v?.width ?? null,
    height: v?.height ?? null,
    frameRate: parseRatio(v?.avg_frame_rate) ?? parseRatio(v?.r_frame_rate) ?? null,
    audioCodec: a?.codec_name ?? null,
    audioSampleRate: a?.sample_rate ? Number(a.sample_rate) : null,
    audioChannels: a?.channels ?? null,
    durationS: raw.format.duration ? Number(raw.format.duration) : null,
    faststart: await moovBeforeMdat(file),
    integratedLufs: silent ? null : loudness.integratedLufs,
    truePeakDbtp: silent ? null : loudness.truePeakDbtp,
  };
}

/** Reads the top-level MP4 boxes: `moov` must come before `mdat` (progressive download, "faststart"). */
export async function moovBeforeMdat(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(16);
    let at = 0;
    for (let i = 0; i < 64 && at + 8 <= size; i += 1) {
      await fh.read(head, 0, 16, at);
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (type === 'moov') return true;
      if (type === 'mdat') return false;
      if (boxSize === 1) boxSize = Number(head.readBigUInt64BE(8));
      if (boxSize < 8) return false;
      at += boxSize;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/** Width and height from a JPEG's SOF marker; null when the file is not a readable JPEG. */
export async function jpegSize(file: string): Promise<{ width: number; height: number } | null> {
  let buf: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      buf = Buffer.alloc(Math.min(256 * 1024, (await fh.stat()).size));
      await fh.read(buf, 0, buf.length, 0);
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1] as number;
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return null;
}

async function probeSource(runner: MediaRunner, file: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
  try {
    const sniff = await sniffVideoFile(file);
    if (!sniff.ok) throw new MediaPackError('source_unreadable', PACK_MESSAGES.sourceUnreadable, `sniff: ${sniff.detail}`);
    const probe = normalizeProbe(await runner.probe(file, { timeoutMs, signal, demuxer: sniff.demuxer }), sniff.demuxer);
    return needsFrameScanCheck(probe) ? { ...probe, scan: await detectScanFromFrames(runner, probe, file, { timeoutMs, signal }) } : probe;
  } catch (error) {
    if (error instanceof MediaAbortedError || error instanceof MediaPackError) throw error;
    if (error instanceof MediaTimeoutError) throw new MediaPackError('timeout', PACK_MESSAGES.timeout, error.message, { cause: error });
    if (error instanceof MediaRunError || error instanceof ProbeUnreadableError) {
      throw new MediaPackError('source_unreadable', PACK_MESSAGES.sourceUnreadable, `ffprobe of source: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

async function runOrFail<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MediaTimeoutError) throw new MediaPackError('timeout', PACK_MESSAGES.timeout, error.message, { cause: error });
    if (error instanceof MediaRunError)
      throw new MediaPackError('encode_failed', PACK_MESSAGES.encodeFailed, `${error.message}\n${error.stderrTail}`, { cause: error });
    throw error;
  }
}
