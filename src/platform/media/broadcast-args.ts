/**
 * Pure argv builders for the broadcast master (MEDIA.md "Broadcast master"; DESIGN §6 "Broadcast
 * job"). No I/O; unit-tested with recorded ffprobe JSON.
 *
 * Picture (both profiles): the DISPLAY size (rotation and SAR applied; ffmpeg auto-rotates inside
 * filter_complex) is fitted into 1920×1080: 16:9 (±1 %) is scaled, narrower sources (portrait
 * phones, 4:3) are pillarboxed, wider ones letterboxed; black bars, or the blurred-background
 * recipe from MEDIA.md. Sizes are computed here, not with `-2`, because `scale=-2:1080` ignores
 * the sample aspect ratio. Then `setsar=1`, `format=yuv422p` (xdcam) / `yuv420p` (h264), then the
 * scan: the pixel format is converted BEFORE `interlace` so chroma is never resampled across
 * fields. HDR sources are tone-mapped to BT.709 when the build can (same chain as the preview).
 *
 * Rate: sources up to 30 fps (24, 25, 29.97, 30 and VFR phones) → `fps=25`; faster sources
 * (≥ 40 fps: 48/50/59.94/60/120) → `fps=50,interlace=scan=tff` for xdcam (true 50i motion) and
 * `fps=25` for the progressive h264 profile. xdcam 25p material is flagged `setfield=tff`
 * (PsF in a 50i stream), h264 `setfield=prog`.
 *
 * Audio: the first audio stream, `aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo`
 * (mono/quad/5.1 are downmixed by swresample) — the SAME prefix the ingest measures loudness
 * after, so its measurement is valid as the first pass — then the planned gain (see loudness.ts),
 * then padded/trimmed to the video's duration. No audio → `anullsrc=r=48000:cl=stereo`.
 * Every audio source in the graph is FINITE (`anullsrc=…:d=`, `apad=whole_dur=…,atrim=end=…`):
 * with an endless lavfi source inside filter_complex, ffmpeg 5.1's `-shortest` never stops
 * (observed: a 3 s clip ran for minutes, memory growing, until killed). `-shortest` is kept as well.
 */
import type { MediaCapabilities } from './binaries';
import { fileUrl, guardedInputArgs } from './input-guard';
import type { LoudnessPlan } from './loudness';
import { BROADCAST_LOUDNESS } from './loudness';
import type { ProbeResult } from './probe';
import { channelFixFilter, type AudioPlan } from './source-analysis';

export type BroadcastProfile = 'xdcam-hd422' | 'h264-1080p25';
export type PillarboxStyle = 'black' | 'blur';

export const BROADCAST_PROFILES = ['xdcam-hd422', 'h264-1080p25'] as const satisfies readonly BroadcastProfile[];

/** What each profile's master must be; used by the builders and by the final verification. */
export interface BroadcastProfileSpec {
  readonly extension: 'mxf' | 'mp4';
  /** ffprobe `format_name` of the master, and the demuxer allowed when reading it back. */
  readonly formatName: string;
  readonly formatWhitelist: string;
  readonly videoCodec: 'mpeg2video' | 'h264';
  readonly videoProfile: string;
  readonly pixFmt: 'yuv422p' | 'yuv420p';
  /** ffprobe `field_order`. */
  readonly fieldOrder: 'tt' | 'progressive';
  readonly audioCodec: 'pcm_s24le' | 'aac';
  /** dB kept below −2 dBTP when planning the gain (AAC adds a little peak; PCM does not). */
  readonly truePeakHeadroomDb: number;
}

export const BROADCAST_PROFILE_SPECS: Readonly<Record<BroadcastProfile, BroadcastProfileSpec>> = Object.freeze({
  'xdcam-hd422': {
    extension: 'mxf',
    formatName: 'mxf',
    formatWhitelist: 'mxf',
    videoCodec: 'mpeg2video',
    videoProfile: '4:2:2',
    pixFmt: 'yuv422p',
    fieldOrder: 'tt',
    audioCodec: 'pcm_s24le',
    truePeakHeadroomDb: 0.5,
  },
  'h264-1080p25': {
    extension: 'mp4',
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    formatWhitelist: 'mov,mp4,m4a,3gp,3g2,mj2',
    videoCodec: 'h264',
    videoProfile: 'High',
    pixFmt: 'yuv420p',
    fieldOrder: 'progressive',
    audioCodec: 'aac',
    truePeakHeadroomDb: 1,
  },
});

export const MASTER_WIDTH = 1920;
export const MASTER_HEIGHT = 1080;
export const MASTER_FPS = 25;
/** Sources at or above this rate are treated as 50/60p (motion kept as 50 fields in xdcam). */
export const HIGH_RATE_MIN_FPS = 40;
/** Same mix the ingest measures (ingest-args.ts): keep them identical. */
export const MASTER_AUDIO_PREP = 'aresample=48000,aformat=sample_rates=48000:channel_layouts=stereo';
export const EBUR128_PEAK_FILTER = 'ebur128=peak=true';
/** Limiter oversampling rate: alimiter is a sample-peak limiter; at 4× it limits true peak. */
export const LIMITER_SAMPLE_RATE = 192000;
const BLUR_SIGMA = 30;

export interface MasterPicturePlan {
  readonly fit: 'scale' | 'pillarbox' | 'letterbox';
  /** The picture inside the 1920×1080 frame. */
  readonly contentWidth: number;
  readonly contentHeight: number;
  readonly pillarbox: PillarboxStyle;
  /** Rate of the `fps` filter (50 only for xdcam from 50/60p sources). */
  readonly fps: 25 | 50;
  /**
   * - `native-tff`: a 50i source kept as it is — its own fields, no deinterlace/re-interlace round
   *   trip. Only when the source is 1080 lines and 16:9 (AVCHD, HDV 1440×1080, XDCAM), so the
   *   scaler works horizontally only, field-aware (`interl=1`); a BFF source is turned TFF with
   *   `fieldorder=tff` (a one-line shift of the picture, the standard way to change dominance).
   * - `interlace-tff`: 50 frames/s woven into 50i — 50/60p sources, and interlaced sources that
   *   need a vertical resize or a rate change (576i/480i SD, 60i): those are first made 50/60p with
   *   `bwdif=mode=send_field` (every field becomes a frame), scaled as pictures, re-interlaced.
   *   Scaling fields separately instead (`interl=1` on 288-line fields) puts the two fields'
   *   lines at the wrong heights relative to each other (visible line twitter).
   * - `psf-tff`: 25p in a 50i stream (both fields of a frame from the same moment).
   */
  readonly scan: 'psf-tff' | 'interlace-tff' | 'native-tff' | 'progressive';
  /** How an interlaced source is deinterlaced before the chain (none for native-tff/progressive sources). */
  readonly deinterlace: 'none' | 'send_field' | 'send_frame';
  /** A BFF source made TFF with `fieldorder=tff` (native-tff only). */
  readonly fieldOrderFix: boolean;
  readonly tonemap: boolean;
  readonly tonemapSkipped: boolean;
}

const even = (value: number): number => Math.max(2, Math.round(value / 2) * 2);

export function planMasterPicture(
  probe: ProbeResult,
  options: { profile: BroadcastProfile; pillarbox: PillarboxStyle; caps: Pick<MediaCapabilities, 'hdrTonemap'> },
): MasterPicturePlan {
  const dw = probe.displayWidth > 0 ? probe.displayWidth : MASTER_WIDTH;
  const dh = probe.displayHeight > 0 ? probe.displayHeight : MASTER_HEIGHT;
  const aspect = dw / dh;
  const target = MASTER_WIDTH / MASTER_HEIGHT;
  let fit: MasterPicturePlan['fit'];
  let contentWidth = MASTER_WIDTH;
  let contentHeight = MASTER_HEIGHT;
  if (Math.abs(aspect / target - 1) <= 0.01) {
    fit = 'scale';
  } else if (aspect < target) {
    fit = 'pillarbox';
    contentWidth = Math.min(MASTER_WIDTH, even(MASTER_HEIGHT * aspect));
  } else {
    fit = 'letterbox';
    contentHeight = Math.min(MASTER_HEIGHT, even(MASTER_WIDTH / aspect));
  }
  const xdcam = options.profile === 'xdcam-hd422';
  const interlaced = probe.scan.interlaced;
  const pal = Math.abs(probe.fps - 25) <= 0.25;
  const native = xdcam && interlaced && pal && fit === 'scale' && probe.height === MASTER_HEIGHT;
  // An interlaced source's motion is its FIELD rate (50i = 50 moments per second).
  const high = probe.fps >= HIGH_RATE_MIN_FPS || (interlaced && !native);
  const deinterlace: MasterPicturePlan['deinterlace'] = !interlaced || native ? 'none' : xdcam ? 'send_field' : 'send_frame';
  return {
    fit,
    contentWidth,
    contentHeight,
    pillarbox: options.pillarbox,
    fps: xdcam && high ? 50 : 25,
    scan: !xdcam ? 'progressive' : native ? 'native-tff' : high ? 'interlace-tff' : 'psf-tff',
    deinterlace,
    fieldOrderFix: native && probe.scan.order === 'bff',
    tonemap: probe.isHdr && options.caps.hdrTonemap,
    tonemapSkipped: probe.isHdr && !options.caps.hdrTonemap,
  };
}

/** zscale-based HDR (PQ/HLG) → SDR BT.709 chain, as the preview uses (ingest-args.ts). */
function tonemapChain(probe: ProbeResult): string {
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

/** Duration the master's audio is padded/trimmed to: the video's. */
export function masterDurationS(probe: ProbeResult): number {
  const d = probe.videoDurationS ?? probe.durationS;
  if (d === null || !(d > 0)) throw new Error('source duration unknown: cannot bound the master audio');
  return Math.round(d * 1000) / 1000;
}

/** The video chains of the graph, ending in [vout]. */
export function buildMasterVideoGraph(probe: ProbeResult, plan: MasterPicturePlan, profile: BroadcastProfile): string[] {
  const spec = BROADCAST_PROFILE_SPECS[profile];
  // native-tff: the scaler (also doing 4:2:0 → 4:2:2) keeps the two fields apart.
  const fieldAware = plan.scan === 'native-tff' ? ':interl=1' : '';
  const scale = (w: number, h: number): string => `scale=${w}:${h}${fieldAware}:out_color_matrix=bt709:out_range=tv`;
  const parity = probe.scan.order === 'bff' ? 'bff' : 'tff';
  const head = [
    ...(plan.deinterlace !== 'none' ? [`bwdif=mode=${plan.deinterlace}:parity=${parity}:deint=all`] : []),
    // The order found (stream header or frame flags) is stated on the frames, then changed.
    ...(plan.fieldOrderFix ? ['setfield=bff', 'fieldorder=tff'] : []),
    ...(plan.tonemap ? [tonemapChain(probe)] : []),
    `fps=${plan.fps}`,
  ].join(',');
  const tail = [
    'setsar=1',
    `format=${spec.pixFmt}`,
    plan.scan === 'interlace-tff' ? 'interlace=scan=tff' : plan.scan === 'psf-tff' || plan.scan === 'native-tff' ? 'setfield=tff' : 'setfield=prog',
  ].join(',');
  const input = `[0:${probe.videoStreamIndex}]`;
  if (plan.fit === 'scale') {
    return [`${input}${head},${scale(MASTER_WIDTH, MASTER_HEIGHT)},${tail}[vout]`];
  }
  if (plan.pillarbox === 'black') {
    return [`${input}${head},${scale(plan.contentWidth, plan.contentHeight)},pad=${MASTER_WIDTH}:${MASTER_HEIGHT}:(ow-iw)/2:(oh-ih)/2:black,${tail}[vout]`];
  }
  // Blurred background (MEDIA.md): the picture scaled to cover the frame, cropped, blurred; the
  // fitted picture overlaid in the middle.
  return [
    `${input}${head},split=2[fgsrc][bgsrc]`,
    `[bgsrc]scale=${MASTER_WIDTH}:${MASTER_HEIGHT}:force_original_aspect_ratio=increase,crop=${MASTER_WIDTH}:${MASTER_HEIGHT},gblur=sigma=${BLUR_SIGMA}[bg]`,
    `[fgsrc]${scale(plan.contentWidth, plan.contentHeight)}[fg]`,
    `[bg][fg]overlay=(W-w)/2:(H-h)/2,${tail}[vout]`,
  ];
}

/** loudnorm's second pass (linear) as MEDIA.md gives it. */
export function loudnormSecondPassFilter(plan: Extract<LoudnessPlan, { mode: 'linear' }>, targets = BROADCAST_LOUDNESS): string {
  const m = plan.loudnorm;
  return [
    `loudnorm=I=${targets.targetI}:TP=${targets.targetTP}:LRA=${targets.maxLRA}`,
    `measured_I=${m.measuredI}:measured_TP=${m.measuredTP}:measured_LRA=${m.measuredLRA}:measured_thresh=${m.measuredThresh}`,
    `offset=${m.offset}:linear=true:print_format=json`,
  ].join(':');
}

/** Constant gain + a 4×-oversampled lookahead limiter (see loudness.ts). */
export function limiterFilter(gainDb: number, ceilingDbtp: number): string {
  const limit = Math.pow(10, ceilingDbtp / 20).toFixed(4);
  // level=0: alimiter's default "auto level" would scale the output back up to full scale.
  // latency=1: compensate the 5 ms lookahead so sound stays in sync with the picture.
  return `volume=${gainDb.toFixed(2)}dB,aresample=${LIMITER_SAMPLE_RATE},alimiter=limit=${limit}:level=0:latency=1:attack=5:release=50`;
}

/** The audio chain of the graph, ending in [aout]. */
export function buildMasterAudioGraph(probe: ProbeResult, plan: LoudnessPlan, durationS: number, audio?: AudioPlan | null): string {
  const d = durationS.toFixed(3);
  if (plan.mode === 'silence') {
    if (probe.hasAudio) throw new Error('silence planned for a source with audio');
    return `anullsrc=r=48000:cl=stereo:d=${d}[aout]`;
  }
  if (!probe.hasAudio || probe.audioStreamIndex === null) throw new Error(`loudness plan ${plan.mode} for a source without audio`);
  if (plan.mode === 'too_quiet') throw new Error('a too-quiet source is not mastered (flag it for a person)');
  const gain = plan.mode === 'linear' ? loudnormSecondPassFilter(plan) : limiterFilter(plan.gainDb, plan.ceilingDbtp);
  const index = audio?.streamIndex ?? probe.audioStreamIndex;
  return `[0:${index}]${channelFixFilter(audio?.fix ?? 'none')}${MASTER_AUDIO_PREP},${gain},aresample=48000,apad=whole_dur=${d},atrim=end=${d}[aout]`;
}

export interface MasterArgsOptions {
  readonly inputPath: string;
  readonly outputPath: string;
  readonly profile: BroadcastProfile;
  readonly pillarbox: PillarboxStyle;
  /** From planLoudness; `too_quiet` is refused. */
  readonly loudness: LoudnessPlan;
  readonly caps: Pick<MediaCapabilities, 'hdrTonemap'>;
  /** Track and channel fix (source-analysis.ts), the same the ingest measured loudness with. */
  readonly audio?: AudioPlan | null;
}

export function buildMasterFilterGraph(probe: ProbeResult, options: Omit<MasterArgsOptions, 'inputPath' | 'outputPath'>): string {
  const plan = planMasterPicture(probe, options);
  return [...buildMasterVideoGraph(probe, plan, options.profile), buildMasterAudioGraph(probe, options.loudness, masterDurationS(probe), options.audio)].join(
    ';',
  );
}

/** argv (without the binary) of the ONE encode that makes the master. */
export function buildMasterArgs(probe: ProbeResult, options: MasterArgsOptions): string[] {
  const codec =
    options.profile === 'xdcam-hd422'
      ? [
          '-c:v',
          'mpeg2video',
          '-b:v',
          '50M',
          '-minrate',
          '50M',
          '-maxrate',
          '50M',
          '-bufsize',
          '17825792',
          '-rc_init_occupancy',
          '17825792',
          '-g',
          '12',
          '-bf',
          '2',
          '-flags',
          '+ildct+ilme',
          '-top',
          '1',
          '-color_primaries',
          'bt709',
          '-color_trc',
          'bt709',
          '-colorspace',
          'bt709',
          '-c:a',
          'pcm_s24le',
          '-ar',
          '48000',
          '-ac',
          '2',
          '-f',
          'mxf',
        ]
      : [
          '-c:v',
          'libx264',
          '-preset',
          'medium',
          '-crf',
          '16',
          '-maxrate',
          '25M',
          '-bufsize',
          '50M',
          '-profile:v',
          'high',
          '-pix_fmt',
          'yuv420p',
          '-color_primaries',
          'bt709',
          '-color_trc',
          'bt709',
          '-colorspace',
          'bt709',
          '-c:a',
          'aac',
          '-b:a',
          '320k',
          '-ar',
          '48000',
          '-ac',
          '2',
          '-movflags',
          '+faststart',
          '-f',
          'mp4',
        ];
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-nostats',
    // info: loudnorm prints its JSON there (read back to confirm it stayed linear).
    '-loglevel',
    'level+info',
    '-progress',
    'pipe:1',
    ...guardedInputArgs(options.inputPath, probe.demuxer),
    '-filter_complex',
    buildMasterFilterGraph(probe, options),
    '-map',
    '[vout]',
    '-map',
    '[aout]',
    ...codec,
    '-shortest',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-max_muxing_queue_size',
    '1024',
    fileUrl(options.outputPath),
  ];
}

/**
 * loudnorm's first pass, audio only (`-vn`: the video is demuxed but never decoded), on the same
 * stereo 48 kHz mix the master carries.
 */
export function buildLoudnessMeasureArgs(probe: ProbeResult, inputPath: string, targets = BROADCAST_LOUDNESS, audio?: AudioPlan | null): string[] {
  if (!probe.hasAudio || probe.audioStreamIndex === null) throw new Error('no audio stream to measure');
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    '-progress',
    'pipe:1',
    ...guardedInputArgs(inputPath, probe.demuxer),
    '-map',
    `0:${audio?.streamIndex ?? probe.audioStreamIndex}`,
    '-vn',
    '-sn',
    '-dn',
    '-af',
    `${channelFixFilter(audio?.fix ?? 'none')}${MASTER_AUDIO_PREP},loudnorm=I=${targets.targetI}:TP=${targets.targetTP}:LRA=${targets.maxLRA}:print_format=json`,
    '-f',
    'null',
    '-',
  ];
}

/**
 * The verification measurement of a finished master: `ebur128=peak=true` on its first audio
 * stream, audio only. The master is OUR file, in a container uploads may not use (MXF), so it is
 * read with its own one-format whitelist (file protocol only), not the upload guard.
 */
export function buildMasterMeasureArgs(masterPath: string, profile: BroadcastProfile): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    BROADCAST_PROFILE_SPECS[profile].formatWhitelist,
    '-i',
    fileUrl(masterPath),
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-af',
    EBUR128_PEAK_FILTER,
    '-f',
    'null',
    '-',
  ];
}

/** ffprobe argv for reading back a master (same one-format whitelist). */
export function buildMasterProbeArgs(masterPath: string, profile: BroadcastProfile): string[] {
  return [
    '-hide_banner',
    '-v',
    'error',
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    BROADCAST_PROFILE_SPECS[profile].formatWhitelist,
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    fileUrl(masterPath),
  ];
}
