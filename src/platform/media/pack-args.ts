/**
 * Pure argv builders for the new-media pack (WeChat official accounts and 视频号), no I/O.
 *
 * ONE ffmpeg run decodes the original once and, through one filter_complex, writes four files:
 *   - the official-account video: H.264 High progressive, fitted inside 1920×1080 (never upscaled),
 *     at the source's rate (25/30; 50/60 fps sources halved), AAC 48 kHz stereo, faststart, with
 *     a bitrate chosen so that the file stays under the configured size for its duration;
 *   - the 视频号 vertical version 1080×1920: a landscape picture on a blurred fill of itself,
 *     inside the title-safe width (90 %); a portrait picture fills the frame (cropped);
 *   - both with a 3 s opening title card and 3 s closing credits (`color` + `drawtext`, concat);
 *   - the two covers (900×383 and 900×900) from the poster frame, chosen like the ingest's poster
 *     (first non-black, most representative frame of a window past the first second), with the
 *     song title on a band.
 * Audio: the track and channel fix of the ingest (source-analysis.ts), brought to −16 LUFS with a
 * constant gain (loudnorm linear, or volume + 4×-oversampled limiter), split to both videos.
 *
 * Text never goes through filter escaping: each line is written by the caller to its own file and
 * given to drawtext as `textfile=` with `expansion=none`; the font is `fontfile=` (cjkFontPath()).
 * Both paths must be plain server-made paths (checked: no character with a meaning in a filter graph).
 */
import type { MediaCapabilities } from './binaries';
import { MASTER_AUDIO_PREP, limiterFilter, loudnormSecondPassFilter } from './broadcast-args';
import { deinterlaceFilter, posterWindowStartS, POSTER_THUMBNAIL_FRAMES, POSTER_WINDOW_S, tonemapChain } from './ingest-args';
import { fileUrl, guardedInputArgs } from './input-guard';
import type { LoudnessPlan, LoudnessTargets } from './loudness';
import type { ProbeResult } from './probe';
import { channelFixFilter, type AudioPlan } from './source-analysis';

/** Phones and headphones (WeChat): −16 LUFS integrated, true peak ≤ −1 dBTP. */
export const PACK_LOUDNESS: Readonly<LoudnessTargets> = Object.freeze({ targetI: -16, targetTP: -1, maxLRA: 20, gainCapDb: 25, toleranceLu: 1 });
/** AAC can add ~0.5 dB of peak: plan 1 dB under the ceiling. */
export const PACK_TP_HEADROOM_DB = 1;

export const OA_MAX_WIDTH = 1920;
export const OA_MAX_HEIGHT = 1080;
export const VERTICAL_WIDTH = 1080;
export const VERTICAL_HEIGHT = 1920;
/** Share of the vertical frame's width a landscape picture may use (title-safe area). */
export const TITLE_SAFE = 0.9;
export const CARD_SECONDS = 3;
export const COVER_SIZES = { wide: { width: 900, height: 383 }, square: { width: 900, height: 900 } } as const;
export const PACK_AUDIO_KBPS = 192;
export const PACK_MAX_VIDEO_KBPS = 8000;
export const PACK_MIN_VIDEO_KBPS = 400;
/** Share of the size budget the planned bitrate may use (container overhead, rate-control overshoot). */
export const PACK_SIZE_MARGIN = 0.9;
export const PACK_X264_PRESET = 'veryfast';
export const PACK_CARD_COLOUR = '0x7a1f1f';
export const PACK_TITLE_COLOUR = '0xf6d58e';

const even = (value: number): number => Math.max(2, Math.round(value / 2) * 2);
const evenDown = (value: number): number => Math.max(2, Math.floor(value / 2) * 2);

export interface PackPicturePlan {
  /** The output rate as the `fps` filter and the verification read it. */
  readonly fps: '25' | '30' | '30000/1001' | '24' | '24000/1001';
  readonly fpsValue: number;
  readonly oa: { readonly width: number; readonly height: number };
  readonly vertical: { readonly mode: 'fill' | 'blur'; readonly fgWidth: number; readonly fgHeight: number };
  readonly deinterlace: string;
  readonly tonemap: boolean;
  /** The source's video duration (s) and the pack videos' total (cards included). */
  readonly durationS: number;
  readonly totalS: number;
  readonly videoKbps: number;
}

/** The rate of the pack videos: 50/60 halved, then the nearest broadcast-family rate. */
export function packFrameRate(probe: ProbeResult): Pick<PackPicturePlan, 'fps' | 'fpsValue'> {
  let r = probe.fps > 0 ? probe.fps : 25;
  if (r >= 40) r /= 2;
  if (Math.abs(r - 30000 / 1001) < 0.02) return { fps: '30000/1001', fpsValue: 30000 / 1001 };
  if (Math.abs(r - 24000 / 1001) < 0.02) return { fps: '24000/1001', fpsValue: 24000 / 1001 };
  if (Math.abs(r - 24) < 0.02) return { fps: '24', fpsValue: 24 };
  return r < 27.5 ? { fps: '25', fpsValue: 25 } : { fps: '30', fpsValue: 30 };
}

/** Video bitrate (kb/s) that keeps a file of `totalS` seconds under `maxBytes`; null when even the minimum does not fit. */
export function fitVideoKbps(totalS: number, maxBytes: number): number | null {
  const budget = Math.floor((maxBytes * 8 * PACK_SIZE_MARGIN) / totalS / 1000) - PACK_AUDIO_KBPS;
  if (budget < PACK_MIN_VIDEO_KBPS) return null;
  return Math.min(PACK_MAX_VIDEO_KBPS, budget);
}

export class PackPlanError extends Error {
  override readonly name = 'PackPlanError';
}

export function planPackPicture(probe: ProbeResult, options: { maxBytes: number; caps: Pick<MediaCapabilities, 'hdrTonemap'> }): PackPicturePlan {
  const dw = probe.displayWidth > 0 ? probe.displayWidth : OA_MAX_WIDTH;
  const dh = probe.displayHeight > 0 ? probe.displayHeight : OA_MAX_HEIGHT;
  const durationS = probe.videoDurationS ?? probe.durationS;
  if (durationS === null || !(durationS > 0)) throw new PackPlanError('source duration unknown');
  const fit = Math.min(1, OA_MAX_WIDTH / dw, OA_MAX_HEIGHT / dh);
  const oa = { width: evenDown(dw * fit), height: evenDown(dh * fit) };
  const aspect = dw / dh;
  let vertical: PackPicturePlan['vertical'];
  if (aspect >= 1) {
    // Landscape (and square): the whole picture, inside the title-safe width.
    const fgWidth = even(VERTICAL_WIDTH * TITLE_SAFE);
    const fgHeight = Math.min(even(VERTICAL_HEIGHT * TITLE_SAFE), even(fgWidth / aspect));
    vertical = { mode: 'blur', fgWidth: fgHeight < even(fgWidth / aspect) ? even(fgHeight * aspect) : fgWidth, fgHeight };
  } else {
    vertical = { mode: 'fill', fgWidth: VERTICAL_WIDTH, fgHeight: VERTICAL_HEIGHT };
  }
  const totalS = Math.round((durationS + 2 * CARD_SECONDS) * 1000) / 1000;
  const videoKbps = fitVideoKbps(totalS, options.maxBytes);
  if (videoKbps === null) throw new PackPlanError(`no bitrate ≥ ${PACK_MIN_VIDEO_KBPS} kb/s fits ${options.maxBytes} bytes for ${totalS} s`);
  return {
    ...packFrameRate(probe),
    oa,
    vertical,
    deinterlace: deinterlaceFilter(probe),
    tonemap: probe.isHdr && options.caps.hdrTonemap,
    durationS: Math.round(durationS * 1000) / 1000,
    totalS,
    videoKbps,
  };
}

/** One line of a title card or cover, laid out (pure). */
export interface CardLine {
  readonly text: string;
  readonly fontSize: number;
  /** Top of the line, px. */
  readonly y: number;
  readonly bold: boolean;
  readonly colour: string;
}

export interface CardBlock {
  readonly text: string;
  /** Relative size: 1 = body. */
  readonly scale: number;
  readonly bold?: boolean;
  readonly accent?: boolean;
}

/** Width of a string in ems: CJK and full-width characters 1, others ~0.55. */
export function textEms(text: string): number {
  let ems = 0;
  for (const ch of text) ems += /[\u2E80-\uFFEF]/.test(ch) ? 1 : 0.55;
  return ems;
}

/** Breaks `text` into lines of at most `maxEms` (by character; Chinese has no spaces to break at). */
export function wrapEms(text: string, maxEms: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const ch of text) {
    if (line && textEms(line + ch) > maxEms) {
      lines.push(line);
      line = '';
    }
    line += ch;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** Lays out blocks centred vertically on a card of width×height; font sizes follow the short side. */
export function layoutCard(blocks: readonly CardBlock[], width: number, height: number): CardLine[] {
  const body = Math.max(12, Math.round(Math.min(width, height * 0.75) / 18));
  const maxWidth = width * 0.84;
  const lines: Array<Omit<CardLine, 'y'> & { gap: number }> = [];
  for (const b of blocks) {
    const fontSize = Math.round(body * b.scale);
    const wrapped = wrapEms(b.text.trim(), Math.max(4, Math.floor(maxWidth / fontSize)));
    wrapped.forEach((text, i) =>
      lines.push({
        text,
        fontSize,
        bold: Boolean(b.bold),
        colour: b.accent ? PACK_TITLE_COLOUR : 'white',
        gap: i === 0 ? Math.round(fontSize * 0.6) : Math.round(fontSize * 0.25),
      }),
    );
  }
  const total = lines.reduce((sum, l, i) => sum + l.fontSize + (i === 0 ? 0 : l.gap), 0);
  let y = Math.round((height - total) / 2);
  return lines.map((l, i) => {
    if (i > 0) y += l.gap;
    const line: CardLine = { text: l.text, fontSize: l.fontSize, bold: l.bold, colour: l.colour, y };
    y += l.fontSize;
    return line;
  });
}

/** A laid-out line with the file its text was written to. */
export interface DrawLine extends CardLine {
  readonly file: string;
}

export interface PackFonts {
  readonly regular: string;
  readonly bold: string;
}

/** A path that can stand in a filter graph unquoted (server-made: letters, digits, / . _ - @ +). */
export function filterPath(p: string): string {
  if (!/^\/[A-Za-z0-9/._@+-]+$/.test(p)) throw new Error(`path not usable in a filter graph: ${JSON.stringify(p)}`);
  return p;
}

/** drawtext filters for laid-out lines (text from files, no expansion: nothing in the text is interpreted). */
export function drawtextFilters(lines: readonly DrawLine[], fonts: PackFonts): string[] {
  return lines.map(
    (l) =>
      `drawtext=fontfile=${filterPath(l.bold ? fonts.bold : fonts.regular)}:textfile=${filterPath(l.file)}:expansion=none:fontsize=${l.fontSize}` +
      `:fontcolor=${l.colour}:x=(w-text_w)/2:y=${l.y}:shadowcolor=black@0.45:shadowx=2:shadowy=2`,
  );
}

/** The drawing of the four title cards and two covers, with their text files. */
export interface PackTexts {
  readonly oaOpening: readonly DrawLine[];
  readonly oaClosing: readonly DrawLine[];
  readonly verticalOpening: readonly DrawLine[];
  readonly verticalClosing: readonly DrawLine[];
  /** The song title on each cover's band. */
  readonly coverWide: readonly DrawLine[];
  readonly coverSquare: readonly DrawLine[];
}

/** A card: a coloured frame of the pack's size and rate, 3 s, with its lines. */
export function cardSource(width: number, height: number, fps: string, lines: readonly DrawLine[], fonts: PackFonts, label: string, withText = true): string {
  const chain = [
    `color=c=${PACK_CARD_COLOUR}:s=${width}x${height}:r=${fps}:d=${CARD_SECONDS}`,
    'format=yuv420p',
    ...(withText ? drawtextFilters(lines, fonts) : []),
    'setsar=1',
  ];
  return `${chain.join(',')}[${label}]`;
}

/** A cover from a poster frame: scaled to cover the size, cropped, a dark band at the bottom, the title on it. */
export function coverChain(input: string, size: { width: number; height: number }, lines: readonly DrawLine[], fonts: PackFonts, label: string): string {
  const band = Math.round(size.height * (size.width / size.height > 2 ? 0.34 : 0.2));
  return (
    // 4:4:4 before the crop: 383 lines cannot be cropped exactly in 4:2:0 (it would round to 382).
    `[${input}]scale=${size.width}:${size.height}:force_original_aspect_ratio=increase,format=yuvj444p,crop=${size.width}:${size.height},setsar=1,` +
    `drawbox=x=0:y=ih-${band}:w=iw:h=${band}:color=black@0.55:t=fill,${drawtextFilters(lines, fonts).join(',')}[${label}]`
  );
}

/** The audio chain: the loudness plan's gain, split to both videos. */
export function packAudioChain(probe: ProbeResult, plan: LoudnessPlan, durationS: number, audio?: AudioPlan | null): string {
  const d = durationS.toFixed(3);
  if (plan.mode === 'silence') {
    if (probe.hasAudio) throw new Error('silence planned for a source with audio');
    return `anullsrc=r=48000:cl=stereo:d=${d},asplit=2[oa_a][v_a]`;
  }
  if (!probe.hasAudio || probe.audioStreamIndex === null) throw new Error(`loudness plan ${plan.mode} for a source without audio`);
  if (plan.mode === 'too_quiet') throw new Error('a too-quiet source is not packed');
  const gain = plan.mode === 'linear' ? loudnormSecondPassFilter(plan, PACK_LOUDNESS) : limiterFilter(plan.gainDb, plan.ceilingDbtp);
  const index = audio?.streamIndex ?? probe.audioStreamIndex;
  return `[0:${index}]${channelFixFilter(audio?.fix ?? 'none')}${MASTER_AUDIO_PREP},${gain},aresample=48000,apad=whole_dur=${d},atrim=end=${d},asplit=2[oa_a][v_a]`;
}

export interface PackArgsOptions {
  readonly inputPath: string;
  readonly outputs: { readonly oa: string; readonly vertical: string; readonly coverWide: string; readonly coverSquare: string };
  readonly plan: PackPicturePlan;
  readonly loudness: LoudnessPlan;
  readonly audio?: AudioPlan | null;
  readonly texts: PackTexts;
  readonly fonts: PackFonts;
  /** Leave the covers out of the run (when the fallback run makes them). */
  readonly covers?: boolean;
}

export function buildPackFilterGraph(probe: ProbeResult, o: Omit<PackArgsOptions, 'inputPath' | 'outputs'>): string {
  const p = o.plan;
  const covers = o.covers !== false;
  const head = [...(p.deinterlace ? [p.deinterlace] : []), ...(p.tonemap ? [tonemapChain(probe)] : []), `fps=${p.fps}`].join(',');
  const chains: string[] = [`[0:${probe.videoStreamIndex}]${head},split=${covers ? 3 : 2}[src_oa][src_v]${covers ? '[src_c]' : ''}`];
  chains.push(`[src_oa]scale=${p.oa.width}:${p.oa.height}:out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv420p[oa_main]`);
  if (p.vertical.mode === 'fill') {
    chains.push(
      `[src_v]scale=${VERTICAL_WIDTH}:${VERTICAL_HEIGHT}:force_original_aspect_ratio=increase:out_color_matrix=bt709:out_range=tv,crop=${VERTICAL_WIDTH}:${VERTICAL_HEIGHT},setsar=1,format=yuv420p[v_main]`,
    );
  } else {
    // The fill is blurred at a quarter of the size and scaled up: the same look as gblur at full size for a fraction of the cost.
    const bw = VERTICAL_WIDTH / 4;
    const bh = VERTICAL_HEIGHT / 4;
    chains.push(
      `[src_v]split=2[v_bg0][v_fg0]`,
      `[v_bg0]scale=${bw}:${bh}:force_original_aspect_ratio=increase,crop=${bw}:${bh},boxblur=10:2,eq=brightness=-0.08,scale=${VERTICAL_WIDTH}:${VERTICAL_HEIGHT},setsar=1[v_bg]`,
      `[v_fg0]scale=${p.vertical.fgWidth}:${p.vertical.fgHeight}:out_color_matrix=bt709:out_range=tv,setsar=1[v_fg]`,
      `[v_bg][v_fg]overlay=(W-w)/2:(H-h)/2,format=yuv420p[v_main]`,
    );
  }
  if (covers) {
    const ws = posterWindowStartS(probe);
    chains.push(
      `[src_c]trim=start=${ws}:end=${ws + POSTER_WINDOW_S},blackframe=amount=0:threshold=32,metadata=mode=select:key=lavfi.blackframe.pblack:value=98:function=less,thumbnail=n=${POSTER_THUMBNAIL_FRAMES},split=2[c_w0][c_s0]`,
      coverChain('c_w0', COVER_SIZES.wide, o.texts.coverWide, o.fonts, 'c_wide'),
      coverChain('c_s0', COVER_SIZES.square, o.texts.coverSquare, o.fonts, 'c_square'),
    );
  }
  chains.push(
    cardSource(p.oa.width, p.oa.height, p.fps, o.texts.oaOpening, o.fonts, 'oa_open'),
    cardSource(p.oa.width, p.oa.height, p.fps, o.texts.oaClosing, o.fonts, 'oa_close'),
    cardSource(VERTICAL_WIDTH, VERTICAL_HEIGHT, p.fps, o.texts.verticalOpening, o.fonts, 'v_open'),
    cardSource(VERTICAL_WIDTH, VERTICAL_HEIGHT, p.fps, o.texts.verticalClosing, o.fonts, 'v_close'),
  );
  for (const s of ['s1', 's2', 's3', 's4']) chains.push(`anullsrc=r=48000:cl=stereo:d=${CARD_SECONDS}[${s}]`);
  chains.push(packAudioChain(probe, o.loudness, p.durationS, o.audio));
  chains.push(`[oa_open][s1][oa_main][oa_a][oa_close][s2]concat=n=3:v=1:a=1[oa_v][oa_out_a]`);
  chains.push(`[v_open][s3][v_main][v_a][v_close][s4]concat=n=3:v=1:a=1[v_v][v_out_a]`);
  return chains.join(';');
}

/** x264 High, progressive, bitrate-fitted, AAC 48 kHz stereo, faststart MP4. */
export function packVideoCodecArgs(plan: PackPicturePlan): string[] {
  const kbps = plan.videoKbps;
  return [
    '-c:v',
    'libx264',
    '-preset',
    PACK_X264_PRESET,
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    `${kbps}k`,
    '-maxrate',
    `${kbps}k`,
    '-bufsize',
    `${kbps * 2}k`,
    '-g',
    String(Math.round(plan.fpsValue * 2)),
    '-color_primaries',
    'bt709',
    '-color_trc',
    'bt709',
    '-colorspace',
    'bt709',
    '-c:a',
    'aac',
    '-b:a',
    `${PACK_AUDIO_KBPS}k`,
    '-ar',
    '48000',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-f',
    'mp4',
  ];
}

const coverCodecArgs = ['-frames:v', '1', '-q:v', '2', '-map_metadata', '-1', '-f', 'image2', '-update', '1'];

/** argv (without the binary) of the ONE run that makes both videos (and the covers). */
export function buildPackArgs(probe: ProbeResult, o: PackArgsOptions): string[] {
  const covers = o.covers !== false;
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-nostats',
    '-loglevel',
    'level+info',
    '-progress',
    'pipe:1',
    ...guardedInputArgs(o.inputPath, probe.demuxer),
    '-filter_complex',
    buildPackFilterGraph(probe, o),
    '-map',
    '[oa_v]',
    '-map',
    '[oa_out_a]',
    ...packVideoCodecArgs(o.plan),
    fileUrl(o.outputs.oa),
    '-map',
    '[v_v]',
    '-map',
    '[v_out_a]',
    ...packVideoCodecArgs(o.plan),
    fileUrl(o.outputs.vertical),
    ...(covers
      ? ['-map', '[c_wide]', ...coverCodecArgs, fileUrl(o.outputs.coverWide), '-map', '[c_square]', ...coverCodecArgs, fileUrl(o.outputs.coverSquare)]
      : []),
    '-max_muxing_queue_size',
    '1024',
  ];
}

/** The covers from one frame at `atS` (when the main run found no non-black poster frame). */
export function buildPackCoverFallbackArgs(
  probe: ProbeResult,
  o: { inputPath: string; atS: number; coverWide: string; coverSquare: string; plan: PackPicturePlan; texts: PackTexts; fonts: PackFonts },
): string[] {
  const head = [...(o.plan.deinterlace ? [o.plan.deinterlace] : []), ...(o.plan.tonemap ? [tonemapChain(probe)] : []), 'split=2[c_w0][c_s0]'].join(',');
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-nostats',
    '-loglevel',
    'error',
    '-ss',
    o.atS.toFixed(3),
    ...guardedInputArgs(o.inputPath, probe.demuxer),
    '-filter_complex',
    [
      `[0:${probe.videoStreamIndex}]${head}`,
      coverChain('c_w0', COVER_SIZES.wide, o.texts.coverWide, o.fonts, 'c_wide'),
      coverChain('c_s0', COVER_SIZES.square, o.texts.coverSquare, o.fonts, 'c_square'),
    ].join(';'),
    '-map',
    '[c_wide]',
    ...coverCodecArgs,
    fileUrl(o.coverWide),
    '-map',
    '[c_square]',
    ...coverCodecArgs,
    fileUrl(o.coverSquare),
  ];
}

/** ebur128 over a finished pack video's audio (our own MP4: the mp4 family only, file protocol only). */
export function buildPackMeasureArgs(file: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    'mov,mp4,m4a,3gp,3g2,mj2',
    '-i',
    fileUrl(file),
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-af',
    'ebur128=peak=true',
    '-f',
    'null',
    '-',
  ];
}

export function buildPackProbeArgs(file: string): string[] {
  return [
    '-hide_banner',
    '-v',
    'error',
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    'mov,mp4,m4a,3gp,3g2,mj2',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    fileUrl(file),
  ];
}
