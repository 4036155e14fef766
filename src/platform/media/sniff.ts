/**
 * Magic-byte check before any ffmpeg/ffprobe call (DESIGN §6 step 1, SECURITY Uploads 5–6).
 *
 * An allowlist of the containers phones and cameras write. Each one is recognised by its own
 * magic and mapped to EXACTLY ONE libavformat demuxer; every later ffmpeg/ffprobe call on the file
 * forces that demuxer (`-f`) and allows nothing else (`-format_whitelist`), so a file can never be
 * re-detected as a playlist, a concat script or another container by ffmpeg's probing:
 *
 * | container                        | magic                                              | demuxer |
 * |----------------------------------|----------------------------------------------------|---------|
 * | MP4/MOV/3GP (ISO-BMFF)           | a `ftyp`/`moov`/`mdat`/`free`/`wide`/`skip` box    | mov     |
 * | Matroska/WebM                    | EBML header 1A 45 DF A3                            | matroska|
 * | MPEG-TS (.MTS, 188-byte packets) | 0x47 sync byte every 188 bytes                     | mpegts  |
 * | M2TS (AVCHD .M2TS, 192-byte)     | 4-byte timecode, then 0x47 every 192 bytes         | mpegts  |
 * | MPEG-PS (.MPG/.VOB/.MOD)         | pack header 00 00 01 BA                            | mpeg    |
 * | DV (raw .dv)                     | DIF header block 1F 07 00                          | dv      |
 * | AVI (DV-AVI, MJPEG, Xvid)        | `RIFF`….`AVI ` (also `AVIX`)                        | avi     |
 * | MXF (XDCAM, P2, D-10)            | header partition pack key 06 0E 2B 34 02 05 01 01 0D 01 02 01 01 02 | mxf |
 *
 * Transport streams need 4 sync bytes in a row at the packet spacing (a text file that happens to
 * start with "G" is not a TS). Everything else is refused here with a Chinese message: formats we
 * recognise but do not take (WMV/ASF, FLV, RealMedia, audio files, images) are named, with how to
 * convert them; playlists, scripts and markup are "not a video".
 */
import { open } from 'node:fs/promises';

export type SniffedContainer = 'isobmff' | 'matroska' | 'mpegts' | 'm2ts' | 'mpegps' | 'dv' | 'avi' | 'mxf';

/** The one libavformat demuxer each container is read with (`-f` and `-format_whitelist`). */
export type Demuxer = 'mov' | 'matroska' | 'mpegts' | 'mpeg' | 'dv' | 'avi' | 'mxf';

export const CONTAINER_DEMUXER: Readonly<Record<SniffedContainer, Demuxer>> = Object.freeze({
  isobmff: 'mov',
  matroska: 'matroska',
  mpegts: 'mpegts',
  m2ts: 'mpegts',
  mpegps: 'mpeg',
  dv: 'dv',
  avi: 'avi',
  mxf: 'mxf',
});

/** A name a teacher recognises, for QC and messages. */
export const CONTAINER_LABEL: Readonly<Record<SniffedContainer, string>> = Object.freeze({
  isobmff: 'MP4/MOV/3GP',
  matroska: 'MKV/WebM',
  mpegts: 'MPEG-TS（AVCHD .MTS）',
  m2ts: 'M2TS（AVCHD）',
  mpegps: 'MPEG-PS（.MPG/.VOB）',
  dv: 'DV',
  avi: 'AVI',
  mxf: 'MXF',
});

export type SniffResult =
  { ok: true; container: SniffedContainer; demuxer: Demuxer } | { ok: false; code: 'not_video' | 'unreadable'; message: string; detail: string };

/**
 * The upload field's `accept`: file pickers filter on it (camcorder files often have no video/*
 * MIME type on Windows, e.g. .MTS is "MPEG transport stream"). The sniff decides, not this.
 */
export const VIDEO_FILE_ACCEPT = 'video/*,.mp4,.mov,.m4v,.3gp,.3g2,.mkv,.webm,.mts,.m2ts,.m2t,.ts,.mpg,.mpeg,.vob,.mod,.tod,.dv,.avi,.mxf';

/** The formats accepted, as the upload page and messages name them. */
export const ACCEPTED_FORMATS_TEXT = 'MP4、MOV、3GP、MKV、WebM、MTS/M2TS、MPG/VOB、DV、AVI、MXF';

export const SNIFF_MESSAGES = {
  empty: '文件是空的（0 字节），可能上传没有完成，请重新上传',
  notVideo: `文件不是视频，请上传手机或相机拍摄的视频文件（${ACCEPTED_FORMATS_TEXT}）`,
  wmv: '暂不支持 WMV/ASF 格式，请用格式工厂、剪映等软件转换为 MP4 后再上传',
  flv: '暂不支持 FLV 格式，请用格式工厂、剪映等软件转换为 MP4 后再上传',
  realMedia: '暂不支持 RM/RMVB 格式，请用格式工厂等软件转换为 MP4 后再上传',
  audioOnly: '这是音频文件（没有画面），请上传带画面的演唱视频',
  image: '这是图片文件，请上传演唱视频',
  rawVideo: '这是没有封装的视频流，请用格式工厂等软件转换为 MP4 后再上传',
  archive: '这是压缩包（ZIP/RAR/7z），请先解压，再上传其中的视频文件',
  avchdIndex: '这是摄像机的目录或播放列表文件，视频本身在 PRIVATE/AVCHD/BDMV/STREAM 文件夹里（扩展名 .MTS），请上传那个文件',
} as const;

const HEAD_BYTES = 4096;
const ISO_BOX_TYPES = new Set(['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip']);
const MXF_PARTITION_KEY = Buffer.from([0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0d, 0x01, 0x02, 0x01, 0x01, 0x02]);
const ASF_GUID = Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]);

/** Reads the first 4 KB of `filePath` and classifies it. Never throws for content; I/O errors propagate. */
export async function sniffVideoFile(filePath: string): Promise<SniffResult> {
  const handle = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return sniffVideoHead(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

const accepted = (container: SniffedContainer): SniffResult => ({ ok: true, container, demuxer: CONTAINER_DEMUXER[container] });
const refused = (message: string, detail: string): SniffResult => ({ ok: false, code: 'not_video', message, detail });

/** 0x47 at `offset`, `offset + size`, … (`count` packets; fewer if the head is shorter but ≥ 2). */
function syncRun(head: Buffer, offset: number, size: number, count = 4): boolean {
  const available = Math.floor((head.length - offset - 1) / size) + 1;
  const needed = Math.min(count, available);
  if (needed < 2) return false;
  for (let i = 0; i < needed; i += 1) if (head[offset + i * size] !== 0x47) return false;
  return true;
}

/** Pure classification of a file's first bytes (exported for unit tests). */
export function sniffVideoHead(head: Buffer): SniffResult {
  if (head.length === 0) return { ok: false, code: 'unreadable', message: SNIFF_MESSAGES.empty, detail: 'empty file' };
  const ascii = (from: number, to: number): string => (head.length >= to ? head.toString('latin1', from, to) : '');
  if (head.length >= 8) {
    const boxType = ascii(4, 8);
    const boxSize = head.readUInt32BE(0);
    // size 0 = "to end of file", 1 = 64-bit size follows; otherwise a box is at least 8 bytes.
    if (ISO_BOX_TYPES.has(boxType) && (boxSize === 0 || boxSize === 1 || boxSize >= 8)) return accepted('isobmff');
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return accepted('matroska');
  if (syncRun(head, 0, 188)) return accepted('mpegts');
  if (syncRun(head, 4, 192)) return accepted('m2ts');
  if (head.length >= 4 && head.readUInt32BE(0) === 0x000001ba) return accepted('mpegps');
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x07 && head[2] === 0x00) return accepted('dv');
  if (ascii(0, 4) === 'RIFF' && (ascii(8, 12) === 'AVI ' || ascii(8, 12) === 'AVIX')) return accepted('avi');
  if (head.length >= MXF_PARTITION_KEY.length && head.subarray(0, MXF_PARTITION_KEY.length).equals(MXF_PARTITION_KEY)) return accepted('mxf');

  // Recognised, but not taken: name it and say how to convert.
  if (['MPLS', 'HDMV', 'INDX', 'MOBJ'].includes(ascii(0, 4)) && /^0[12]00$/.test(ascii(4, 8)))
    return refused(SNIFF_MESSAGES.avchdIndex, 'AVCHD/BDMV index or playlist file');
  if (
    ascii(0, 4) === 'PK\x03\x04' ||
    ascii(0, 4) === 'Rar!' ||
    (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])))
  ) {
    return refused(SNIFF_MESSAGES.archive, 'archive');
  }
  if (head.length >= 8 && head.subarray(0, 8).equals(ASF_GUID)) return refused(SNIFF_MESSAGES.wmv, 'ASF/WMV container');
  if (ascii(0, 3) === 'FLV') return refused(SNIFF_MESSAGES.flv, 'FLV container');
  if (ascii(0, 4) === '.RMF') return refused(SNIFF_MESSAGES.realMedia, 'RealMedia container');
  if (head.length >= 4 && head.readUInt32BE(0) === 0x000001b3) return refused(SNIFF_MESSAGES.rawVideo, 'MPEG-1/2 elementary stream');
  if (head.length >= 4 && (head.readUInt32BE(0) === 0x00000001 || (head[0] === 0 && head[1] === 0 && head[2] === 1 && (head[3] ?? 0) < 0x80))) {
    return refused(SNIFF_MESSAGES.rawVideo, 'Annex B elementary stream');
  }
  if (
    ascii(0, 3) === 'ID3' ||
    (head.length >= 2 && head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) ||
    ascii(0, 4) === 'fLaC' ||
    ascii(0, 4) === 'OggS' ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') ||
    ascii(0, 6) === '#!AMR'
  ) {
    return refused(SNIFF_MESSAGES.audioOnly, 'audio file');
  }
  if (
    (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) ||
    ascii(1, 4) === 'PNG' ||
    ascii(0, 3) === 'GIF' ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP')
  ) {
    return refused(SNIFF_MESSAGES.image, 'image file');
  }
  return refused(SNIFF_MESSAGES.notVideo, `not a video container: ${describeHead(head)}`);
}

/** A short English description of what the head looks like, for logs. */
function describeHead(head: Buffer): string {
  const text = head
    .toString('utf8', 0, Math.min(head.length, 512))
    .replace(/^\uFEFF/, '')
    .trimStart();
  const lower = text.toLowerCase();
  if (text.startsWith('#EXTM3U')) return 'HLS playlist';
  if (lower.startsWith('ffconcat')) return 'ffconcat script';
  if (text.startsWith('#!')) return 'script (shebang)';
  if (lower.startsWith('<?xml')) return 'XML';
  if (lower.startsWith('<svg')) return 'SVG';
  if (lower.startsWith('<!doctype html') || lower.startsWith('<html')) return 'HTML';
  if (text.startsWith('<')) return 'markup';
  const printable = head.subarray(0, 512).every((byte) => byte === 9 || byte === 10 || byte === 13 || byte >= 32);
  if (printable) return 'text';
  return `unknown magic ${head.subarray(0, 8).toString('hex')}`;
}
