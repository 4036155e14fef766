/**
 * Broadcast master of one source (DESIGN §6 "Broadcast job"): probe → loudness first pass (or the
 * ingest's measurement) → plan → ONE encode → independent verification of the finished file →
 * rename into place. Knows nothing about entries, DB or storage: reads `sourcePath`, writes
 * `master.mxf` / `master.mp4` into `workDir`.
 *
 * - First pass: skipped when the ingest's ebur128 measurement is given and usable (it was made on
 *   the same stereo 48 kHz mix, see loudness.ts `firstPassFromIngest`), so a master costs one
 *   decode of the source plus an audio-only read of the master. Otherwise loudnorm's first pass
 *   runs audio-only (`-vn`).
 * - Verification is independent of the encode: ffprobe of the master (size, codec/profile, field
 *   order, rate, pixel format, container, audio format) and `ebur128=peak=true` over its audio
 *   (integrated −24 ±1 LU, true peak ≤ −2 dBTP). Off spec → MasterVerificationError with the
 *   measured values; nothing is left at the final name. A master at `outputPath` is a verified one.
 * - Correction: when the master misses the loudness window (or, after the limiter, lands more than
 *   0.5 LU off target), ONE more encode runs with the gain corrected by the measured shortfall and
 *   the limiter on (`limited`/`correction`), and is verified again. Normal sources never need it.
 * - The master is read back with its own one-format whitelist (`mxf`, or the mp4 family) through
 *   `execMediaTool` from runner.ts: `runner.run`/`runner.probe` insist on the UPLOAD whitelist,
 *   which (rightly) does not include MXF.
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { MediaCapabilities } from './binaries';
import {
  BROADCAST_PROFILE_SPECS,
  MASTER_FPS,
  MASTER_HEIGHT,
  MASTER_WIDTH,
  buildLoudnessMeasureArgs,
  buildMasterArgs,
  buildMasterMeasureArgs,
  buildMasterProbeArgs,
  planMasterPicture,
  type BroadcastProfile,
  type MasterPicturePlan,
  type PillarboxStyle,
} from './broadcast-args';
import { MediaAbortedError, MediaRunError, MediaTimeoutError } from './errors';
import {
  BROADCAST_LOUDNESS,
  firstPassFromIngest,
  firstPassFromLoudnorm,
  formatDb,
  isLoudnormJsonLine,
  parseLoudnormJson,
  planLoudness,
  type LoudnessFirstPass,
  type LoudnessPlan,
} from './loudness';
import { ProbeUnreadableError, needsFrameScanCheck, normalizeProbe, parseRatio, withAudioStream, type ProbeResult } from './probe';
import { sniffVideoFile } from './sniff';
import { analyseAudio, detectScanFromFrames, type AudioPlan } from './source-analysis';
import { createMeasurementCapture, parseEbur128Summary, type LoudnessMeasurement } from './qc';
import { execMediaTool, type MediaRunner, type RawProbe, type RawProbeStream } from './runner';
import { nonEmpty, removeAll } from './files';

export type BroadcastFailureCode = 'too_quiet' | 'master_out_of_spec' | 'loudnorm_not_linear' | 'source_unreadable' | 'encode_failed' | 'timeout';

export const BROADCAST_MESSAGES = {
  sourceUnreadable: '源视频无法读取，无法生成播出母版，请检查原始文件',
  encodeFailed: '播出母版生成失败（转码出错），请稍后重试；多次失败请联系技术人员',
  timeout: '播出母版生成超时，请稍后重试',
} as const;

/** A master could not be made. `message` is Chinese for the city/TV staff; `detail` English for logs. */
export class BroadcastMasterError extends Error {
  override readonly name: string = 'BroadcastMasterError';
  constructor(
    readonly code: BroadcastFailureCode,
    message: string,
    readonly detail: string,
    readonly plan: LoudnessPlan | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The finished file failed the independent check; `measured` holds what was found. */
export class MasterVerificationError extends BroadcastMasterError {
  override readonly name = 'MasterVerificationError';
  constructor(
    message: string,
    readonly measured: MasterMeasurement,
    readonly failures: readonly string[],
    plan: LoudnessPlan | null,
  ) {
    super('master_out_of_spec', message, `master out of spec: ${failures.join('; ')}`, plan);
  }
}

/** What the verification read from the finished master. */
export interface MasterMeasurement {
  readonly formatName: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly videoCodec: string | null;
  readonly videoProfile: string | null;
  readonly pixFmt: string | null;
  readonly fieldOrder: string | null;
  readonly frameRate: number | null;
  readonly sampleAspectRatio: string | null;
  readonly colorPrimaries: string | null;
  readonly audioCodec: string | null;
  readonly audioSampleRate: number | null;
  readonly audioChannels: number | null;
  readonly durationS: number | null;
  /** null for a silent track (−70 LUFS gate / −inf) or when not measured. */
  readonly integratedLufs: number | null;
  readonly truePeakDbtp: number | null;
  readonly lra: number | null;
}

export interface MasterVerification {
  readonly ok: boolean;
  readonly measured: MasterMeasurement;
  /** Chinese, one per failed check. */
  readonly failures: readonly string[];
  /** Only the loudness checks failed (a corrected encode may fix it). */
  readonly loudnessOnly: boolean;
}

interface MasterProbeStream extends RawProbeStream {
  field_order?: string;
}

/** Pure: the checks of a finished master against its profile (DESIGN §6). */
export function evaluateMaster(
  profile: BroadcastProfile,
  raw: RawProbe,
  loudness: LoudnessMeasurement | null,
  options: { expectSilence: boolean; targets?: typeof BROADCAST_LOUDNESS },
): MasterVerification {
  const spec = BROADCAST_PROFILE_SPECS[profile];
  const t = options.targets ?? BROADCAST_LOUDNESS;
  const video = raw.streams.find((s) => s.codec_type === 'video') as MasterProbeStream | undefined;
  const audio = raw.streams.find((s) => s.codec_type === 'audio');
  const silent = loudness !== null && loudness.integratedLufs <= -69.5;
  const measured: MasterMeasurement = {
    formatName: raw.format.format_name ?? null,
    width: video?.width ?? null,
    height: video?.height ?? null,
    videoCodec: video?.codec_name ?? null,
    videoProfile: video?.profile ?? null,
    pixFmt: video?.pix_fmt ?? null,
    fieldOrder: video?.field_order ?? null,
    frameRate: parseRatio(video?.r_frame_rate) ?? null,
    sampleAspectRatio: video?.sample_aspect_ratio ?? null,
    colorPrimaries: video?.color_primaries ?? null,
    audioCodec: audio?.codec_name ?? null,
    audioSampleRate: audio?.sample_rate ? Number(audio.sample_rate) : null,
    audioChannels: audio?.channels ?? null,
    durationS: raw.format.duration ? Number(raw.format.duration) : null,
    integratedLufs: loudness && !silent ? loudness.integratedLufs : null,
    truePeakDbtp: loudness && !silent ? loudness.truePeakDbtp : null,
    lra: loudness && !silent ? loudness.lra : null,
  };
  const failures: string[] = [];
  const containerName = spec.extension === 'mxf' ? 'MXF' : 'MP4';
  if (measured.formatName !== spec.formatName) failures.push(`封装格式 ${measured.formatName ?? '未知'}（应为 ${containerName}）`);
  if (!video) {
    failures.push('没有视频轨');
  } else {
    if (measured.width !== MASTER_WIDTH || measured.height !== MASTER_HEIGHT)
      failures.push(`分辨率 ${measured.width ?? '?'}×${measured.height ?? '?'}（应为 1920×1080）`);
    if (measured.videoCodec !== spec.videoCodec || measured.videoProfile !== spec.videoProfile) {
      failures.push(
        `视频编码 ${measured.videoCodec ?? '?'} ${measured.videoProfile ?? ''}（应为 ${spec.videoCodec === 'mpeg2video' ? 'MPEG-2 4:2:2' : 'H.264 High'}）`,
      );
    }
    if (measured.pixFmt !== spec.pixFmt) failures.push(`像素格式 ${measured.pixFmt ?? '?'}（应为 ${spec.pixFmt}）`);
    if (measured.frameRate === null || Math.abs(measured.frameRate - MASTER_FPS) > 0.01) failures.push(`帧率 ${measured.frameRate ?? '?'}（应为 25）`);
    if (measured.fieldOrder !== spec.fieldOrder)
      failures.push(`场序 ${measured.fieldOrder ?? '?'}（应为${spec.fieldOrder === 'tt' ? '上场优先 50i' : '逐行'}）`);
    if (measured.sampleAspectRatio !== null && measured.sampleAspectRatio !== '1:1') failures.push(`像素宽高比 ${measured.sampleAspectRatio}（应为 1:1）`);
  }
  if (!audio) {
    failures.push('没有音轨');
  } else if (measured.audioCodec !== spec.audioCodec || measured.audioSampleRate !== 48000 || measured.audioChannels !== 2) {
    failures.push(
      `音频 ${measured.audioCodec ?? '?'} ${measured.audioSampleRate ?? '?'} Hz ${measured.audioChannels ?? '?'} 声道（应为 ${spec.audioCodec} 48000 Hz 立体声）`,
    );
  }
  if (!(measured.durationS !== null && measured.durationS > 0)) failures.push('母版时长为 0');
  const structural = failures.length;
  if (audio) {
    if (loudness === null) {
      failures.push('无法测量母版响度');
    } else if (options.expectSilence) {
      if (!silent) failures.push(`无声源视频的母版音轨应为静音，测得 ${formatDb(loudness.integratedLufs)} LUFS`);
    } else if (silent) {
      failures.push('母版音轨是静音');
    } else {
      if (Math.abs(loudness.integratedLufs - t.targetI) > t.toleranceLu) {
        failures.push(`综合响度 ${formatDb(loudness.integratedLufs)} LUFS（应为 ${formatDb(t.targetI)} ±${t.toleranceLu} LUFS）`);
      }
      if (loudness.truePeakDbtp !== null && loudness.truePeakDbtp > t.targetTP) {
        failures.push(`真峰值 ${formatDb(loudness.truePeakDbtp)} dBTP（应不高于 ${formatDb(t.targetTP)} dBTP）`);
      }
    }
  }
  return { ok: failures.length === 0, measured, failures, loudnessOnly: structural === 0 && failures.length > 0 };
}

export interface MakeBroadcastMasterOptions {
  readonly runner: MediaRunner;
  readonly caps: Pick<MediaCapabilities, 'hdrTonemap'>;
  /** The original upload (server-generated path). */
  readonly sourcePath: string;
  /** A directory for this job's output; created if missing. */
  readonly workDir: string;
  readonly profile: BroadcastProfile;
  readonly pillarbox: PillarboxStyle;
  /** The ingest's measurement of the source (IngestResult.loudness); used as the first pass when usable. */
  readonly ingestLoudness?: LoudnessMeasurement | null;
  readonly signal?: AbortSignal;
  onProgress?(percent: number): void;
  /** ffprobe wall-clock limit (default 30 s). */
  readonly probeTimeoutMs?: number;
}

export interface BroadcastPass {
  readonly kind: 'probe' | 'audio_analysis' | 'loudness_first_pass' | 'encode' | 'verify_probe' | 'verify_loudness';
  readonly attempt: number;
  readonly elapsedMs: number;
}

export interface BroadcastMasterResult {
  readonly outputPath: string;
  readonly profile: BroadcastProfile;
  readonly probe: ProbeResult;
  readonly picture: MasterPicturePlan;
  /** The audio track and channel fix used (null: no audio). */
  readonly audio: AudioPlan | null;
  /** The plan the delivered master was made with (a correction shows as `limited`/`correction`). */
  readonly loudnessPlan: LoudnessPlan;
  readonly firstPassSource: LoudnessFirstPass['source'] | null;
  readonly verification: MasterVerification;
  /** As measured on the master; null/null for a silent master. */
  readonly loudness: { readonly integratedLufs: number | null; readonly truePeakDbtp: number | null };
  readonly elapsedMs: number;
  readonly passes: readonly BroadcastPass[];
  /** Number of encodes (1, or 2 after a loudness correction). */
  readonly encodes: number;
}

/** Wall-clock limit of an encode or a measurement pass: ≈ 4 × duration + 60 s. */
export function broadcastTimeoutMs(durationS: number): number {
  return Math.ceil((4 * durationS + 60) * 1000);
}

/** Off target by more than this after a limited encode → one corrected encode. */
const CORRECTION_THRESHOLD_LU = 0.5;

export async function makeBroadcastMaster(options: MakeBroadcastMasterOptions): Promise<BroadcastMasterResult> {
  const started = Date.now();
  const { runner, profile, signal } = options;
  const spec = BROADCAST_PROFILE_SPECS[profile];
  const sourcePath = path.resolve(options.sourcePath);
  const workDir = path.resolve(options.workDir);
  const outputPath = path.join(workDir, `master.${spec.extension}`);
  const partialPath = path.join(workDir, `master.partial.${spec.extension}`);
  const passes: BroadcastPass[] = [];
  const timed = async <T>(kind: BroadcastPass['kind'], attempt: number, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      passes.push({ kind, attempt, elapsedMs: Date.now() - t0 });
    }
  };
  const progress = (percent: number): void => options.onProgress?.(Math.max(0, Math.min(100, Math.round(percent))));

  // 1. probe the source (upload guard)
  const probeTimeoutMs = options.probeTimeoutMs ?? 30_000;
  let probe = await timed('probe', 1, () => probeSource(runner, sourcePath, probeTimeoutMs, signal));
  const durationS = probe.videoDurationS ?? probe.durationS;
  if (durationS === null || !(durationS > 0)) {
    throw new BroadcastMasterError('source_unreadable', BROADCAST_MESSAGES.sourceUnreadable, 'source duration unknown');
  }
  const timeoutMs = broadcastTimeoutMs(probe.durationS ?? durationS);
  // The same track and channel fix the ingest chose (same measurement, same rules: audio decode
  // only), so the ingest's loudness measurement stays a valid first pass.
  const audio: AudioPlan | null = await timed('audio_analysis', 1, () =>
    runOrFail(() =>
      analyseAudio(runner, probe, sourcePath, { timeoutMs, signal }).catch((error: unknown) => {
        if (error instanceof MediaRunError) return null; // as the ingest does: the first track, as it is
        throw error;
      }),
    ),
  );
  if (audio && audio.streamIndex !== probe.audioStreamIndex) probe = withAudioStream(probe, audio.streamIndex);

  // 2. first pass: the ingest's measurement, else loudnorm's own (audio only)
  let firstPass: LoudnessFirstPass | null = null;
  if (probe.hasAudio) {
    firstPass = firstPassFromIngest(options.ingestLoudness);
    if (firstPass === null) {
      const result = await timed('loudness_first_pass', 1, () =>
        runOrFail(() =>
          runner.run(buildLoudnessMeasureArgs(probe, sourcePath, undefined, audio), {
            timeoutMs,
            durationS,
            signal,
            onProgress: (p) => progress(p * 0.1),
            keepLine: isLoudnormJsonLine,
          }),
        ),
      );
      const json = parseLoudnormJson(result.keptLines);
      if (!json) throw new BroadcastMasterError('encode_failed', BROADCAST_MESSAGES.encodeFailed, 'loudnorm first pass printed no JSON');
      firstPass = firstPassFromLoudnorm(json);
    }
  }
  const headroom = { truePeakHeadroomDb: spec.truePeakHeadroomDb };
  let plan = planLoudness(firstPass, headroom);
  if (plan.mode === 'too_quiet') {
    throw new BroadcastMasterError(
      'too_quiet',
      plan.message,
      `gain ${String(plan.gainDb)} dB over the ${BROADCAST_LOUDNESS.gainCapDb} dB cap (measured ${String(plan.measuredI)} LUFS)`,
      plan,
    );
  }

  await mkdir(workDir, { recursive: true });
  await removeAll([outputPath, partialPath]);
  const picture = planMasterPicture(probe, { profile, pillarbox: options.pillarbox, caps: options.caps });
  const expectSilence = plan.mode === 'silence';

  try {
    let verification: MasterVerification | null = null;
    let encodes = 0;
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      // 3. the one encode
      encodes = attempt;
      const base = attempt === 1 ? 10 : 55;
      const span = attempt === 1 ? 80 : 40;
      const encodePlan = plan;
      const result = await timed('encode', attempt, () =>
        runOrFail(() =>
          runner.run(
            buildMasterArgs(probe, {
              inputPath: sourcePath,
              outputPath: partialPath,
              profile,
              pillarbox: options.pillarbox,
              loudness: encodePlan,
              caps: options.caps,
              audio,
            }),
            {
              timeoutMs,
              durationS,
              signal,
              onProgress: (p) => progress(base + (p * span) / 100),
              keepLine: isLoudnormJsonLine,
            },
          ),
        ),
      );
      if (encodePlan.mode === 'linear') {
        const json = parseLoudnormJson(result.keptLines);
        if (json?.normalizationType !== 'linear') {
          const found = json?.normalizationType ?? 'none';
          throw new BroadcastMasterError(
            'loudnorm_not_linear',
            `响度标准化没有按计划线性进行（实际为 ${found}），母版未生成，请联系技术人员`,
            `loudnorm normalization_type=${found}, planned linear (gain ${encodePlan.gainDb} dB, predicted TP ${encodePlan.predictedTruePeakDbtp} dBTP)`,
            encodePlan,
          );
        }
      }
      if (!(await nonEmpty(partialPath))) {
        throw new BroadcastMasterError('encode_failed', BROADCAST_MESSAGES.encodeFailed, 'master output missing or empty', plan);
      }

      // 4. independent verification of the file itself
      const raw = await timed('verify_probe', attempt, () => probeMaster(runner, partialPath, profile, probeTimeoutMs, signal));
      const measurement = await timed('verify_loudness', attempt, () => measureMaster(runner, partialPath, profile, timeoutMs, signal));
      verification = evaluateMaster(profile, raw, measurement, { expectSilence });

      const measuredI = verification.measured.integratedLufs;
      const offTarget = measuredI === null ? 0 : BROADCAST_LOUDNESS.targetI - measuredI;
      const wantsCorrection =
        attempt === 1 &&
        plan.mode !== 'silence' &&
        firstPass !== null &&
        measuredI !== null &&
        (verification.loudnessOnly || (verification.ok && plan.mode === 'limited' && Math.abs(offTarget) > CORRECTION_THRESHOLD_LU));
      if (!wantsCorrection || plan.mode === 'silence' || firstPass === null) break;
      const gainDb: number = Math.round((plan.gainDb + offTarget) * 100) / 100;
      if (gainDb > BROADCAST_LOUDNESS.gainCapDb) break;
      plan = {
        mode: 'limited',
        reason: 'correction',
        gainDb,
        ceilingDbtp: BROADCAST_LOUDNESS.targetTP - spec.truePeakHeadroomDb,
        predictedTruePeakDbtp: Math.round(((firstPass.measuredTP ?? -99) + gainDb) * 100) / 100,
        firstPass,
      };
      progress(55);
    }
    if (!verification) throw new Error('unreachable: no verification');
    if (!verification.ok) {
      throw new MasterVerificationError(`播出母版未通过检测：${verification.failures.join('；')}`, verification.measured, verification.failures, plan);
    }
    await rename(partialPath, outputPath);
    progress(100);
    return {
      outputPath,
      profile,
      probe,
      picture,
      audio,
      loudnessPlan: plan,
      firstPassSource: firstPass?.source ?? null,
      verification,
      loudness: { integratedLufs: verification.measured.integratedLufs, truePeakDbtp: verification.measured.truePeakDbtp },
      elapsedMs: Date.now() - started,
      passes,
      encodes,
    };
  } catch (error) {
    await removeAll([outputPath, partialPath]);
    throw error;
  }
}

async function probeSource(runner: MediaRunner, file: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
  try {
    const sniff = await sniffVideoFile(file);
    if (!sniff.ok) throw new BroadcastMasterError('source_unreadable', BROADCAST_MESSAGES.sourceUnreadable, `sniff: ${sniff.detail}`);
    const probe = normalizeProbe(await runner.probe(file, { timeoutMs, signal, demuxer: sniff.demuxer }), sniff.demuxer);
    return needsFrameScanCheck(probe) ? { ...probe, scan: await detectScanFromFrames(runner, probe, file, { timeoutMs, signal }) } : probe;
  } catch (error) {
    if (error instanceof MediaAbortedError) throw error;
    if (error instanceof MediaTimeoutError) throw new BroadcastMasterError('timeout', BROADCAST_MESSAGES.timeout, error.message, null, { cause: error });
    if (error instanceof MediaRunError || error instanceof ProbeUnreadableError) {
      throw new BroadcastMasterError('source_unreadable', BROADCAST_MESSAGES.sourceUnreadable, `ffprobe of source: ${error.message}`, null, { cause: error });
    }
    throw error;
  }
}

/** ffprobe of the finished master (its own one-format whitelist; see the header). */
async function probeMaster(
  runner: MediaRunner,
  file: string,
  profile: BroadcastProfile,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RawProbe> {
  const result = await runOrFail(() =>
    execMediaTool(runner.binaries.ffprobe, buildMasterProbeArgs(file, profile), { timeoutMs, signal, captureStdoutBytes: 4 * 1024 * 1024 }),
  );
  try {
    const parsed = JSON.parse(result.stdout) as Partial<RawProbe>;
    return { streams: Array.isArray(parsed.streams) ? parsed.streams : [], format: parsed.format ?? {} };
  } catch (error) {
    throw new BroadcastMasterError('encode_failed', BROADCAST_MESSAGES.encodeFailed, 'master ffprobe JSON unparseable', null, { cause: error });
  }
}

/** ebur128 over the master's audio; null when no summary was printed. */
async function measureMaster(
  runner: MediaRunner,
  file: string,
  profile: BroadcastProfile,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<LoudnessMeasurement | null> {
  const capture = createMeasurementCapture();
  const result = await runOrFail(() =>
    execMediaTool(runner.binaries.ffmpeg, buildMasterMeasureArgs(file, profile), { timeoutMs, signal, keepLine: (line) => capture.keepLine(line) }),
  );
  return parseEbur128Summary(result.keptLines);
}

async function runOrFail<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MediaTimeoutError) throw new BroadcastMasterError('timeout', BROADCAST_MESSAGES.timeout, error.message, null, { cause: error });
    if (error instanceof MediaRunError)
      throw new BroadcastMasterError('encode_failed', BROADCAST_MESSAGES.encodeFailed, `${error.message}\n${error.stderrTail}`, null, { cause: error });
    throw error; // MediaAbortedError: a cancelled job is not a verdict on the file
  }
}
