/**
 * Small generated video clips for tests (docs/media.md: no binary fixtures in the repo).
 *
 *   const path = await makeClip('portrait', dir);
 *
 * Every clip is 3 s, ≤ 320×426, made with ffmpeg lavfi `testsrc2` + `sine`, and carries a
 * `title=SCHOOL-SECRET-TITLE` tag (so tests can check metadata is stripped). Clips are cached per
 * test process by (kind, dir): asking twice returns the same file. Uses the same ffmpeg the app
 * would (`resolveMediaBinaries()`), which needs libx264 and, for 'hevc10-hlg', libx265.
 *
 * Kinds (what each one is for):
 * - landscape     320×240 H.264 30 fps + AAC 440 Hz (the happy path)
 * - portrait      240×426 H.264 + AAC
 * - rotated       320×240 frames with a 90° rotation flag (remuxed `-metadata:s:v:0 rotate=90 -c copy`)
 * - hevc10-hlg    320×240 HEVC Main10 yuv420p10le `hvc1` in .mov, tagged HLG/BT.2020 (HDR path)
 * - vfr           variable frame rate (frames dropped with `select`, `-vsync vfr`): avg ≠ r
 * - odd           321×241 (H.264 4:4:4, the only x264 mode that allows odd sizes)
 * - no-audio      landscape without an audio track
 * - quiet         landscape with audio at ≈ −50 LUFS
 * - silent        landscape with a digitally silent audio track
 * - black         black picture + tone
 * - corrupt       a faststart MP4 with three 3 KB runs of garbage inside mdat (decodes, with errors)
 * - truncated     a non-faststart MP4 cut in half (moov lost)
 * - zero          0 bytes, named .mp4
 * - text          a text file named .mp4
 * - m3u8          an HLS playlist referencing /etc/passwd, named .mp4
 * - avi           a real AVI (MPEG-4 Part 2 + PCM, as older cameras write it)
 * - loud-clipping 320×240 + a 440 Hz tone pushed to +6 dBFS and hard-clipped (s16), ≈ −2 LUFS
 * - quiet-40      landscape with audio at ≈ −40 LUFS (needs +16 dB for broadcast)
 * - fps50         1280×720 at 50 fps + AAC
 * - peaky         landscape; a −34 LUFS tone with a −5 dBTP click every 0.5 s (PLR ≈ 28 dB: linear gain
 *                 to −24 LUFS would push the true peak over −2 dBTP)
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries } from '../../src/platform/media/binaries';

export const CLIP_KINDS = [
  'landscape',
  'portrait',
  'rotated',
  'hevc10-hlg',
  'vfr',
  'odd',
  'no-audio',
  'quiet',
  'silent',
  'black',
  'corrupt',
  'truncated',
  'zero',
  'text',
  'm3u8',
  'avi',
  'loud-clipping',
  'quiet-40',
  'fps50',
  'peaky',
] as const;
export type ClipKind = (typeof CLIP_KINDS)[number];

export const CLIP_TITLE = 'SCHOOL-SECRET-TITLE';
export const CLIP_DURATION_S = 3;

const run = promisify(execFile);
const cache = new Map<string, Promise<string>>();

/** Path of a clip of `kind` inside `dir` (created if needed); generated once per process. */
export function makeClip(kind: ClipKind, dir: string): Promise<string> {
  const key = `${path.resolve(dir)}\0${kind}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = generate(kind, path.resolve(dir));
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

const D = String(CLIP_DURATION_S);
const tone = (volumeDb = 0): string[] => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${D}`,
  ...(volumeDb ? ['-af', `volume=${volumeDb}dB`] : []),
];
const picture = (size: string, rate = 30): string[] => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${D}`];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const aac = ['-c:a', 'aac', '-b:a', '96k'];
const tagged = ['-metadata', `title=${CLIP_TITLE}`];

async function ffmpeg(args: string[]): Promise<void> {
  const { ffmpeg: bin } = resolveMediaBinaries();
  await run(bin, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { maxBuffer: 4 * 1024 * 1024 });
}

async function generate(kind: ClipKind, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const ext = kind === 'hevc10-hlg' ? 'mov' : kind === 'avi' ? 'avi' : 'mp4';
  const out = path.join(dir, `clip-${kind}.${ext}`);
  const tmp = path.join(dir, `clip-${kind}.tmp.${ext}`);
  switch (kind) {
    case 'landscape':
      await ffmpeg([...picture('320x240'), ...tone(), ...h264, ...aac, ...tagged, '-shortest', out]);
      break;
    case 'portrait':
      await ffmpeg([...picture('240x426'), ...tone(), ...h264, ...aac, ...tagged, '-shortest', out]);
      break;
    case 'rotated':
      await ffmpeg([...picture('320x240'), ...tone(), ...h264, ...aac, ...tagged, '-shortest', tmp]);
      // `-display_rotation` does not exist in 5.1; the rotate tag only sticks when stream-copying.
      await ffmpeg(['-i', tmp, '-map', '0', '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);
      await rm(tmp, { force: true });
      break;
    case 'hevc10-hlg':
      await ffmpeg([
        ...picture('320x240'),
        ...tone(),
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p10le',
        '-x265-params',
        'log-level=error',
        '-tag:v',
        'hvc1',
        '-color_primaries',
        'bt2020',
        '-color_trc',
        'arib-std-b67',
        '-colorspace',
        'bt2020nc',
        ...aac,
        ...tagged,
        '-shortest',
        out,
      ]);
      break;
    case 'vfr':
      // Drop 4 of every 10 frames and keep the gaps: r_frame_rate 30, avg ≈ 18.
      await ffmpeg([
        ...picture('320x240'),
        ...tone(),
        '-vf',
        "select='not(between(mod(n\\,10)\\,3\\,6))'",
        '-vsync',
        'vfr',
        ...h264,
        ...aac,
        ...tagged,
        '-shortest',
        out,
      ]);
      break;
    case 'odd':
      await ffmpeg([...picture('321x241'), ...tone(), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', ...aac, ...tagged, '-shortest', out]);
      break;
    case 'no-audio':
      await ffmpeg([...picture('320x240'), ...h264, ...tagged, out]);
      break;
    case 'quiet':
      // sine's default amplitude measures ≈ −21.8 LUFS (as stereo); −28 dB puts it near −50 LUFS.
      await ffmpeg([...picture('320x240'), ...tone(-28), ...h264, ...aac, ...tagged, '-shortest', out]);
      break;
    case 'silent':
      await ffmpeg([...picture('320x240'), '-f', 'lavfi', '-i', `anullsrc=r=48000:cl=stereo:d=${D}`, ...h264, ...aac, ...tagged, '-t', D, out]);
      break;
    case 'black':
      await ffmpeg(['-f', 'lavfi', '-i', `color=c=black:size=320x240:rate=30:duration=${D}`, ...tone(), ...h264, ...aac, ...tagged, '-shortest', out]);
      break;
    case 'corrupt': {
      await ffmpeg([...picture('320x240'), ...tone(), ...h264, ...aac, '-movflags', '+faststart', '-shortest', tmp]);
      const bytes = await readFile(tmp);
      let seed = 12345;
      for (const at of [bytes.length / 3, bytes.length / 2, (2 * bytes.length) / 3]) {
        for (let i = Math.floor(at); i < Math.floor(at) + 3000 && i < bytes.length; i += 1) {
          seed = (seed * 1103515245 + 12345) >>> 0; // deterministic garbage
          bytes[i] = seed >>> 24;
        }
      }
      await writeFile(out, bytes);
      await rm(tmp, { force: true });
      break;
    }
    case 'truncated': {
      // Without +faststart the moov box is written last: cutting the file in half loses it.
      await ffmpeg([...picture('320x240'), ...tone(), ...h264, ...aac, '-shortest', tmp]);
      const { size } = await stat(tmp);
      await truncate(tmp, Math.floor(size / 2));
      await rename(tmp, out);
      break;
    }
    case 'zero':
      await writeFile(out, Buffer.alloc(0));
      break;
    case 'text':
      await writeFile(out, '这不是视频。This is a plain text file pretending to be a video.\n'.repeat(20));
      break;
    case 'm3u8':
      await writeFile(
        out,
        '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n',
      );
      break;
    case 'avi':
      await ffmpeg([...picture('320x240'), ...tone(), '-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-shortest', out]);
      break;
    case 'loud-clipping':
      // sine is at −18 dBFS; +24 dB → +6 dBFS, and the float → s16 conversion clips it hard.
      await ffmpeg([
        ...picture('320x240'),
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:sample_rate=48000:duration=${D}`,
        '-af',
        'volume=24dB,aformat=sample_fmts=s16',
        ...h264,
        '-c:a',
        'aac',
        '-b:a',
        '192k',
        ...tagged,
        '-shortest',
        out,
      ]);
      break;
    case 'quiet-40':
      await ffmpeg([...picture('320x240'), ...tone(-18), ...h264, ...aac, ...tagged, '-shortest', out]);
      break;
    case 'fps50':
      await ffmpeg([...picture('1280x720', 50), ...tone(), ...h264, ...aac, ...tagged, '-shortest', out]);
      break;
    case 'peaky':
      await ffmpeg([
        ...picture('320x240'),
        '-f',
        'lavfi',
        '-i',
        `aevalsrc='0.03*sin(2*PI*440*t)+if(lt(mod(n\\,24000)\\,2)\\,0.6\\,0)':s=48000:d=${D}`,
        ...h264,
        '-c:a',
        'aac',
        '-b:a',
        '192k',
        ...tagged,
        '-shortest',
        out,
      ]);
      break;
  }
  return out;
}

/** Reads a clip's bytes (e.g. to upload it in HTTP tests). */
export function readClip(kind: ClipKind, dir: string): Promise<Buffer> {
  return makeClip(kind, dir).then((p) => readFile(p));
}

/**
 * An MP4 whose header lies about its length: the clip is `headerS` long (`mvhd`/`mdhd` and
 * ffprobe's format and stream durations say so), but the video track's sample timing (`stts`
 * deltas) is edited in the bytes so its `headerS × 30` frames are spread over `playsS` seconds.
 * Written without an edit list (`-use_editlist 0`), so nothing clips the timeline back to the
 * header. Video only, 320×240 H.264 30 fps without B-frames (no `ctts` to keep consistent).
 */
export async function makeHeaderLiesClip(dir: string, opts: { headerS?: number; playsS: number }): Promise<string> {
  const headerS = opts.headerS ?? 1;
  await mkdir(dir, { recursive: true });
  const honest = path.join(dir, `clip-honest-${headerS}.mp4`);
  const out = path.join(dir, `clip-header-lies-${headerS}-${opts.playsS}.mp4`);
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${headerS}`, ...h264, '-bf', '0', '-g', '10', '-use_editlist', '0', honest]);
  const bytes = await readFile(honest);
  const mdhd = findBox(bytes, ['moov', 'trak', 'mdia', 'mdhd']);
  const stts = findBox(bytes, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stts']);
  if (!mdhd || !stts) throw new Error('generated clip has no moov/trak/mdia/{mdhd,minf/stbl/stts}');
  // mdhd version 0: size, type, version+flags, creation, modification, timescale.
  const timescale = bytes.readUInt32BE(mdhd + 20);
  const entries = bytes.readUInt32BE(stts + 12);
  let samples = 0;
  for (let i = 0; i < entries; i += 1) samples += bytes.readUInt32BE(stts + 16 + i * 8);
  const delta = Math.floor((opts.playsS * timescale) / samples);
  if (delta > 0xffffffff) throw new Error('sample delta does not fit 32 bits');
  for (let i = 0; i < entries; i += 1) bytes.writeUInt32BE(delta, stts + 16 + i * 8 + 4);
  await writeFile(out, bytes);
  await rm(honest, { force: true });
  return out;
}

/** Offset of the box at `boxPath` (each step the first box of that type inside the previous), or null. */
export function findBox(bytes: Buffer, boxPath: readonly string[], start = 0, end = bytes.length): number | null {
  let at = start;
  while (at + 8 <= end) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size < 8) return null;
    if (type === boxPath[0]) return boxPath.length === 1 ? at : findBox(bytes, boxPath.slice(1), at + 8, at + size);
    at += size;
  }
  return null;
}
