/**
 * Camcorder and older-device clips for tests, generated with ffmpeg (no binary fixtures), 2 s each.
 * Interlaced clips are made from 50p `testsrc2` (which moves) woven into fields with
 * `interlace=scan=tff|bff`, so each field is a different moment — as a camera records 50i, and as
 * `idet` recognises it.
 *
 * | kind          | container            | picture                                         | sound |
 * |---------------|----------------------|-------------------------------------------------|-------|
 * | avchd-mts     | MPEG-TS 188 (.MTS)   | H.264 1920×1080 50i TFF                          | AC-3 stereo |
 * | avchd-m2ts    | M2TS 192 (.M2TS)     | H.264 1440×1080 SAR 4:3 50i TFF (AVCHD LP)       | AC-3 stereo |
 * | hdv-m2t       | MPEG-TS 188 (.M2T)   | MPEG-2 1440×1080 SAR 4:3 50i TFF (HDV)           | MP2 stereo |
 * | dvd-vob       | MPEG-PS (.VOB)       | MPEG-2 720×576 16:9 (SAR 64:45) 50i TFF          | AC-3 stereo |
 * | dv-avi        | AVI                  | DV 720×576 16:9 (SAR 64:45) 50i BFF              | PCM s16 stereo |
 * | dv-raw        | raw DV (.dv)         | DV 720×576 4:3 (SAR 16:15) 50i BFF               | PCM s16 stereo |
 * | xdcam-mxf     | MXF OP1a             | MPEG-2 4:2:2 1920×1080 50i TFF                   | 2 mono PCM tracks, the FIRST silent |
 * | phone-3gp     | 3GP                  | H.264 320×240 15 fps                             | AAC mono |
 * | one-sided     | MOV                  | H.264 320×240 25p                                | PCM stereo, left only |
 * | phase-cancel  | MOV                  | H.264 320×240 25p                                | PCM stereo, R = −L |
 * | clipped       | MOV                  | H.264 320×240 25p                                | PCM stereo, 1.5 s hard-clipped |
 * | extra-tracks  | MOV                  | H.264 320×240 25p + timecode + subtitle tracks   | track 1 silent, track 2 tone |
 * | bff-1080i     | MPEG-TS 188          | H.264 1920×1080 50i BFF                          | AC-3 stereo |
 * | camera-clock  | MPEG-TS 188          | H.264 320×240 25p, timestamps from 10 h (a camcorder's running clock) | AC-3 stereo |
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries } from '../../src/platform/media/binaries';

export const CAMCORDER_KINDS = [
  'avchd-mts',
  'avchd-m2ts',
  'hdv-m2t',
  'dvd-vob',
  'dv-avi',
  'dv-raw',
  'xdcam-mxf',
  'phone-3gp',
  'one-sided',
  'phase-cancel',
  'clipped',
  'extra-tracks',
  'bff-1080i',
  'camera-clock',
] as const;
export type CamcorderKind = (typeof CAMCORDER_KINDS)[number];

export const CAMCORDER_EXTENSION: Readonly<Record<CamcorderKind, string>> = {
  'avchd-mts': 'MTS',
  'avchd-m2ts': 'M2TS',
  'hdv-m2t': 'M2T',
  'dvd-vob': 'VOB',
  'dv-avi': 'AVI',
  'dv-raw': 'dv',
  'xdcam-mxf': 'MXF',
  'phone-3gp': '3gp',
  'one-sided': 'mov',
  'phase-cancel': 'mov',
  clipped: 'mov',
  'extra-tracks': 'mov',
  'bff-1080i': 'MTS',
  'camera-clock': 'MTS',
};

const run = promisify(execFile);
const cache = new Map<string, Promise<string>>();
const D = '2';

async function ffmpeg(args: string[]): Promise<void> {
  const { ffmpeg: bin } = resolveMediaBinaries();
  await run(bin, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { maxBuffer: 4 * 1024 * 1024 });
}

/** Path of a clip of `kind` inside `dir`; generated once per process. */
export function makeCamcorderClip(kind: CamcorderKind, dir: string): Promise<string> {
  const key = `${path.resolve(dir)}\0${kind}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = generate(kind, path.resolve(dir));
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

/** 50 moments per second at `size`, woven into 25 interlaced frames (`order` first); then a stereo tone. */
const fields = (size: string, order: 'tff' | 'bff', extra = ''): string[] => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=50:duration=${D}`,
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${D}`,
  '-vf',
  `interlace=scan=${order}${extra}`,
  '-ac',
  '2',
];
const progressive = (size: string, rate = 25): string[] => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${D}`];
const x264Interlaced = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-flags', '+ildct+ilme', '-x264opts', 'tff=1', '-b:v', '6M'];
const mpeg2Interlaced = (bitrate: string, pixFmt = 'yuv420p'): string[] => [
  '-c:v',
  'mpeg2video',
  '-pix_fmt',
  pixFmt,
  '-flags',
  '+ildct+ilme',
  '-top',
  '1',
  '-b:v',
  bitrate,
  '-maxrate',
  bitrate,
  '-bufsize',
  '4M',
];
const smallH264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const tone = (freq = 440): string => `sine=frequency=${freq}:sample_rate=48000:duration=${D}`;

async function generate(kind: CamcorderKind, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, `cam-${kind}.${CAMCORDER_EXTENSION[kind]}`);
  switch (kind) {
    case 'avchd-mts':
      await ffmpeg([...fields('1920x1080', 'tff'), ...x264Interlaced, '-c:a', 'ac3', '-b:a', '192k', '-f', 'mpegts', out]);
      break;
    case 'avchd-m2ts':
      await ffmpeg([
        ...fields('1440x1080', 'tff', ',setsar=4/3'),
        ...x264Interlaced,
        '-c:a',
        'ac3',
        '-b:a',
        '192k',
        '-f',
        'mpegts',
        '-mpegts_m2ts_mode',
        '1',
        out,
      ]);
      break;
    case 'hdv-m2t':
      await ffmpeg([...fields('1440x1080', 'tff', ',setsar=4/3'), ...mpeg2Interlaced('12M'), '-c:a', 'mp2', '-b:a', '192k', '-f', 'mpegts', out]);
      break;
    case 'dvd-vob':
      await ffmpeg([...fields('720x576', 'tff', ',setdar=16/9'), ...mpeg2Interlaced('5M'), '-c:a', 'ac3', '-b:a', '192k', '-f', 'vob', out]);
      break;
    case 'dv-avi':
      await ffmpeg([...fields('720x576', 'bff', ',setdar=16/9'), '-c:v', 'dvvideo', '-pix_fmt', 'yuv420p', '-c:a', 'pcm_s16le', '-f', 'avi', out]);
      break;
    case 'dv-raw':
      await ffmpeg([...fields('720x576', 'bff', ',setdar=4/3'), '-c:v', 'dvvideo', '-pix_fmt', 'yuv420p', '-c:a', 'pcm_s16le', '-f', 'dv', out]);
      break;
    case 'xdcam-mxf':
      // Professional cameras write one mono PCM track per input: the mic is on input 2 here.
      await ffmpeg([
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=1920x1080:rate=50:duration=${D}`,
        '-f',
        'lavfi',
        '-i',
        `anullsrc=r=48000:cl=mono:d=${D}`,
        '-f',
        'lavfi',
        '-i',
        tone(),
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-map',
        '2:a',
        '-vf',
        'interlace=scan=tff',
        ...mpeg2Interlaced('15M', 'yuv422p'),
        '-c:a',
        'pcm_s24le',
        '-f',
        'mxf',
        out,
      ]);
      break;
    case 'phone-3gp':
      await ffmpeg([...progressive('320x240', 15), '-f', 'lavfi', '-i', tone(), ...smallH264, '-c:a', 'aac', '-ac', '1', '-ar', '16000', '-f', '3gp', out]);
      break;
    case 'one-sided':
      await ffmpeg([
        ...progressive('320x240'),
        '-f',
        'lavfi',
        '-i',
        tone(),
        '-filter_complex',
        '[1:a]pan=stereo|c0=c0|c1=0*c0[a]',
        '-map',
        '0:v',
        '-map',
        '[a]',
        ...smallH264,
        '-c:a',
        'pcm_s16le',
        out,
      ]);
      break;
    case 'phase-cancel':
      await ffmpeg([
        ...progressive('320x240'),
        '-f',
        'lavfi',
        '-i',
        tone(),
        '-filter_complex',
        '[1:a]pan=stereo|c0=c0|c1=-1*c0[a]',
        '-map',
        '0:v',
        '-map',
        '[a]',
        ...smallH264,
        '-c:a',
        'pcm_s16le',
        out,
      ]);
      break;
    case 'clipped':
      // 0.5 s clean, then 1.5 s pushed +24 dB into the s16 rails (a singer too close to the mic).
      await ffmpeg([
        ...progressive('320x240'),
        '-f',
        'lavfi',
        '-i',
        tone(),
        '-filter_complex',
        "[1:a]volume='if(lt(t,0.5),1,16)':eval=frame,aformat=sample_fmts=s16,pan=stereo|c0=c0|c1=c0[a]",
        '-map',
        '0:v',
        '-map',
        '[a]',
        ...smallH264,
        '-c:a',
        'pcm_s16le',
        out,
      ]);
      break;
    case 'extra-tracks':
      await ffmpeg([
        ...progressive('320x240'),
        '-f',
        'lavfi',
        '-i',
        `anullsrc=r=48000:cl=stereo:d=${D}`,
        '-f',
        'lavfi',
        '-i',
        tone(),
        '-f',
        'srt',
        '-i',
        'data:text/plain;base64,' + Buffer.from('1\n00:00:00,000 --> 00:00:01,500\n字幕 subtitle\n').toString('base64'),
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-map',
        '2:a',
        '-map',
        '3:s',
        ...smallH264,
        '-c:a',
        'aac',
        '-ac',
        '2',
        '-c:s',
        'mov_text',
        '-timecode',
        '10:00:00:00',
        out,
      ]);
      break;
    case 'bff-1080i':
      await ffmpeg([
        ...fields('1920x1080', 'bff'),
        ...x264Interlaced.map((a) => (a === 'tff=1' ? 'bff=1' : a)),
        '-c:a',
        'ac3',
        '-b:a',
        '192k',
        '-f',
        'mpegts',
        out,
      ]);
      break;
    case 'camera-clock':
      await ffmpeg([
        ...progressive('320x240'),
        '-f',
        'lavfi',
        '-i',
        tone(),
        ...smallH264,
        '-c:a',
        'ac3',
        '-ac',
        '2',
        '-output_ts_offset',
        '36000',
        '-f',
        'mpegts',
        out,
      ]);
      break;
  }
  return out;
}
