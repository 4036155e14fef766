/**
 * QC of a source (MEDIA.md "QC checks"), pure: measurement lines from the ingest run's stderr →
 * measurements → checks with a Chinese message a teacher understands.
 *
 * The ingest run logs with `-loglevel level+info`. The lines that matter:
 *   [Parsed_ebur128_12 @ 0x…] [info] Summary:          (followed by un-prefixed "    I: … LUFS",
 *       "    LRA: … LU", "    Peak: … dBFS" lines; ffmpeg configures a filter_complex graph twice,
 *       so the first summary is an empty one at −70 LUFS: the LAST summary is the measurement)
 *   [silencedetect @ 0x…] [info] silence_start: 0
 *   [silencedetect @ 0x…] [info] silence_end: 3.008 | silence_duration: 3.008
 *   [blackdetect @ 0x…] [info] black_start:0 black_end:2.96667 black_duration:2.96667
 *   [h264 @ 0x…] [error] …                             (decoder errors; any [error]/[fatal] line)
 */
import type { ProbeResult } from './probe';
import type { AudioPlan } from './source-analysis';

export interface LoudnessMeasurement {
  integratedLufs: number;
  /** null when the signal has no peak at all (−inf). */
  truePeakDbtp: number | null;
  lra: number;
}

export interface Interval {
  startS: number;
  /** null when the interval ran to the end and the filter never printed an end. */
  endS: number | null;
  durationS: number | null;
}

export interface DecodeErrors {
  count: number;
  samples: string[];
}

export interface QcMeasurements {
  loudness: LoudnessMeasurement | null;
  silence: Interval[];
  black: Interval[];
  decodeErrors: DecodeErrors;
}

export type QcStatus = 'pass' | 'warn' | 'fail';

export interface QcCheck {
  name:
    | 'decode'
    | 'duration'
    | 'resolution'
    | 'frame_rate'
    | 'rotation'
    | 'hdr'
    | 'audio'
    | 'loudness'
    | 'silence'
    | 'black'
    // Listed only when they apply (camcorder footage): interlace, non-square pixels, several audio
    // tracks, one-sided / phase-cancelling stereo, clipped passages.
    | 'scan'
    | 'aspect'
    | 'audio_track'
    | 'channels'
    | 'clipping';
  status: QcStatus;
  value: string;
  message: string;
}

export interface QcReport {
  verdict: QcStatus;
  checks: QcCheck[];
}

export interface MeasurementCapture {
  /** For RunOptions.keepLine: keeps the measurement lines, at most `maxErrorSamples` error lines. */
  keepLine(line: string): boolean;
  /** All [error]/[fatal] lines seen, kept or not. */
  readonly errorLineCount: number;
}

const ERROR_LINE = /\[(error|fatal)\]/;
const MEASUREMENT_LINE = /Summary:\s*$|^\s+(I|LRA|Peak):\s|silence_(start|end):|black_start:/;

/** A stateful keepLine predicate that keeps what the parsers need and counts error lines. */
export function createMeasurementCapture(maxErrorSamples = 20): MeasurementCapture {
  let errors = 0;
  return {
    keepLine(line) {
      if (ERROR_LINE.test(line)) {
        errors += 1;
        return errors <= maxErrorSamples;
      }
      return MEASUREMENT_LINE.test(line);
    },
    get errorLineCount() {
      return errors;
    },
  };
}

const toLines = (input: string | readonly string[]): readonly string[] => (typeof input === 'string' ? input.split(/\r?\n/) : input);
const dbValue = (text: string): number | null => (/^-?inf$/i.test(text) ? null : Number(text));

/** The last ebur128 summary in the log, or null if there is none. */
export function parseEbur128Summary(input: string | readonly string[]): LoudnessMeasurement | null {
  const lines = toLines(input);
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (/ebur128.*Summary:\s*$/.test(lines[i] as string) || /^\s*Summary:\s*$/.test(lines[i] as string)) {
      start = i;
      break;
    }
  }
  if (start < 0) return null;
  let integrated: number | null = null;
  let lra: number | null = null;
  let peak: number | null | undefined;
  for (const line of lines.slice(start + 1, start + 20)) {
    const i = /^\s+I:\s+(-?[\d.]+|-?inf)\s+LUFS/i.exec(line);
    if (i?.[1] && integrated === null) integrated = dbValue(i[1]);
    const r = /^\s+LRA:\s+(-?[\d.]+)\s+LU\b/.exec(line);
    if (r?.[1] && lra === null) lra = Number(r[1]);
    const p = /^\s+Peak:\s+(-?[\d.]+|-?inf)\s+dB/i.exec(line);
    if (p?.[1] && peak === undefined) peak = dbValue(p[1]);
  }
  if (integrated === null || lra === null) return null;
  return { integratedLufs: integrated, lra, truePeakDbtp: peak ?? null };
}

/** silencedetect intervals (an unterminated last one has endS null). */
export function parseSilence(input: string | readonly string[]): Interval[] {
  const intervals: Interval[] = [];
  let open: number | null = null;
  for (const line of toLines(input)) {
    const s = /silence_start:\s*(-?[\d.]+(?:e-?\d+)?)/.exec(line);
    if (s?.[1]) {
      open = Math.max(0, Number(s[1]));
      continue;
    }
    const e = /silence_end:\s*(-?[\d.]+)\s*\|\s*silence_duration:\s*(-?[\d.]+)/.exec(line);
    if (e?.[1] && e[2]) {
      const end = Number(e[1]);
      intervals.push({ startS: open ?? Math.max(0, end - Number(e[2])), endS: end, durationS: Number(e[2]) });
      open = null;
    }
  }
  if (open !== null) intervals.push({ startS: open, endS: null, durationS: null });
  return intervals;
}

/** blackdetect intervals. */
export function parseBlack(input: string | readonly string[]): Interval[] {
  const intervals: Interval[] = [];
  for (const line of toLines(input)) {
    const m = /black_start:\s*(-?[\d.]+)\s+black_end:\s*(-?[\d.]+)\s+black_duration:\s*(-?[\d.]+)/.exec(line);
    if (m?.[1] && m[2] && m[3]) intervals.push({ startS: Math.max(0, Number(m[1])), endS: Number(m[2]), durationS: Number(m[3]) });
  }
  return intervals;
}

/** Decoder/demuxer error lines ([error]/[fatal]); `totalCount` when more were seen than kept. */
export function parseDecodeErrors(input: string | readonly string[], totalCount?: number): DecodeErrors {
  const samples = toLines(input).filter((line) => ERROR_LINE.test(line));
  return { count: Math.max(totalCount ?? 0, samples.length), samples: samples.slice(0, 5).map((s) => s.slice(0, 200)) };
}

export function parseMeasurements(lines: string | readonly string[], errorLineCount?: number): QcMeasurements {
  return {
    loudness: parseEbur128Summary(lines),
    silence: parseSilence(lines),
    black: parseBlack(lines),
    decodeErrors: parseDecodeErrors(lines, errorLineCount),
  };
}

export interface QcOptions {
  maxDurationS: number;
  /** The source is HDR and this ffmpeg could not tone-map it. */
  tonemapSkipped?: boolean;
  /** Track/channel decisions and clipping from the audio analysis (source-analysis.ts). */
  audio?: AudioPlan | null;
}

export const QC_THRESHOLDS = {
  avMismatchS: 0.04,
  minShortSideWarn: 480,
  minShortSideFail: 240,
  quietLufs: -40,
  /** ebur128 gates at −70 LUFS: at or below it there is no signal. */
  silentLufs: -69.5,
  truePeakDbtp: -0.1,
  longSilenceS: 3,
  longBlackS: 2,
  /** Share of the video covered by black (or audio by silence) that counts as "all of it". */
  wholeShare: 0.95,
} as const;

const seconds = (value: number): string => `${Math.round(value * 10) / 10} 秒`;
const sum = (intervals: Interval[], total: number): number => intervals.reduce((acc, i) => acc + (i.durationS ?? Math.max(0, total - i.startS)), 0);

const channelName = (fix: AudioPlan['fix']): string => (fix === 'right-to-both' ? '右' : '左');

/** Checks from the audio analysis: which track, one-sided/phase-cancelling stereo, clipping. */
function audioPlanChecks(plan: AudioPlan | null | undefined): QcCheck[] {
  if (!plan) return [];
  const checks: QcCheck[] = [];
  if (plan.trackCount > 1) {
    const skipped = plan.skippedSilentTracks > 0 ? `（前 ${plan.skippedSilentTracks} 条没有声音）` : '';
    checks.push({
      name: 'audio_track',
      status: 'pass',
      value: `track ${plan.trackNumber} of ${plan.trackCount} (stream ${plan.streamIndex})`,
      message: `视频有 ${plan.trackCount} 条音轨，使用第 ${plan.trackNumber} 条${skipped}`,
    });
  }
  const levels = plan.stats ? plan.stats.channels.map((c) => (c.rmsDb === null ? '-inf' : c.rmsDb.toFixed(1))).join(' / ') : '';
  if (plan.issue === 'one_sided') {
    const live = channelName(plan.fix);
    const dead = live === '左' ? '右' : '左';
    checks.push({
      name: 'channels',
      status: 'warn',
      value: `one-sided; RMS L/R ${levels} dBFS`,
      message: `只有${live}声道有声音（${dead}声道没有声音），预览和播出母版已让两个声道都播放${live}声道的声音；下次录制请检查麦克风接线`,
    });
  } else if (plan.issue === 'phase_cancel') {
    const sum = plan.stats?.monoSumRmsDb;
    checks.push({
      name: 'channels',
      status: 'warn',
      value: `phase cancel; RMS L/R ${levels} dBFS, (L+R)/2 ${sum === null || sum === undefined ? '-inf' : sum.toFixed(1)} dBFS`,
      message: `左右声道相位相反，合成单声道时声音会互相抵消，预览和播出母版已只用${channelName(plan.fix)}声道的声音；下次录制请检查麦克风接线`,
    });
  }
  if (plan.clipped) {
    checks.push({
      name: 'clipping',
      status: 'warn',
      value: `${plan.clipped.seconds} s at full scale (channel ${plan.clipped.channel})`,
      message: `有约 ${Math.max(0.1, Math.round(plan.clipped.seconds * 10) / 10)} 秒的声音削波（录音音量过大，声音失真），建议录制时调低录音电平`,
    });
  }
  return checks;
}

/** The QC report for a probed source and the measurements from its ingest run. */
export function evaluateQc(probe: ProbeResult, m: QcMeasurements, options: QcOptions): QcReport {
  const t = QC_THRESHOLDS;
  const checks: QcCheck[] = [];
  const duration = probe.durationS ?? probe.videoDurationS ?? 0;

  // decode
  if (m.decodeErrors.count > 0) {
    checks.push({
      name: 'decode',
      status: 'warn',
      value: `${m.decodeErrors.count} errors`,
      message: `视频文件有部分损坏（解码出错 ${m.decodeErrors.count} 处），可能出现花屏或卡顿，建议重新导出后上传`,
    });
  } else {
    checks.push({ name: 'decode', status: 'pass', value: '0 errors', message: '视频可以正常播放' });
  }

  // duration, incl. audio/video mismatch
  const mismatch = probe.hasAudio && probe.videoDurationS !== null && probe.audioDurationS !== null ? Math.abs(probe.videoDurationS - probe.audioDurationS) : 0;
  if (duration > options.maxDurationS) {
    checks.push({
      name: 'duration',
      status: 'fail',
      value: `${duration.toFixed(2)} s`,
      message: `视频时长（${seconds(duration)}）超过活动规定的 ${seconds(options.maxDurationS)}，请剪辑后重新上传`,
    });
  } else if (mismatch > t.avMismatchS) {
    checks.push({
      name: 'duration',
      status: 'warn',
      value: `${duration.toFixed(2)} s; audio/video differ ${mismatch.toFixed(3)} s`,
      message: `声音和画面长度不一致（相差 ${mismatch.toFixed(2)} 秒），可能出现音画不同步`,
    });
  } else {
    checks.push({ name: 'duration', status: 'pass', value: `${duration.toFixed(2)} s`, message: `视频时长 ${seconds(duration)}` });
  }

  // resolution (as displayed)
  const shortSide = Math.min(probe.displayWidth, probe.displayHeight);
  const size = `${probe.displayWidth}×${probe.displayHeight}`;
  if (shortSide < t.minShortSideFail) {
    checks.push({ name: 'resolution', status: 'fail', value: size, message: `视频分辨率太低（${size}），请用手机 720p 或以上画质重新录制` });
  } else if (shortSide < t.minShortSideWarn) {
    checks.push({ name: 'resolution', status: 'warn', value: size, message: `视频分辨率较低（${size}），评委观看时可能不够清晰，建议用 720p 或以上画质录制` });
  } else {
    checks.push({ name: 'resolution', status: 'pass', value: size, message: `分辨率 ${size}` });
  }

  // frame rate
  const fps = `${Math.round(probe.fps * 100) / 100} fps`;
  checks.push(
    probe.variableFrameRate
      ? { name: 'frame_rate', status: 'pass', value: `${fps} (variable)`, message: '视频为可变帧率，预览已转为恒定帧率' }
      : { name: 'frame_rate', status: 'pass', value: fps, message: `帧率 ${fps.replace(' fps', '')} 帧/秒` },
  );

  // rotation (informational)
  checks.push({
    name: 'rotation',
    status: 'pass',
    value: `${probe.rotation}°`,
    message: probe.rotation ? '视频带有旋转标记，预览已按正确方向显示' : '画面方向正常',
  });

  // interlace (informational: the preview is deinterlaced, the master keeps the fields)
  if (probe.scan.interlaced) {
    const rate = Math.round(probe.fps * 2 * 100) / 100;
    const order = probe.scan.order === 'bff' ? '下场优先' : '上场优先';
    checks.push({
      name: 'scan',
      status: 'pass',
      value: `interlaced ${probe.scan.order ?? '?'} (${probe.scan.source}), ${rate} fields/s`,
      message: `隔行扫描视频（${rate}i，${order}），预览已去隔行，播出母版保留隔行`,
    });
  }

  // non-square pixels (informational: shown at the true shape)
  if (Math.abs(probe.sampleAspectRatio - 1) > 0.01) {
    checks.push({
      name: 'aspect',
      status: 'pass',
      value: `${probe.width}×${probe.height} SAR ${Math.round(probe.sampleAspectRatio * 1000) / 1000} → ${probe.displayWidth}×${probe.displayHeight}`,
      message: `画面按实际比例显示（${probe.displayWidth}×${probe.displayHeight}）`,
    });
  }

  if (probe.isHdr) {
    checks.push(
      options.tonemapSkipped
        ? { name: 'hdr', status: 'warn', value: probe.colorTransfer ?? 'hdr', message: 'HDR 视频，预览颜色可能偏淡，原视频不受影响' }
        : { name: 'hdr', status: 'pass', value: probe.colorTransfer ?? 'hdr', message: 'HDR 视频，预览已转换为普通色彩' },
    );
  }

  // audio present, loudness, silence
  if (!probe.hasAudio) {
    // Panasonic P2 / OP-Atom MXF keeps each audio channel in a file of its own next to the video's.
    const message =
      probe.demuxer === 'mxf'
        ? '视频没有声音：部分专业摄像机（如 P2）把声音存在单独的 MXF 文件里，请用摄像机配套软件导出为带声音的 MP4 后上传'
        : '视频没有声音，演唱作品需要有声音，请检查录制设置';
    checks.push({ name: 'audio', status: 'warn', value: 'none', message });
  } else {
    checks.push({
      name: 'audio',
      status: 'pass',
      value: `${probe.audioCodec ?? '?'} ${probe.audioChannels ?? '?'}ch ${probe.audioSampleRate ?? '?'} Hz`,
      message: '有声音',
    });
    checks.push(...audioPlanChecks(options.audio));
    const audioDuration = probe.audioDurationS ?? duration;
    const silentTotal = sum(m.silence, audioDuration);
    const loud = m.loudness;
    const wholeSilent = (loud !== null && loud.integratedLufs <= t.silentLufs) || (audioDuration > 0 && silentTotal >= audioDuration * t.wholeShare);

    if (!loud) {
      checks.push({ name: 'loudness', status: 'warn', value: 'not measured', message: '无法测量音量' });
    } else {
      const value = `${loud.integratedLufs} LUFS, true peak ${loud.truePeakDbtp === null ? '-inf' : loud.truePeakDbtp} dBTP, LRA ${loud.lra} LU`;
      if (wholeSilent) {
        checks.push({ name: 'loudness', status: 'warn', value, message: '测不到声音' });
      } else if (loud.integratedLufs < t.quietLufs) {
        checks.push({ name: 'loudness', status: 'warn', value, message: '音量过低，建议重新录制（录音时让手机靠近演唱者）' });
      } else if (loud.truePeakDbtp !== null && loud.truePeakDbtp > t.truePeakDbtp) {
        // MEDIA.md also asks for "many clipped samples"; ebur128 does not count them, so the
        // warning is worded as "check it" rather than "it is distorted".
        checks.push({ name: 'loudness', status: 'warn', value, message: '声音峰值过高，可能有爆音失真，请试听检查' });
      } else {
        checks.push({ name: 'loudness', status: 'pass', value, message: '音量正常' });
      }
    }

    if (wholeSilent) {
      checks.push({
        name: 'silence',
        status: 'fail',
        value: `${silentTotal.toFixed(1)} s silent`,
        message: '整段视频都没有声音（静音），请检查录音后重新上传',
      });
    } else {
      const longest = m.silence.reduce((acc, i) => Math.max(acc, i.durationS ?? Math.max(0, audioDuration - i.startS)), 0);
      checks.push(
        longest >= t.longSilenceS
          ? { name: 'silence', status: 'warn', value: `${longest.toFixed(1)} s`, message: `视频中有 ${seconds(longest)} 没有声音` }
          : { name: 'silence', status: 'pass', value: '0 s', message: '没有长时间静音' },
      );
    }
  }

  // black
  const videoDuration = probe.videoDurationS ?? duration;
  const blackTotal = sum(m.black, videoDuration);
  const longestBlack = m.black.reduce((acc, i) => Math.max(acc, i.durationS ?? 0), 0);
  if (videoDuration > 0 && blackTotal >= videoDuration * t.wholeShare) {
    checks.push({ name: 'black', status: 'fail', value: `${blackTotal.toFixed(1)} s black`, message: '画面全黑，请检查镜头后重新录制' });
  } else if (longestBlack > t.longBlackS) {
    checks.push({ name: 'black', status: 'warn', value: `${longestBlack.toFixed(1)} s`, message: `视频中有 ${seconds(longestBlack)} 画面全黑` });
  } else {
    checks.push({ name: 'black', status: 'pass', value: `${blackTotal.toFixed(1)} s`, message: '画面正常' });
  }

  const verdict: QcStatus = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
  return { verdict, checks };
}
