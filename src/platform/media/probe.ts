/**
 * ffprobe JSON → the facts the pipeline decides on (pure). Also the size-bomb limits.
 */
import type { RawProbe, RawProbeStream } from './runner';
import type { Demuxer } from './sniff';

/** ffprobe's `field_order`: tt/bb (top/bottom field first), tb/bt (coded ≠ displayed order). */
export type FieldOrder = 'progressive' | 'tt' | 'bb' | 'tb' | 'bt' | 'unknown';

/** How the picture is scanned, as the pipeline treats it. */
export interface ScanInfo {
  readonly interlaced: boolean;
  /** Which field is displayed first; null for progressive. */
  readonly order: 'tff' | 'bff' | null;
  /** Where that came from: the stream header, the decoded frames' flags, or nothing (progressive assumed). */
  readonly source: 'stream' | 'frames' | 'assumed';
}

/** One audio stream of the source (every audio track is listed; one is chosen). */
export interface AudioStreamInfo {
  readonly index: number;
  readonly codec: string;
  readonly channels: number;
  readonly sampleRate: number | null;
  readonly language: string | null;
  readonly durationS: number | null;
}

export interface ProbeResult {
  /** The one demuxer the source is read with (from the sniff). */
  demuxer: Demuxer;
  /** Interlaced or progressive, and the field order (see ScanInfo). */
  scan: ScanInfo;
  /** Sample (pixel) aspect ratio as width/height; 1 for square pixels. */
  sampleAspectRatio: number;
  /** Every audio stream, in file order (timecode, data and subtitle streams are not listed). */
  audioStreams: AudioStreamInfo[];
  /** Container duration (format.duration), else the longest stream; null if unknown. */
  durationS: number | null;
  /**
   * Where the container's timeline starts (format.start_time), s. 0 for phone MP4s; MPEG-TS/PS
   * from cameras start wherever the camera's clock was (1.4 s from ffmpeg's muxer, hours on a
   * camcorder): packet timestamps are measured from here.
   */
  startTimeS: number;
  /** Coded size of the video stream. */
  width: number;
  height: number;
  /** Size as shown: rotation and sample aspect ratio applied. */
  displayWidth: number;
  displayHeight: number;
  /** Clockwise degrees a player rotates the picture (the legacy `rotate` tag's convention). */
  rotation: 0 | 90 | 180 | 270;
  /** Mean frame rate (avg_frame_rate, else r_frame_rate); 0 if unknown. */
  fps: number;
  /** The same rate as ffprobe's fraction, e.g. "30000/1001". */
  fpsFraction: string;
  /** r_frame_rate (the timebase-derived rate) differs from the mean rate by more than 1 %. */
  variableFrameRate: boolean;
  videoCodec: string;
  videoStreamIndex: number;
  audioCodec: string | null;
  audioStreamIndex: number | null;
  hasAudio: boolean;
  audioChannels: number | null;
  audioSampleRate: number | null;
  pixFmt: string | null;
  bitDepth: number;
  colorTransfer: string | null;
  colorPrimaries: string | null;
  colorSpace: string | null;
  isHdr: boolean;
  streamCount: number;
  formatName: string;
  videoDurationS: number | null;
  audioDurationS: number | null;
}

export interface MediaLimits {
  maxWidth: number;
  maxHeight: number;
  maxPixels: number;
  maxFps: number;
  maxStreams: number;
  maxDurationS: number;
  /**
   * width × height × fps. Not in MEDIA.md's list, added because "8K at 240 fps" passes the
   * per-axis limits (33 Mpx ≤ 36, 240 ≤ 240). 1.1e9 admits 8K30 and 4K120 phone video.
   */
  maxPixelsPerSecond: number;
}

export const DEFAULT_MEDIA_LIMITS: Readonly<MediaLimits> = Object.freeze({
  maxWidth: 8192,
  maxHeight: 8192,
  maxPixels: 36e6,
  maxFps: 240,
  maxStreams: 16,
  maxDurationS: 900,
  maxPixelsPerSecond: 1.1e9,
});

export class ProbeUnreadableError extends Error {
  override readonly name = 'ProbeUnreadableError';
}

const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67']);

/** Codecs whose streams can carry interlaced pictures (field_order "unknown" is then worth a look at the frames). */
const MAYBE_INTERLACED_CODECS = new Set([
  'mpeg2video',
  'mpeg1video',
  'h264',
  'dvvideo',
  'mjpeg',
  'vc1',
  'wmv3',
  'mpeg4',
  'prores',
  'dnxhd',
  'rawvideo',
  'v210',
]);

/** Scan as the stream header says (tb → bff and bt → tff: the DISPLAYED order is what counts). */
export function scanFromFieldOrder(fieldOrder: string | undefined): ScanInfo | null {
  switch (fieldOrder) {
    case 'progressive':
      return { interlaced: false, order: null, source: 'stream' };
    case 'tt':
    case 'bt':
      return { interlaced: true, order: 'tff', source: 'stream' };
    case 'bb':
    case 'tb':
      return { interlaced: true, order: 'bff', source: 'stream' };
    default:
      return null;
  }
}

/** The header said nothing: does this stream need its frames looked at (see MediaRunner frame flags)? */
export function needsFrameScanCheck(probe: ProbeResult): boolean {
  return probe.scan.source === 'assumed' && MAYBE_INTERLACED_CODECS.has(probe.videoCodec);
}

/**
 * Scan from the first decoded frames' flags (`interlaced_frame`, `top_field_first`), for streams
 * whose header says "unknown" (DV keeps its field order in each frame's VAUX pack, not in a
 * header). The majority of the frames decides.
 */
export function scanFromFrameFlags(frames: ReadonlyArray<{ interlaced: boolean; topFieldFirst: boolean }>): ScanInfo | null {
  if (frames.length === 0) return null;
  const interlaced = frames.filter((f) => f.interlaced);
  if (interlaced.length * 2 <= frames.length) return { interlaced: false, order: null, source: 'frames' };
  const tff = interlaced.filter((f) => f.topFieldFirst).length;
  return { interlaced: true, order: tff * 2 >= interlaced.length ? 'tff' : 'bff', source: 'frames' };
}

/** Throws ProbeUnreadableError when there is no usable video stream. */
export function normalizeProbe(raw: RawProbe, demuxer: Demuxer = 'mov'): ProbeResult {
  const streams = raw.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && positive(s.width) && positive(s.height));
  if (!video) throw new ProbeUnreadableError('no decodable video stream');
  const audioAll = streams.filter((s) => s.codec_type === 'audio' && (s.channels ?? 1) > 0);
  const audio = audioAll[0] ?? null;

  const width = video.width as number;
  const height = video.height as number;
  const rotation = rotationOf(video);
  const sar = parseRatio(video.sample_aspect_ratio);
  const sarWidth = sar && sar > 0 && Math.abs(sar - 1) > 0.001 ? Math.round(width * sar) : width;
  const quarterTurn = rotation === 90 || rotation === 270;

  const avg = parseRatio(video.avg_frame_rate);
  const real = parseRatio(video.r_frame_rate);
  const fpsFraction = avg && avg > 0 ? (video.avg_frame_rate as string) : real && real > 0 ? (video.r_frame_rate as string) : '0/1';
  const fps = avg && avg > 0 ? avg : real && real > 0 ? real : 0;
  const scan = scanFromFieldOrder(video.field_order) ?? { interlaced: false, order: null, source: 'assumed' as const };
  // Interlaced H.264 (AVCHD field pictures) often has r_frame_rate at the FIELD rate (50) over a
  // mean of 25 frames: that is interlace, not a variable rate.
  const fieldRate = scan.interlaced && avg && real ? Math.abs(real - 2 * avg) / real <= 0.01 : false;
  const variableFrameRate = !fieldRate && Boolean(avg && real && avg > 0 && real > 0 && Math.abs(real - avg) / real > 0.01);

  const colorTransfer = video.color_transfer ?? null;
  const videoDurationS = streamDuration(video);
  const audioDurationS = audio ? streamDuration(audio) : null;
  const formatDuration = num(raw.format?.duration);
  const durationS = formatDuration ?? maxOrNull(videoDurationS, audioDurationS);

  return {
    demuxer,
    scan,
    sampleAspectRatio: sar && sar > 0 ? sar : 1,
    audioStreams: audioAll.map((a) => ({
      index: a.index,
      codec: a.codec_name ?? 'unknown',
      channels: a.channels ?? 1,
      sampleRate: num(a.sample_rate),
      language: a.tags?.language ?? null,
      durationS: streamDuration(a),
    })),
    durationS,
    startTimeS: num(raw.format?.start_time) ?? 0,
    width,
    height,
    displayWidth: quarterTurn ? height : sarWidth,
    displayHeight: quarterTurn ? sarWidth : height,
    rotation,
    fps,
    fpsFraction,
    variableFrameRate,
    videoCodec: video.codec_name ?? 'unknown',
    videoStreamIndex: video.index,
    audioCodec: audio?.codec_name ?? null,
    audioStreamIndex: audio ? audio.index : null,
    hasAudio: audio !== null,
    audioChannels: audio?.channels ?? null,
    audioSampleRate: audio ? num(audio.sample_rate) : null,
    pixFmt: video.pix_fmt ?? null,
    bitDepth: bitDepthOf(video),
    colorTransfer,
    colorPrimaries: video.color_primaries ?? null,
    colorSpace: video.color_space ?? null,
    isHdr: colorTransfer !== null && HDR_TRANSFERS.has(colorTransfer),
    streamCount: streams.length,
    formatName: raw.format?.format_name ?? 'unknown',
    videoDurationS,
    audioDurationS,
  };
}

/** The probe with another of its audio streams as THE audio (the one the pipeline uses). */
export function withAudioStream(probe: ProbeResult, index: number): ProbeResult {
  const chosen = probe.audioStreams.find((a) => a.index === index);
  if (!chosen) throw new Error(`no audio stream ${index}`);
  if (probe.audioStreamIndex === index) return probe;
  return {
    ...probe,
    audioStreamIndex: index,
    audioCodec: chosen.codec,
    audioChannels: chosen.channels,
    audioSampleRate: chosen.sampleRate,
    audioDurationS: chosen.durationS,
  };
}

/** How far past its header a stream may play before the header counts as wrong (s). */
export const PLAYED_DURATION_TOLERANCE_S = 1;

/**
 * The probe with its durations taken from what plays: `ends` (stream index → last packet's
 * pts + duration, from `MediaRunner.packetEnds`) wins wherever it is longer than the header by
 * more than PLAYED_DURATION_TOLERANCE_S. A header that says 3 s over samples spread across 10 h
 * (sample timing edited, no edit list) becomes a 10 h probe, and the limit check refuses it.
 * Shorter packet ends never shorten a header duration (the longer of the two always counts).
 * Packet times are on the container's timeline: the start time is taken off (an AVCHD clip whose
 * timestamps start at the camera's 10 h clock plays for seconds, not 10 h).
 */
export function withPlayedDurations(probe: ProbeResult, ends: ReadonlyMap<number, number>): ProbeResult {
  const start = Number.isFinite(probe.startTimeS) ? probe.startTimeS : 0;
  const longer = (header: number | null, end: number | undefined): number | null => {
    const played = end === undefined ? undefined : end - start;
    return played !== undefined && Number.isFinite(played) && played > (header ?? 0) + PLAYED_DURATION_TOLERANCE_S ? played : header;
  };
  const videoDurationS = longer(probe.videoDurationS, ends.get(probe.videoStreamIndex));
  const audioDurationS = probe.audioStreamIndex === null ? probe.audioDurationS : longer(probe.audioDurationS, ends.get(probe.audioStreamIndex));
  const anyEnd = Math.max(-Infinity, ...ends.values());
  const durationS = longer(probe.durationS, Number.isFinite(anyEnd) ? anyEnd : undefined);
  if (durationS === probe.durationS && videoDurationS === probe.videoDurationS && audioDurationS === probe.audioDurationS) return probe;
  return { ...probe, durationS, videoDurationS, audioDurationS };
}

export interface LimitViolation {
  code: 'exceeds_limits';
  message: string;
  detail: string;
}

/** null when the probe is within every limit; else the first violation (Chinese message). */
export function checkLimits(probe: ProbeResult, limits: Partial<MediaLimits> = {}): LimitViolation | null {
  const l: MediaLimits = { ...DEFAULT_MEDIA_LIMITS, ...limits };
  const violation = (message: string, detail: string): LimitViolation => ({ code: 'exceeds_limits', message, detail });
  const longSide = Math.max(probe.width, probe.height);
  const shortSide = Math.min(probe.width, probe.height);
  const maxLong = Math.max(l.maxWidth, l.maxHeight);
  const maxShort = Math.min(l.maxWidth, l.maxHeight);
  if (longSide > maxLong || shortSide > maxShort || probe.width * probe.height > l.maxPixels) {
    return violation(
      `视频分辨率过大（${probe.width}×${probe.height}），请用手机常规设置重新录制或导出（最高 8K）`,
      `resolution ${probe.width}x${probe.height} over limits`,
    );
  }
  if (probe.fps > l.maxFps) {
    return violation(`视频帧率过高（${Math.round(probe.fps)} 帧/秒），请用常规帧率重新导出`, `fps ${probe.fps} > ${l.maxFps}`);
  }
  if (probe.width * probe.height * probe.fps > l.maxPixelsPerSecond) {
    return violation(
      '视频分辨率和帧率同时过高，请用 4K 30 帧或更低的设置重新导出',
      `pixel rate ${Math.round(probe.width * probe.height * probe.fps)} > ${l.maxPixelsPerSecond}`,
    );
  }
  if (probe.streamCount > l.maxStreams) {
    return violation('视频文件结构异常（轨道过多），请重新导出后上传', `${probe.streamCount} streams > ${l.maxStreams}`);
  }
  const longest = Math.max(probe.durationS ?? 0, probe.videoDurationS ?? 0, probe.audioDurationS ?? 0);
  if (longest > l.maxDurationS) {
    return violation(
      `视频时长超过限制（${formatMinutes(longest)}，最长 ${formatMinutes(l.maxDurationS)}），请剪辑后再上传`,
      `duration ${longest}s > ${l.maxDurationS}s`,
    );
  }
  return null;
}

function formatMinutes(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return s === 0 ? `${m} 分钟` : `${m} 分 ${s} 秒`;
}

function rotationOf(stream: RawProbeStream): 0 | 90 | 180 | 270 {
  // ffprobe prints the display matrix's counter-clockwise angle; the legacy tag is clockwise.
  const matrix = stream.side_data_list?.find((d) => d.side_data_type === 'Display Matrix' && typeof d.rotation === 'number');
  let clockwise = 0;
  if (matrix && typeof matrix.rotation === 'number') clockwise = -matrix.rotation;
  else if (stream.tags?.rotate !== undefined) clockwise = Number(stream.tags.rotate) || 0;
  const snapped = (((Math.round(clockwise / 90) * 90) % 360) + 360) % 360;
  return snapped as 0 | 90 | 180 | 270;
}

function bitDepthOf(stream: RawProbeStream): number {
  const raw = num(stream.bits_per_raw_sample);
  if (raw && raw > 0) return raw;
  const match = /(?:p|le|be)?(9|10|12|14|16)(?:le|be)$/.exec(stream.pix_fmt ?? '') ?? /p(9|10|12|14|16)/.exec(stream.pix_fmt ?? '');
  return match?.[1] ? Number(match[1]) : 8;
}

function streamDuration(stream: RawProbeStream): number | null {
  const direct = num(stream.duration);
  if (direct !== null) return direct;
  // Matroska keeps stream durations in a DURATION tag ("00:00:03.000000000").
  const tag = stream.tags?.DURATION ?? stream.tags?.duration;
  const match = tag ? /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(tag) : null;
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : null;
}

/** "30000/1001" → 29.97; "1:1" → 1; "0/0" → null. */
export function parseRatio(value: string | undefined): number | null {
  if (!value) return null;
  const match = /^(-?\d+(?:\.\d+)?)[/:](\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!match) return num(value);
  const den = Number(match[2]);
  if (den === 0) return null;
  return Number(match[1]) / den;
}

function num(value: string | number | undefined): number | null {
  if (value === undefined || value === '' || value === 'N/A') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

function positive(value: number | undefined): boolean {
  return typeof value === 'number' && value > 0;
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
