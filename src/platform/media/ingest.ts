/**
 * Ingest of one uploaded source: sniff (picks the one demuxer) → probe + packet scan (durations from
 * what plays) → field order from the frames when the header has none → limits → audio analysis
 * (audio decode only: track, channels, clipping; source-analysis.ts) → ONE ffmpeg run (preview
 * stopped at the duration limit + QC measurements + poster) → verify outputs
 * (a preview longer than the probes said is a source that lied: its decoded length counts) → QC report.
 * Knows nothing about entries, DB or storage: it reads `sourcePath` and writes `preview.mp4` /
 * `poster.jpg` into `workDir`.
 *
 * Outputs are written under `.partial` names and renamed only after the preview has been re-probed
 * and the poster found non-empty; on any failure both are removed, so a file at the final name is
 * always a verified one.
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { MediaCapabilities } from './binaries';
import { MediaAbortedError, MediaRejectedError, MediaRunError, MediaTimeoutError } from './errors';
import { buildIngestArgs, buildPosterFallbackArgs, planPreview, type PreviewPlan } from './ingest-args';
import {
  DEFAULT_MEDIA_LIMITS,
  PLAYED_DURATION_TOLERANCE_S,
  ProbeUnreadableError,
  checkLimits,
  needsFrameScanCheck,
  normalizeProbe,
  withAudioStream,
  withPlayedDurations,
  type MediaLimits,
  type ProbeResult,
} from './probe';
import { createMeasurementCapture, evaluateQc, parseMeasurements, type LoudnessMeasurement, type QcMeasurements, type QcReport } from './qc';
import type { MediaRunner } from './runner';
import { ACCEPTED_FORMATS_TEXT, CONTAINER_LABEL, sniffVideoFile, type Demuxer, type SniffedContainer } from './sniff';
import { analyseAudio, detectScanFromFrames, type AudioPlan } from './source-analysis';
import { nonEmpty, removeAll } from './files';

export const INGEST_MESSAGES = {
  unreadable: '视频文件无法读取，可能已损坏或上传不完整，请重新导出或重新上传',
  noVideo: `文件中没有可以播放的画面，请上传手机或相机拍摄的视频文件（${ACCEPTED_FORMATS_TEXT}）`,
  timeout: '视频处理超时，请稍后重试；如果多次失败，请重新导出视频后上传',
  transcodeFailed: '视频转码失败，请重新导出视频（MP4 格式）后上传',
} as const;

/** The container was recognised but its contents could not be read: name it, say how to convert. */
export function unreadableContainerMessage(label: string): string {
  return `${label} 文件无法读取，可能已损坏或拷贝不完整；请从相机重新拷贝，或用相机配套软件、格式工厂等转换为 MP4 后再上传`;
}

/** The source plays longer than the limit although its header says otherwise (found while transcoding). */
export function playsTooLongMessage(maxDurationS: number): string {
  return `视频实际播放时长超过限制（最长 ${Math.round(maxDurationS / 60)} 分钟），文件标注的时长与实际不符，请剪辑或重新导出后再上传`;
}

export interface IngestVideoOptions {
  readonly runner: MediaRunner;
  readonly caps: Pick<MediaCapabilities, 'hdrTonemap'>;
  /** The uploaded file (server-generated path). */
  readonly sourcePath: string;
  /** A directory for this job's outputs; created if missing. */
  readonly workDir: string;
  readonly limits?: Partial<MediaLimits>;
  onProgress?(percent: number): void;
  readonly signal?: AbortSignal;
  /** ffprobe wall-clock limit (default 30 s). */
  readonly probeTimeoutMs?: number;
}

export interface IngestResult {
  readonly probe: ProbeResult;
  readonly plan: PreviewPlan;
  readonly qc: QcReport;
  /** Integrated loudness / true peak / LRA of the stereo 48 kHz mix; null without audio. Reused by the broadcast job. */
  readonly loudness: LoudnessMeasurement | null;
  readonly measurements: QcMeasurements;
  /** The container as sniffed (the demuxer is probe.demuxer). */
  readonly container: SniffedContainer;
  /** The audio track and channel handling used (null without audio). */
  readonly audio: AudioPlan | null;
  readonly previewPath: string;
  readonly posterPath: string;
  readonly previewProbe: ProbeResult;
  /** How the poster was made: from the main run, or by the small fallback run. */
  readonly posterSource: 'main-run' | 'fallback-run';
  readonly elapsedMs: number;
}

/** Wall-clock limit of the main run: ≈ 3 × duration + 60 s. */
export function ingestTimeoutMs(durationS: number): number {
  return Math.ceil((3 * durationS + 60) * 1000);
}

export async function ingestVideo(options: IngestVideoOptions): Promise<IngestResult> {
  const started = Date.now();
  const { runner, caps } = options;
  const limits: MediaLimits = { ...DEFAULT_MEDIA_LIMITS, ...options.limits };
  const sourcePath = path.resolve(options.sourcePath);
  const workDir = path.resolve(options.workDir);

  // 1. magic bytes
  const sniff = await sniffVideoFile(sourcePath);
  if (!sniff.ok) throw new MediaRejectedError(sniff.code, sniff.message, `sniff: ${sniff.detail}`);

  const demuxer = sniff.demuxer;
  const probeTimeoutMs = options.probeTimeoutMs ?? 30_000;

  // 2. probe (with the input guard, the sniffed demuxer only); durations from the last packets, not the header alone
  let headerProbe = await probeOrReject(runner, sourcePath, demuxer, probeTimeoutMs, options.signal, 'source', CONTAINER_LABEL[sniff.container]);
  const ends = await packetEndsOrReject(runner, sourcePath, demuxer, probeTimeoutMs, options.signal);
  if (needsFrameScanCheck(headerProbe)) {
    // The header has no field order (DV keeps it per frame): read the first frames' flags.
    const scan = await runOrReject(() => detectScanFromFrames(runner, headerProbe, sourcePath, { timeoutMs: probeTimeoutMs, signal: options.signal }));
    headerProbe = { ...headerProbe, scan };
  }
  let probe = withPlayedDurations(headerProbe, ends);

  // 3. limits
  const violation = checkLimits(probe, limits);
  if (violation) throw new MediaRejectedError('exceeds_limits', violation.message, `limits: ${violation.detail}`);

  // 3b. the sound: which track, which channels, clipping (audio decode only)
  const analysisDurationS = probe.durationS ?? probe.audioDurationS ?? limits.maxDurationS;
  // An audio stream this pass cannot decode is not a verdict on the upload (the main run decides):
  // the first track is then used as it is. A timeout or an abort still ends the ingest.
  const audio = await runOrReject(() =>
    analyseAudio(runner, probe, sourcePath, { timeoutMs: ingestTimeoutMs(analysisDurationS), signal: options.signal, maxDurationS: limits.maxDurationS }).catch(
      (error: unknown) => {
        if (error instanceof MediaRunError) return null;
        throw error;
      },
    ),
  );
  if (audio && audio.streamIndex !== probe.audioStreamIndex) probe = withPlayedDurations(withAudioStream(headerProbe, audio.streamIndex), ends);

  // 4. the single run
  await mkdir(workDir, { recursive: true });
  const previewPath = path.join(workDir, 'preview.mp4');
  const posterPath = path.join(workDir, 'poster.jpg');
  const partialPreview = path.join(workDir, 'preview.partial.mp4');
  const partialPoster = path.join(workDir, 'poster.partial.jpg');
  const outputs = [previewPath, posterPath, partialPreview, partialPoster];
  await removeAll(outputs);

  try {
    const plan = planPreview(probe, caps);
    const durationS = probe.durationS ?? probe.videoDurationS ?? limits.maxDurationS;
    const timeoutMs = ingestTimeoutMs(durationS);
    const capture = createMeasurementCapture();
    const args = buildIngestArgs(probe, {
      inputPath: sourcePath,
      previewPath: partialPreview,
      posterPath: partialPoster,
      caps,
      maxDurationS: limits.maxDurationS,
      audio,
    });
    // The decoded timeline (what the preview's encoder was fed) is the last word on the duration:
    // timestamps that jump ahead (e.g. composition offsets) can still hide length from the probes.
    let outTimeS = 0;
    const tooLong = (seen: number) =>
      new MediaRejectedError(
        'exceeds_limits',
        playsTooLongMessage(limits.maxDurationS),
        `decoded timeline reached ${seen.toFixed(1)} s (probe said ${durationS.toFixed(1)} s, limit ${limits.maxDurationS} s)`,
      );
    const result = await runOrReject(() =>
      runner.run(args, {
        timeoutMs,
        durationS,
        onProgress: options.onProgress,
        onOutTime: (s) => {
          outTimeS = Math.max(outTimeS, s);
        },
        signal: options.signal,
        keepLine: (line) => capture.keepLine(line),
      }),
    ).catch((error: unknown) => {
      if (error instanceof MediaRejectedError && error.code === 'timeout' && outTimeS > durationS + PLAYED_DURATION_TOLERANCE_S) throw tooLong(outTimeS);
      throw error;
    });
    const measurements = parseMeasurements(result.keptLines, capture.errorLineCount);

    // 5. poster: from the main run, else one frame from a tiny second run
    let posterSource: IngestResult['posterSource'] = 'main-run';
    if (!(await nonEmpty(partialPoster))) {
      posterSource = 'fallback-run';
      const atS = Math.min(1, Math.max(0, (probe.videoDurationS ?? durationS) / 2));
      await runOrReject(() =>
        runner.run(buildPosterFallbackArgs(probe, { inputPath: sourcePath, posterPath: partialPoster, atS, caps }), {
          timeoutMs: 60_000,
          signal: options.signal,
        }),
      );
      if (!(await nonEmpty(partialPoster))) {
        throw new MediaRejectedError('transcode_failed', INGEST_MESSAGES.transcodeFailed, 'no poster frame could be extracted');
      }
    }

    // 6. the preview must be a real, readable video — never count an empty output as success
    if (!(await nonEmpty(partialPreview))) {
      throw new MediaRejectedError('transcode_failed', INGEST_MESSAGES.transcodeFailed, 'preview output is missing or empty');
    }
    const previewProbe = await probeOrReject(runner, partialPreview, 'mov', probeTimeoutMs, options.signal, 'preview').catch((error: unknown) => {
      if (error instanceof MediaRejectedError && error.code !== 'timeout') {
        throw new MediaRejectedError('transcode_failed', INGEST_MESSAGES.transcodeFailed, `preview unreadable: ${error.detail}`, { cause: error });
      }
      throw error;
    });
    if (previewProbe.videoCodec !== 'h264' || !((previewProbe.durationS ?? 0) > 0) || (probe.hasAudio && !previewProbe.hasAudio)) {
      throw new MediaRejectedError(
        'transcode_failed',
        INGEST_MESSAGES.transcodeFailed,
        `preview failed verification: codec=${previewProbe.videoCodec} duration=${String(previewProbe.durationS)} audio=${String(previewProbe.hasAudio)}`,
      );
    }

    const previewS = previewProbe.durationS ?? 0;
    if (previewS > durationS + PLAYED_DURATION_TOLERANCE_S) {
      // The source played longer than both probes said: its decoded length is the duration.
      if (previewS >= limits.maxDurationS - PLAYED_DURATION_TOLERANCE_S) throw tooLong(previewS);
      probe = { ...probe, durationS: previewS, videoDurationS: Math.max(probe.videoDurationS ?? 0, previewProbe.videoDurationS ?? previewS) };
    }

    await rename(partialPreview, previewPath);
    await rename(partialPoster, posterPath);

    const qc = evaluateQc(probe, measurements, { maxDurationS: limits.maxDurationS, tonemapSkipped: plan.tonemapSkipped, audio });
    return {
      probe,
      plan,
      qc,
      loudness: measurements.loudness,
      measurements,
      container: sniff.container,
      audio,
      previewPath,
      posterPath,
      previewProbe,
      posterSource,
      elapsedMs: Date.now() - started,
    };
  } catch (error) {
    await removeAll(outputs);
    throw error;
  }
}

async function probeOrReject(
  runner: MediaRunner,
  file: string,
  demuxer: Demuxer,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  what: string,
  label?: string,
): Promise<ProbeResult> {
  let raw;
  try {
    raw = await runner.probe(file, { timeoutMs, signal, demuxer });
  } catch (error) {
    if (error instanceof MediaTimeoutError)
      throw new MediaRejectedError('timeout', INGEST_MESSAGES.timeout, `ffprobe of ${what} timed out after ${timeoutMs} ms`, { cause: error });
    // ISO-BMFF keeps the old wording (phones: "re-export"); camera containers are named, with how to convert.
    const message = label && demuxer !== 'mov' ? unreadableContainerMessage(label) : INGEST_MESSAGES.unreadable;
    if (error instanceof MediaRunError)
      throw new MediaRejectedError('unreadable', message, `ffprobe of ${what} (${demuxer}) failed: ${error.message}`, { cause: error });
    throw error;
  }
  try {
    return normalizeProbe(raw, demuxer);
  } catch (error) {
    if (error instanceof ProbeUnreadableError)
      throw new MediaRejectedError('unreadable', INGEST_MESSAGES.noVideo, `${what}: ${error.message}`, { cause: error });
    throw error;
  }
}

async function packetEndsOrReject(
  runner: MediaRunner,
  file: string,
  demuxer: Demuxer,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Map<number, number>> {
  try {
    return await runner.packetEnds(file, { timeoutMs, signal, demuxer });
  } catch (error) {
    if (error instanceof MediaTimeoutError)
      throw new MediaRejectedError('timeout', INGEST_MESSAGES.timeout, `ffprobe packet scan timed out after ${timeoutMs} ms`, { cause: error });
    if (error instanceof MediaRunError)
      throw new MediaRejectedError('unreadable', INGEST_MESSAGES.unreadable, `ffprobe packet scan failed: ${error.message}`, { cause: error });
    throw error;
  }
}

async function runOrReject<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MediaTimeoutError) throw new MediaRejectedError('timeout', INGEST_MESSAGES.timeout, error.message, { cause: error });
    if (error instanceof MediaRunError)
      throw new MediaRejectedError('transcode_failed', INGEST_MESSAGES.transcodeFailed, `${error.message}\n${error.stderrTail}`, { cause: error });
    if (error instanceof MediaAbortedError) throw error; // a cancelled job is not a verdict on the file
    throw error;
  }
}
