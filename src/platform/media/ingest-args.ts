/**
 * Pure argv builders for the ingest (no I/O; unit-tested with recorded ffprobe JSON).
 *
 * ONE ffmpeg run decodes the source once and, through a filter_complex, produces:
 *   - the preview MP4 (H.264 High yuv420p, short side ≤ 720, constant ≤ 30 fps, AAC stereo 48 kHz),
 *   - the QC measurements, as filters on the same decoded frames: `blackdetect` inline on the
 *     (scaled) video, `ebur128=peak=true` + `silencedetect` inline on the (stereo 48 kHz) audio —
 *     pass-through filters, so no extra split of the full-size stream is needed,
 *   - the poster JPEG, a second output fed by `split` of the scaled video: frames in [1 s, 11 s),
 *     black ones dropped (`blackframe` + `metadata`), the most representative of the first 30 left
 *     picked by `thumbnail`. If that window is black throughout that branch yields nothing; the
 *     ingest then makes the poster with the small `buildPosterFallbackArgs` run.
 *     Measured (20 s 1080p30 clip, 2 busy cores, CPU time): preview-only run 16.1–18.2 s; with an
 *     unbounded `select` poster branch 19.0–19.5 s (blackframe/thumbnail ran on every frame to the
 *     end); with the `trim`-bounded branch 17.6–17.9 s; a separate `-ss` poster run 0.4 s. The
 *     separate run is cheaper on this synthetic 1080p H.264 source, but it decodes the source a
 *     second time from the previous keyframe at full size (4K HEVC on phones), while the branch
 *     works on frames already decoded and scaled to 720p and its cost is bounded by the window:
 *     the branch is kept, the separate run is only the fallback.
 *
 * Decisions:
 * - Never upscale: a source whose short side is < 720 is previewed at its own size (rounded down
 *   to even numbers). Upscaling adds bytes, not detail, and would hide a low-resolution source
 *   from judges (the QC report flags it instead).
 * - Sizes are computed from the DISPLAY dimensions: ffmpeg auto-rotates (also in filter_complex),
 *   so a landscape frame with a 90° flag becomes a portrait preview, and the flag is not copied.
 * - Frame rate: sources ≤ 30 fps keep their rate; faster sources are divided by the smallest
 *   integer that brings them ≤ 30 (60 → 30, 50 → 25, 120 → 30); VFR sources get their rounded mean
 *   rate (≤ 30), and rates below 1 fps get 1 fps. The `fps` filter makes the output constant.
 * - Length: the preview output stops at the campaign limit (`-t`), whatever the timestamps say.
 * - Interlaced sources (camcorder 50i/60i; field order from the stream, see probe.ts and
 *   source-analysis.ts) are deinterlaced FIRST, before any scaling (a scaler mixes the two fields'
 *   lines into combs): `bwdif=mode=send_frame` with the stream's parity, i.e. one frame per frame
 *   (50i → 25p). `send_field` (50i → 50p) was considered: the preview's ≤ 30 fps rule would then
 *   drop every other frame with `fps`, so it costs the same filtering twice for the same 25p
 *   result. The motion of 50 fields per second stays in the broadcast master, not the preview.
 * - Non-square pixels (DV/MPEG-2 PAL 16:9 720×576 SAR 64:45, HDV 1440×1080 SAR 4:3): the preview's
 *   size is computed from the DISPLAY size, the scaler stretches to it and `setsar=1` marks the
 *   result square — a 16:9 DV clip previews at 1024×576, not 720×576.
 * - Audio: the track and channel fix chosen by source-analysis.ts (`planAudio`) — the first track
 *   with sound; a one-sided or phase-cancelling stereo pair becomes dual-mono from its live channel.
 * - Loudness is measured on the stereo 48 kHz mix the preview (and later the broadcast master)
 *   carries, so the broadcast job can use it as its first loudnorm pass.
 */
import type { MediaCapabilities } from './binaries';
import { fileUrl, guardedInputArgs } from './input-guard';
import type { ProbeResult } from './probe';
import { channelFixFilter, type AudioPlan } from './source-analysis';

export const PREVIEW_SHORT_SIDE = 720;
export const PREVIEW_MAX_FPS = 30;
export const POSTER_THUMBNAIL_FRAMES = 30;
/** Length of the window (from t = 1 s) the poster is picked from. */
export const POSTER_WINDOW_S = 10;

export const BLACKDETECT_FILTER = 'blackdetect=d=0.5:pix_th=0.10:pic_th=0.98';
export const SILENCEDETECT_FILTER = 'silencedetect=n=-60dB:d=3';
export const EBUR128_FILTER = 'ebur128=peak=true';

export interface IngestArgsOptions {
  readonly inputPath: string;
  readonly previewPath: string;
  readonly posterPath: string;
  readonly caps: Pick<MediaCapabilities, 'hdrTonemap'>;
  /**
   * The campaign's duration limit: the preview output stops there (`-t`), whatever the source's
   * timestamps say, so a preview can never be longer than the limit.
   */
  readonly maxDurationS?: number;
  /** Track and channel handling from source-analysis.ts; default: the probe's audio, as is. */
  readonly audio?: AudioPlan | null;
}

export interface PreviewPlan {
  readonly width: number;
  readonly height: number;
  /** Value for the `fps` filter, e.g. "30/1", "30000/1001", "25". */
  readonly frameRate: string;
  /** HDR → SDR tone-mapping is applied. */
  readonly tonemap: boolean;
  /** The source is HDR but this ffmpeg has no zscale/tonemap: the preview will look washed out. */
  readonly tonemapSkipped: boolean;
}

const even = (value: number): number => Math.max(2, Math.round(value / 2) * 2);
const evenDown = (value: number): number => Math.max(2, Math.floor(value / 2) * 2);

/** Output size and rate of the preview for this source. */
export function planPreview(probe: ProbeResult, caps: Pick<MediaCapabilities, 'hdrTonemap'>): PreviewPlan {
  const { displayWidth: dw, displayHeight: dh } = probe;
  const shortSide = Math.min(dw, dh);
  const targetShort = evenDown(Math.min(PREVIEW_SHORT_SIDE, shortSide));
  const targetLong = even((Math.max(dw, dh) * targetShort) / shortSide);
  const portrait = dh > dw;
  return {
    width: portrait ? targetShort : targetLong,
    height: portrait ? targetLong : targetShort,
    frameRate: previewFrameRate(probe),
    tonemap: probe.isHdr && caps.hdrTonemap,
    tonemapSkipped: probe.isHdr && !caps.hdrTonemap,
  };
}

/** The constant output rate (≤ 30) as an `fps` filter value. */
export function previewFrameRate(probe: ProbeResult): string {
  if (!(probe.fps > 0)) return String(PREVIEW_MAX_FPS);
  // Below 1 fps the timing is not a camera's (e.g. 30 frames spread over 10 h by edited sample
  // timing): one output frame per second keeps every frame short, so `-t` can hold the limit.
  if (probe.fps < 1) return '1';
  if (probe.variableFrameRate) return String(Math.min(PREVIEW_MAX_FPS, Math.max(1, Math.round(probe.fps))));
  const [num, den] = fraction(probe.fpsFraction, probe.fps);
  const divisor = Math.max(1, Math.ceil(probe.fps / PREVIEW_MAX_FPS - 1e-6));
  return `${num}/${den * divisor}`;
}

function fraction(text: string, fallback: number): [number, number] {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (match && Number(match[2]) > 0) return [Number(match[1]), Number(match[2])];
  return [Math.round(fallback * 1000), 1000];
}

/** zscale-based HDR (PQ/HLG) → SDR BT.709 chain (MEDIA.md), from the probed colour tags. */
export function tonemapChain(probe: ProbeResult): string {
  const tin = probe.colorTransfer ?? 'arib-std-b67';
  const pin = probe.colorPrimaries && probe.colorPrimaries !== 'unknown' ? probe.colorPrimaries : 'bt2020';
  const min = probe.colorSpace && probe.colorSpace !== 'unknown' ? probe.colorSpace : 'bt2020nc';
  return [
    `zscale=tin=${tin}:pin=${pin}:min=${min}:t=linear:npl=100`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=hable:desat=0',
    'zscale=t=bt709:m=bt709:r=tv',
  ].join(',');
}

/** Start of the window the poster is chosen from: past the first second when the clip allows. */
export function posterWindowStartS(probe: ProbeResult): number {
  const duration = probe.videoDurationS ?? probe.durationS ?? 0;
  if (duration >= 2) return 1;
  return Math.max(0, Math.floor((duration / 3) * 100) / 100);
}

/** `bwdif` for an interlaced source (one frame out per frame in, the stream's parity); '' otherwise. */
export function deinterlaceFilter(probe: ProbeResult, mode: 'send_frame' | 'send_field' = 'send_frame'): string {
  if (!probe.scan.interlaced) return '';
  return `bwdif=mode=${mode}:parity=${probe.scan.order === 'bff' ? 'bff' : 'tff'}:deint=all`;
}

/** The audio chain's head: the chosen track, with its channel fix. */
export function audioSourceLabel(probe: ProbeResult, audio: AudioPlan | null | undefined): { label: string; fix: string } | null {
  if (!probe.hasAudio || probe.audioStreamIndex === null) return null;
  const index = audio?.streamIndex ?? probe.audioStreamIndex;
  return { label: `[0:${index}]`, fix: channelFixFilter(audio?.fix ?? 'none') };
}

/** The filter_complex graph of the single ingest run. */
export function buildIngestFilterGraph(probe: ProbeResult, caps: Pick<MediaCapabilities, 'hdrTonemap'>, audioPlan?: AudioPlan | null): string {
  const plan = planPreview(probe, caps);
  const deinterlace = deinterlaceFilter(probe);
  const video = [
    ...(deinterlace ? [deinterlace] : []),
    `fps=${plan.frameRate}`,
    `scale=${plan.width}:${plan.height}`,
    ...(plan.tonemap ? [tonemapChain(probe)] : []),
    'format=yuv420p',
    'setsar=1',
    BLACKDETECT_FILTER,
    'split=2[vout][vposter]',
  ].join(',');
  const windowStart = posterWindowStartS(probe);
  const poster = [
    // trim (not select): once the window is over, trim closes its input and split stops feeding
    // the branch, so the poster costs a bounded number of frames whatever the video's length.
    `trim=start=${windowStart}:end=${windowStart + POSTER_WINDOW_S}`,
    'blackframe=amount=0:threshold=32',
    'metadata=mode=select:key=lavfi.blackframe.pblack:value=98:function=less',
    `thumbnail=n=${POSTER_THUMBNAIL_FRAMES}`,
  ].join(',');
  const chains = [`[0:${probe.videoStreamIndex}]${video}`, `[vposter]${poster}[poster]`];
  const audio = audioSourceLabel(probe, audioPlan);
  if (audio) {
    chains.push(`${audio.label}${audio.fix}aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo,${EBUR128_FILTER},${SILENCEDETECT_FILTER}[aout]`);
  }
  return chains.join(';');
}

/** argv (without the binary) of the single ingest run: preview + measurements + poster. */
export function buildIngestArgs(probe: ProbeResult, options: IngestArgsOptions): string[] {
  const plan = planPreview(probe, options.caps);
  const audio = probe.hasAudio && probe.audioStreamIndex !== null;
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-nostats',
    // level+info: every log line carries its level, so decoder errors can be told from chatter;
    // info is where ebur128/silencedetect/blackdetect print.
    '-loglevel',
    'level+info',
    '-progress',
    'pipe:1',
    ...guardedInputArgs(options.inputPath, probe.demuxer),
    '-filter_complex',
    buildIngestFilterGraph(probe, options.caps, options.audio),
    // Output 1: the preview.
    '-map',
    '[vout]',
    ...(audio ? ['-map', '[aout]'] : []),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-maxrate',
    '3M',
    '-bufsize',
    '6M',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '60',
    ...(plan.tonemap ? ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'] : []),
    ...(audio ? ['-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-ar', '48000'] : []),
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-movflags',
    '+faststart',
    '-max_muxing_queue_size',
    '1024',
    ...(options.maxDurationS !== undefined ? ['-t', String(options.maxDurationS)] : []),
    '-f',
    'mp4',
    fileUrl(options.previewPath),
    // Output 2: the poster.
    '-map',
    '[poster]',
    '-frames:v',
    '1',
    '-q:v',
    '3',
    '-map_metadata',
    '-1',
    '-f',
    'image2',
    '-update',
    '1',
    fileUrl(options.posterPath),
  ];
}

/**
 * A tiny second run for when the main run's poster branch found no non-black frame past the
 * first second (black or very short video): one frame at `atS`, same size and orientation.
 */
export function buildPosterFallbackArgs(
  probe: ProbeResult,
  options: { inputPath: string; posterPath: string; atS: number; caps: Pick<MediaCapabilities, 'hdrTonemap'> },
): string[] {
  const plan = planPreview(probe, options.caps);
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-nostats',
    '-loglevel',
    'error',
    '-ss',
    options.atS.toFixed(3),
    ...guardedInputArgs(options.inputPath, probe.demuxer),
    '-map',
    `0:${probe.videoStreamIndex}`,
    '-vf',
    [
      ...(probe.scan.interlaced ? [deinterlaceFilter(probe)] : []),
      `scale=${plan.width}:${plan.height}`,
      ...(plan.tonemap ? [tonemapChain(probe)] : []),
      'setsar=1',
    ].join(','),
    '-frames:v',
    '1',
    '-q:v',
    '3',
    '-map_metadata',
    '-1',
    '-f',
    'image2',
    '-update',
    '1',
    fileUrl(options.posterPath),
  ];
}
