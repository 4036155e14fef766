/**
 * Loudness of the broadcast master (pure): the first-pass measurement, the decision how to reach
 * the target, and loudnorm's JSON.
 *
 * Target (GY/T 282-2014, MEDIA.md "Broadcast master"): integrated −24 LUFS (we aim ±1 LU),
 * true peak ≤ −2 dBTP. Normalisation is LINEAR: one constant gain for the whole programme.
 *
 * Decisions (see planLoudness):
 * - `linear`: the constant gain keeps the predicted true peak (measured TP + gain) at or below the
 *   target minus the profile's headroom, and LRA ≤ 20: loudnorm's second pass with `linear=true`.
 *   In ffmpeg 5.1 that mode is a pure multiplication by 10^(gain/20) (af_loudnorm.c `init()`),
 *   and the encode's own loudnorm JSON must then say `"normalization_type" : "linear"`.
 * - `limited`: the gain would push the true peak over the target (peaky sources: claps, clicks,
 *   a hand on the phone), or LRA > 20. loudnorm would silently switch to its dynamic mode here
 *   (`measured_TP + (I − measured_I) > TP` or `measured_LRA > LRA`), which is a moving gain.
 *   We apply the same constant gain with `volume=` and catch the peaks with `alimiter` running at
 *   192 kHz (4× oversampled, so it limits inter-sample peaks as a true-peak meter sees them) with
 *   its ceiling at target − headroom (−2.5 dBTP for PCM). Measured on a −33.6 LUFS tone with
 *   −5.4 dBTP clicks, +10.5 dB: at 192 kHz the result was −2.5 dBTP; the same limiter at 48 kHz let
 *   −0.4 dBTP through. The limiter takes some energy away, so the master can come out a little
 *   under target: the orchestration measures the master and, once, re-encodes with the gain
 *   corrected by the shortfall.
 * - `too_quiet`: the gain would exceed the cap (≈ +20 dB): boosting phone hiss by 30 dB is not a
 *   broadcast master — a person decides (message in Chinese).
 * - `silence`: no audio stream; the master gets a silent stereo track and no loudness check.
 *
 * Headroom: the first pass and the final check measure true peak slightly differently (loudnorm
 * takes the sample peak at 192 kHz, ebur128 interpolates 4×), and AAC can add ~0.5 dB of peak; so
 * the plan keeps 0.5 dB (PCM) or 1 dB (AAC) below −2 dBTP.
 */
import type { LoudnessMeasurement } from './qc';

export interface LoudnessTargets {
  /** Integrated loudness target, LUFS. */
  readonly targetI: number;
  /** Maximum true peak, dBTP. */
  readonly targetTP: number;
  /** loudnorm's LRA target; a source above it cannot be normalised linearly by loudnorm. */
  readonly maxLRA: number;
  /** Largest boost applied; beyond it the source is flagged for a person. */
  readonly gainCapDb: number;
  /** Tolerance of the final check on integrated loudness, LU. */
  readonly toleranceLu: number;
}

export const BROADCAST_LOUDNESS: Readonly<LoudnessTargets> = Object.freeze({
  targetI: -24,
  targetTP: -2,
  maxLRA: 20,
  gainCapDb: 20,
  toleranceLu: 1,
});

/** A first-pass measurement in loudnorm's terms (the second pass's `measured_*` and `offset`). */
export interface LoudnessFirstPass {
  /** Integrated loudness, LUFS; null for digital silence (−inf, or at/below the −70 LUFS gate). */
  readonly measuredI: number | null;
  /** True peak, dBTP; null for −inf. */
  readonly measuredTP: number | null;
  readonly measuredLRA: number;
  /** Relative gate of the integrated measurement (loudnorm's input_thresh), LUFS. */
  readonly measuredThresh: number;
  /** loudnorm's target_offset (unused by its linear mode, which computes its own gain). */
  readonly offset: number;
  /** Where the numbers come from. */
  readonly source: 'loudnorm' | 'ingest-ebur128';
}

/** The `measured_*` values as loudnorm accepts them (clamped to its option ranges). */
export interface LoudnormMeasuredParams {
  readonly measuredI: number;
  readonly measuredTP: number;
  readonly measuredLRA: number;
  readonly measuredThresh: number;
  readonly offset: number;
}

export type LoudnessPlan =
  | {
      readonly mode: 'linear';
      readonly gainDb: number;
      readonly predictedTruePeakDbtp: number;
      readonly loudnorm: LoudnormMeasuredParams;
      readonly firstPass: LoudnessFirstPass;
    }
  | {
      readonly mode: 'limited';
      readonly gainDb: number;
      readonly predictedTruePeakDbtp: number;
      /** Limiter ceiling, dBTP (target − headroom). */
      readonly ceilingDbtp: number;
      readonly reason: 'true_peak' | 'loudness_range' | 'correction';
      readonly firstPass: LoudnessFirstPass;
    }
  | { readonly mode: 'silence' }
  | {
      readonly mode: 'too_quiet';
      /** The boost it would take; null when the track is digitally silent. */
      readonly gainDb: number | null;
      readonly measuredI: number | null;
      /** Chinese, for the person who decides what to do with the entry. */
      readonly message: string;
      readonly firstPass: LoudnessFirstPass;
    };

export interface PlanLoudnessOptions extends Partial<LoudnessTargets> {
  /** dB kept below targetTP when predicting the peak (0.5 for PCM, 1 for AAC). */
  readonly truePeakHeadroomDb?: number;
}

/** ebur128 gates blocks at −70 LUFS: at or below it there is no programme to normalise. */
const SILENT_LUFS = -69.5;

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** A number for people: one decimal at most, U+2212 minus. */
export function formatDb(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  const text = Number.isInteger(rounded) ? String(Math.abs(rounded)) : Math.abs(rounded).toFixed(1);
  return rounded < 0 ? `−${text}` : text;
}

/** How to bring the first-pass measurement to the target. null → the source has no audio. */
export function planLoudness(firstPass: LoudnessFirstPass | null, options: PlanLoudnessOptions = {}): LoudnessPlan {
  if (firstPass === null) return { mode: 'silence' };
  const t: LoudnessTargets = { ...BROADCAST_LOUDNESS, ...definedOnly(options) };
  const headroom = options.truePeakHeadroomDb ?? 0.5;
  const ceiling = t.targetTP - headroom;
  const measuredI = firstPass.measuredI;

  if (measuredI === null || measuredI <= SILENT_LUFS) {
    return {
      mode: 'too_quiet',
      gainDb: null,
      measuredI: null,
      message: '源视频的音轨是静音（测不到声音），无法调整到播出响度，请人工处理或要求学校重新录制',
      firstPass,
    };
  }
  const gainDb = round2(t.targetI - measuredI);
  if (gainDb > t.gainCapDb) {
    return {
      mode: 'too_quiet',
      gainDb,
      measuredI,
      message: `源视频音量过低（${formatDb(measuredI)} LUFS），需要提升 ${formatDb(gainDb)} dB，超过上限 ${formatDb(t.gainCapDb)} dB，请人工处理或要求学校重新录制`,
      firstPass,
    };
  }
  // −inf true peak with a measurable loudness cannot happen; treat it as "no peak" all the same.
  const predictedTruePeakDbtp = round2((firstPass.measuredTP ?? -99) + gainDb);
  const peakOk = predictedTruePeakDbtp <= ceiling;
  const lraOk = firstPass.measuredLRA <= t.maxLRA;
  if (peakOk && lraOk) {
    return { mode: 'linear', gainDb, predictedTruePeakDbtp, loudnorm: loudnormParams(firstPass), firstPass };
  }
  return { mode: 'limited', gainDb, predictedTruePeakDbtp, ceilingDbtp: ceiling, reason: peakOk ? 'loudness_range' : 'true_peak', firstPass };
}

/**
 * The `measured_*` values for loudnorm's second pass, clamped to its option ranges.
 * loudnorm treats each option's DEFAULT as "not measured" and then refuses linear mode
 * (af_loudnorm.c 5.1 `init()`: `measured_tp != 99 && measured_thresh != -70 && measured_lra != 0
 * && measured_i != 0`). A steady tone genuinely measures LRA 0.00, so 0 is sent as 0.01; a
 * threshold of exactly −70 is sent as −70.01. In linear mode these values are only that presence
 * check — the gain is target_I − measured_I — so the nudges change nothing else.
 */
export function loudnormParams(firstPass: LoudnessFirstPass): LoudnormMeasuredParams {
  const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));
  const measuredI = clamp(firstPass.measuredI ?? -99, -99, -0.01);
  const measuredTP = clamp(firstPass.measuredTP ?? -99, -99, 98.99);
  const measuredLRA = clamp(Math.max(firstPass.measuredLRA, 0.01), 0.01, 99);
  let measuredThresh = clamp(firstPass.measuredThresh, -99, 0);
  if (measuredThresh === -70) measuredThresh = -70.01;
  const offset = clamp(firstPass.offset, -99, 99);
  return {
    measuredI: round2(measuredI),
    measuredTP: round2(measuredTP),
    measuredLRA: round2(measuredLRA),
    measuredThresh: round2(measuredThresh),
    offset: round2(offset),
  };
}

/**
 * The ingest's `ebur128=peak=true` measurement (same stereo 48 kHz mix the master carries) as a
 * first pass, or null when it is unusable (then the master runs loudnorm's own first pass).
 *
 * loudnorm wants `measured_thresh`, which the ingest does not keep. ebur128's relative gate is
 * 10 LU below the loudness of the blocks above the absolute gate, which is ≤ I, so the true value
 * is ≤ I − 10; we send I − 10. This is safe because loudnorm's LINEAR mode — the only mode we ask
 * it for (planLoudness sends everything else to `volume=` + limiter) — uses measured_thresh only
 * as a "was it measured" flag; the dynamic mode (never planned) would use it as a gate.
 */
export function firstPassFromIngest(m: LoudnessMeasurement | null | undefined): LoudnessFirstPass | null {
  if (!m) return null;
  if (!Number.isFinite(m.integratedLufs) || !Number.isFinite(m.lra) || m.lra < 0) return null;
  const silent = m.integratedLufs <= SILENT_LUFS;
  if (!silent && (m.truePeakDbtp === null || !Number.isFinite(m.truePeakDbtp))) return null;
  return {
    measuredI: silent ? null : m.integratedLufs,
    measuredTP: silent ? null : m.truePeakDbtp,
    measuredLRA: m.lra,
    measuredThresh: silent ? -70 : m.integratedLufs - 10,
    offset: 0,
    source: 'ingest-ebur128',
  };
}

/** loudnorm's `print_format=json` block; numbers null where it printed ±inf/nan. */
export interface LoudnormJson {
  readonly inputI: number | null;
  readonly inputTP: number | null;
  readonly inputLRA: number | null;
  readonly inputThresh: number | null;
  readonly outputI: number | null;
  readonly outputTP: number | null;
  readonly outputLRA: number | null;
  readonly outputThresh: number | null;
  readonly normalizationType: string;
  readonly targetOffset: number | null;
}

/**
 * The LAST loudnorm JSON block in stderr lines (ffmpeg configures a filter_complex graph twice in
 * 5.1, and the first, unused graph may print a block of −inf). null when there is none.
 */
export function parseLoudnormJson(input: string | readonly string[]): LoudnormJson | null {
  const lines = typeof input === 'string' ? input.split(/\r?\n/) : input;
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if ((lines[i] as string).trim() === '{') {
      start = i;
      break;
    }
  }
  if (start < 0) return null;
  const body: string[] = [];
  for (let i = start; i < lines.length; i += 1) {
    const line = lines[i] as string;
    body.push(line);
    if (line.trim() === '}') break;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.join('\n'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const record = parsed as Record<string, unknown>;
  const num = (key: string): number | null => {
    const value = record[key];
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  if (typeof record.normalization_type !== 'string' || !('input_i' in record)) return null;
  return {
    inputI: num('input_i'),
    inputTP: num('input_tp'),
    inputLRA: num('input_lra'),
    inputThresh: num('input_thresh'),
    outputI: num('output_i'),
    outputTP: num('output_tp'),
    outputLRA: num('output_lra'),
    outputThresh: num('output_thresh'),
    normalizationType: record.normalization_type,
    targetOffset: num('target_offset'),
  };
}

/** keepLine predicate for runs whose loudnorm prints JSON (keeps the block's lines only). */
export function isLoudnormJsonLine(line: string): boolean {
  const t = line.trim();
  return t === '{' || t === '}' || /^"[a-z_]+"\s*:\s*"[^"]*",?$/.test(t);
}

/** loudnorm's first-pass JSON as a first pass; null when it measured no audio at all. */
export function firstPassFromLoudnorm(json: LoudnormJson): LoudnessFirstPass {
  const silent = json.inputI === null || json.inputI <= SILENT_LUFS;
  return {
    measuredI: silent ? null : json.inputI,
    measuredTP: silent ? null : json.inputTP,
    measuredLRA: json.inputLRA ?? 0,
    measuredThresh: json.inputThresh ?? -70,
    offset: json.targetOffset ?? 0,
    source: 'loudnorm',
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
