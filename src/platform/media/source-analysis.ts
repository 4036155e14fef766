/**
 * What the probe cannot say, measured cheaply before the single ingest run (and again, identically,
 * before a broadcast master), because the preview's filter graph depends on it:
 *
 * 1. Field order when the header says "unknown" (DV keeps it in every frame's VAUX pack): ffprobe
 *    decodes the first 6 frames and reads `interlaced_frame` / `top_field_first`. Only for codecs
 *    that can be interlaced (probe.ts `needsFrameScanCheck`); ≈ 0.06 s. The `idet` filter was
 *    tried for this and rejected: on a DV file made from PROGRESSIVE frames it counted 38 TFF /
 *    12 progressive of 50 (DV's field-based DCT and 4:2:0 chroma look like combing to it), so it
 *    would invent interlace; the stream's own flags do not.
 *
 * 2. Sound as recorded in school halls: one ffmpeg run that decodes ONLY the audio (`-vn`: video
 *    packets are not even demuxed into a decoder), every audio track (up to 4) through `astats`:
 *      - per channel: RMS level (one-sided: a microphone on the left input only),
 *      - the mono sum (L+R)/2: RMS far below the channels' → the channels cancel (one microphone
 *        wired with inverted polarity); a preview downmix or a mono TV set would lose the voice,
 *      - near-full-scale runs: the signal is raised 0.2 dB and converted to s16, so every sample
 *        within 0.2 dB of full scale becomes exactly full scale; astats then counts those samples
 *        (`Peak count`) and their run length (`Flat factor` = 20·log10 of the mean run). Works for
 *        PCM and for lossy codecs (AC-3/AAC decode a clipped wave to values near, not at, 1.0).
 *    The video is decoded once, in the main run; this pass costs an audio decode (measured 0.12–
 *    0.23 s for 10 s of AC-3 on the busy 2-core machine; ≈ 0.07 s for 2 s of PCM). It runs BEFORE
 *    the main run because the main run's audio chain (which track, which pan) depends on it;
 *    measuring inside the main run would mean re-encoding and remuxing the preview's audio after.
 *
 * Decisions (planAudio): the first track with sound (loudest channel RMS above −60 dBFS) is used,
 * else the first; a stereo track whose quieter channel is ≥ 30 dB below the louder is made
 * dual-mono from the live channel; a stereo track whose mono sum is ≥ 15 dB below its louder
 * channel (and whose channels are within 10 dB of each other) is made dual-mono from the louder
 * channel — one channel, not the sum, which is what cancels. Clipping: ≥ 0.25 s of samples at full
 * scale in runs averaging ≥ 3 samples (flat factor ≥ 9.5 dB) on a channel in use.
 */
import { MediaRunError } from './errors';
import { demuxerGuardArgs, fileUrl, guardedInputArgs } from './input-guard';
import { scanFromFrameFlags, type ProbeResult, type ScanInfo } from './probe';
import { execMediaTool, type MediaRunner } from './runner';

export const AUDIO_ANALYSIS_MAX_TRACKS = 4;

export const AUDIO_THRESHOLDS = {
  /** A track "has sound" when its loudest channel's RMS is above this (dBFS). */
  soundRmsDb: -60,
  /** One-sided: quieter channel at least this far below the louder (dB). */
  oneSidedDb: 30,
  /** Phase cancel: mono sum at least this far below the louder channel (dB)… */
  cancelDb: 15,
  /** …while the two channels are within this of each other (dB). */
  cancelBalanceDb: 10,
  /** Clipping: at least this much audio at full scale (s)… */
  clippedMinS: 0.25,
  /** …in runs whose mean length is ≥ 3 samples (20·log10 3 ≈ 9.5 dB). */
  clippedFlatFactorDb: 9.5,
  /** Peak level (after the +0.2 dB probe gain) that counts as full scale (dBFS). */
  fullScaleDb: -0.01,
} as const;

/** The +0.2 dB that turns "within 0.2 dB of full scale" into "at full scale" on conversion to s16. */
const NEAR_FULL_SCALE_GAIN_DB = 0.2;
const ANALYSIS_RATE = 48000;

export interface ChannelStats {
  /** dBFS; null for digital silence (−inf). */
  readonly rmsDb: number | null;
  readonly peakDb: number | null;
  /** Samples within 0.2 dB of full scale. */
  readonly fullScaleSamples: number;
  /** 20·log10 of the mean run length of those samples; null for −inf. */
  readonly flatFactorDb: number | null;
}

export interface TrackStats {
  readonly index: number;
  readonly channels: ChannelStats[];
  /** RMS of (L+R)/2 for tracks with ≥ 2 channels; null for −inf; undefined for mono tracks. */
  readonly monoSumRmsDb?: number | null;
}

export type ChannelFix = 'none' | 'left-to-both' | 'right-to-both';

export interface AudioPlan {
  /** The stream index used for the preview and the master. */
  readonly streamIndex: number;
  /** 1-based position among the audio tracks, for people. */
  readonly trackNumber: number;
  readonly trackCount: number;
  /** Earlier tracks skipped because they had no sound. */
  readonly skippedSilentTracks: number;
  readonly fix: ChannelFix;
  readonly issue: 'none' | 'one_sided' | 'phase_cancel';
  readonly clipped: { readonly seconds: number; readonly channel: number } | null;
  /** The chosen track's measurement (for the QC value). */
  readonly stats: TrackStats | null;
}

/** A filter prefix for the chosen track (before `aresample`/`aformat`); '' when nothing to fix. */
export function channelFixFilter(fix: ChannelFix): string {
  if (fix === 'left-to-both') return 'pan=stereo|c0=c0|c1=c0,';
  if (fix === 'right-to-both') return 'pan=stereo|c0=c1|c1=c1,';
  return '';
}

/** ffprobe argv: the first 6 frames' interlace flags of the video stream. */
export function buildFrameScanArgs(probe: ProbeResult, inputPath: string): string[] {
  return [
    '-hide_banner',
    '-v',
    'error',
    ...demuxerGuardArgs(probe.demuxer),
    '-select_streams',
    String(probe.videoStreamIndex),
    '-read_intervals',
    '%+#6',
    '-show_entries',
    'frame=interlaced_frame,top_field_first',
    '-of',
    'csv=p=0',
    fileUrl(inputPath),
  ];
}

/** `1,0` lines → flags (other lines ignored). */
export function parseFrameScan(stdout: string): Array<{ interlaced: boolean; topFieldFirst: boolean }> {
  const frames: Array<{ interlaced: boolean; topFieldFirst: boolean }> = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^([01]),([01])\b/.exec(line.trim());
    if (m) frames.push({ interlaced: m[1] === '1', topFieldFirst: m[2] === '1' });
  }
  return frames;
}

/**
 * The scan from the frames; falls back to the probe's (progressive assumed) when nothing decodes —
 * the main run is where an undecodable video is judged. Timeouts and aborts propagate.
 */
export async function detectScanFromFrames(
  runner: MediaRunner,
  probe: ProbeResult,
  inputPath: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<ScanInfo> {
  try {
    const result = await execMediaTool(runner.binaries.ffprobe, buildFrameScanArgs(probe, inputPath), {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      captureStdoutBytes: 64 * 1024,
    });
    return scanFromFrameFlags(parseFrameScan(result.stdout)) ?? probe.scan;
  } catch (error) {
    if (error instanceof MediaRunError) return probe.scan;
    throw error;
  }
}

/** The audio tracks measured (first AUDIO_ANALYSIS_MAX_TRACKS). */
export function analysedTracks(probe: ProbeResult): ProbeResult['audioStreams'] {
  return probe.audioStreams.slice(0, AUDIO_ANALYSIS_MAX_TRACKS);
}

/** The filter graph of the audio analysis run; one `[aN]` output per track. */
export function buildAudioAnalysisGraph(probe: ProbeResult): string {
  const chains: string[] = [];
  analysedTracks(probe).forEach((track, k) => {
    const nearFullScale = `volume=${NEAR_FULL_SCALE_GAIN_DB}dB,aformat=sample_fmts=s16,astats@ch${k}`;
    if (track.channels >= 2) {
      chains.push(`[0:${track.index}]aresample=${ANALYSIS_RATE},asplit=2[c${k}][m${k}]`);
      chains.push(`[c${k}]${nearFullScale}[a${k}]`);
      chains.push(`[m${k}]pan=mono|c0=0.5*c0+0.5*c1,astats@sum${k}[s${k}]`);
    } else {
      chains.push(`[0:${track.index}]aresample=${ANALYSIS_RATE},${nearFullScale}[a${k}]`);
    }
  });
  return chains.join(';');
}

/** ffmpeg argv of the audio-only analysis run (null output). */
export function buildAudioAnalysisArgs(probe: ProbeResult, inputPath: string, maxDurationS?: number): string[] {
  const tracks = analysedTracks(probe);
  if (tracks.length === 0) throw new Error('no audio stream to analyse');
  const maps = tracks.flatMap((track, k) => ['-map', `[a${k}]`, ...(track.channels >= 2 ? ['-map', `[s${k}]`] : [])]);
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    ...guardedInputArgs(inputPath, probe.demuxer),
    '-vn',
    '-sn',
    '-dn',
    '-filter_complex',
    buildAudioAnalysisGraph(probe),
    ...maps,
    ...(maxDurationS !== undefined ? ['-t', String(maxDurationS)] : []),
    '-c:a',
    'pcm_s16le',
    '-f',
    'null',
    '-',
  ];
}

/** Keeps astats' lines of the analysis run. */
export function isAstatsLine(line: string): boolean {
  return /\[astats@(ch|sum)\d+ @/.test(line) && /(Channel:|Overall|RMS level dB:|Peak level dB:|Peak count:|Flat factor:)/.test(line);
}

const dbOrNull = (text: string): number | null => (/^-?inf$/i.test(text.trim()) || /nan/i.test(text) ? null : Number(text));

/**
 * astats' summaries → per-track stats. ffmpeg may configure a filter_complex twice (5.1): the LAST
 * block of each instance is the measurement.
 */
export function parseAudioAnalysis(lines: readonly string[], probe: ProbeResult): TrackStats[] {
  type Acc = Map<number, { rmsDb: number | null; peakDb: number | null; fullScaleSamples: number; flatFactorDb: number | null }>;
  const blocks = new Map<string, Acc>();
  let current: { name: string; channel: number } | null = null;
  for (const line of lines) {
    const m = /\[astats@((?:ch|sum)\d+) @ [^\]]+\](?: \[\w+\])?\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const name = m[1];
    const body = (m[2] ?? '').trim();
    if (/^Overall\b/.test(body)) {
      current = null; // the all-channels block repeats the same labels
      continue;
    }
    const channel = /^Channel:\s*(\d+)/.exec(body);
    if (channel?.[1]) {
      const n = Number(channel[1]);
      if (n === 1 || !blocks.has(name)) blocks.set(name, new Map()); // a new summary starts at channel 1
      current = { name, channel: n };
      blocks.get(name)?.set(n, { rmsDb: null, peakDb: null, fullScaleSamples: 0, flatFactorDb: null });
      continue;
    }
    if (!current || current.name !== name) continue;
    const entry = blocks.get(name)?.get(current.channel);
    if (!entry) continue;
    const value = (label: string): string | null => {
      const v = new RegExp(`^${label}:\\s*(\\S+)`).exec(body);
      return v?.[1] ?? null;
    };
    const rms = value('RMS level dB');
    if (rms !== null) entry.rmsDb = dbOrNull(rms);
    const peak = value('Peak level dB');
    if (peak !== null) entry.peakDb = dbOrNull(peak);
    const count = value('Peak count');
    if (count !== null) entry.fullScaleSamples = Number(count) || 0;
    const flat = value('Flat factor');
    if (flat !== null) entry.flatFactorDb = dbOrNull(flat);
  }
  return analysedTracks(probe).map((track, k) => {
    const ch = blocks.get(`ch${k}`);
    const channels: ChannelStats[] = [];
    for (let c = 1; c <= track.channels; c += 1) {
      const e = ch?.get(c);
      const fullScale = e !== undefined && e.peakDb !== null && e.peakDb >= AUDIO_THRESHOLDS.fullScaleDb;
      channels.push({
        rmsDb: e?.rmsDb ?? null,
        peakDb: e?.peakDb ?? null,
        fullScaleSamples: fullScale ? (e?.fullScaleSamples ?? 0) : 0,
        flatFactorDb: e?.flatFactorDb ?? null,
      });
    }
    const sum = blocks.get(`sum${k}`)?.get(1);
    return track.channels >= 2 ? { index: track.index, channels, monoSumRmsDb: sum?.rmsDb ?? null } : { index: track.index, channels };
  });
}

const loudest = (stats: TrackStats): number | null =>
  stats.channels.reduce<number | null>((acc, c) => (c.rmsDb === null ? acc : acc === null ? c.rmsDb : Math.max(acc, c.rmsDb)), null);

/** The decision (pure): which track, which channel fix, clipping. */
export function planAudio(probe: ProbeResult, stats: readonly TrackStats[]): AudioPlan | null {
  if (probe.audioStreams.length === 0) return null;
  const t = AUDIO_THRESHOLDS;
  const withSound = stats.findIndex((s) => (loudest(s) ?? -Infinity) > t.soundRmsDb);
  const k = withSound >= 0 ? withSound : 0;
  const track = probe.audioStreams[k] ?? probe.audioStreams[0];
  if (!track) return null;
  const s = stats[k] ?? null;
  let fix: ChannelFix = 'none';
  let issue: AudioPlan['issue'] = 'none';
  if (s && track.channels === 2) {
    const [l, r] = s.channels.map((c) => c.rmsDb ?? -Infinity) as [number, number];
    const louder = Math.max(l, r);
    const quieter = Math.min(l, r);
    if (louder > t.soundRmsDb) {
      const louderIsLeft = l >= r;
      if (louder - quieter >= t.oneSidedDb) {
        issue = 'one_sided';
        fix = louderIsLeft ? 'left-to-both' : 'right-to-both';
      } else if (louder - quieter <= t.cancelBalanceDb && louder - (s.monoSumRmsDb ?? -Infinity) >= t.cancelDb) {
        issue = 'phase_cancel';
        fix = louderIsLeft ? 'left-to-both' : 'right-to-both';
      }
    }
  }
  let clipped: AudioPlan['clipped'] = null;
  if (s) {
    // Only channels that reach the output count (the dropped one of a fixed pair does not).
    const used = fix === 'left-to-both' ? [0] : fix === 'right-to-both' ? [1] : s.channels.map((_, i) => i);
    for (const i of used) {
      const c = s.channels[i];
      if (!c) continue;
      const seconds = c.fullScaleSamples / ANALYSIS_RATE;
      if (seconds >= t.clippedMinS && (c.flatFactorDb ?? 0) >= t.clippedFlatFactorDb && (clipped === null || seconds > clipped.seconds)) {
        clipped = { seconds: Math.round(seconds * 100) / 100, channel: i + 1 };
      }
    }
  }
  return {
    streamIndex: track.index,
    trackNumber: k + 1,
    trackCount: probe.audioStreams.length,
    skippedSilentTracks: withSound > 0 ? withSound : 0,
    fix,
    issue,
    clipped,
    stats: s,
  };
}

/** Runs the audio analysis and plans; null without audio. Errors are MediaRunError/Timeout as usual. */
export async function analyseAudio(
  runner: MediaRunner,
  probe: ProbeResult,
  inputPath: string,
  options: { timeoutMs: number; signal?: AbortSignal; maxDurationS?: number },
): Promise<AudioPlan | null> {
  if (probe.audioStreams.length === 0) return null;
  const result = await runner.run(buildAudioAnalysisArgs(probe, inputPath, options.maxDurationS), {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    keepLine: isAstatsLine,
  });
  const stats = parseAudioAnalysis(result.keptLines, probe);
  if (stats.every((s) => s.channels.every((c) => c.rmsDb === null && c.peakDb === null)) && result.keptLines.length === 0) {
    throw new MediaRunError('ffmpeg', 0, null, 'audio analysis printed no astats summary');
  }
  return planAudio(probe, stats);
}
