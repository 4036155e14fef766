/**
 * Magic-byte check before any ffmpeg/ffprobe call (DESIGN §6 step 1, SECURITY Uploads 5–6).
 *
 * An allowlist: only ISO-BMFF (MP4/MOV/3GP: a `ftyp`/`moov`/`mdat`/`free`/`wide`/`skip` box at the
 * start) and Matroska/WebM (EBML header) pass. Everything else — empty files, HLS playlists,
 * ffconcat scripts, HTML/SVG/XML, shell scripts, plain text, images, AVI — is refused here, and
 * the format whitelist on the ffmpeg/ffprobe calls refuses it again.
 *
 * AVI is refused on purpose: phones and cameras used by schools do not write it, and AVI is the
 * carrier of the known "AVI with an embedded HLS playlist" local-file exploit. Teachers with an
 * old camera get a message telling them to convert to MP4.
 */
import { open } from 'node:fs/promises';

export type SniffedContainer = 'isobmff' | 'matroska';

export type SniffResult =
  | { ok: true; container: SniffedContainer }
  | { ok: false; code: 'not_video' | 'unreadable'; message: string; detail: string };

export const SNIFF_MESSAGES = {
  empty: '文件是空的（0 字节），可能上传没有完成，请重新上传',
  notVideo: '文件不是视频，请上传手机或相机拍摄的视频文件（MP4/MOV）',
  avi: '暂不支持 AVI 格式，请先转换为 MP4 后再上传',
} as const;

const HEAD_BYTES = 4096;
const ISO_BOX_TYPES = new Set(['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip']);

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

/** Pure classification of a file's first bytes (exported for unit tests). */
export function sniffVideoHead(head: Buffer): SniffResult {
  if (head.length === 0) return { ok: false, code: 'unreadable', message: SNIFF_MESSAGES.empty, detail: 'empty file' };
  if (head.length >= 8) {
    const boxType = head.toString('latin1', 4, 8);
    const boxSize = head.readUInt32BE(0);
    // size 0 = "to end of file", 1 = 64-bit size follows; otherwise a box is at least 8 bytes.
    if (ISO_BOX_TYPES.has(boxType) && (boxSize === 0 || boxSize === 1 || boxSize >= 8)) {
      return { ok: true, container: 'isobmff' };
    }
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return { ok: true, container: 'matroska' };
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'AVI ') {
    return { ok: false, code: 'not_video', message: SNIFF_MESSAGES.avi, detail: 'AVI container (not allowed)' };
  }
  return { ok: false, code: 'not_video', message: SNIFF_MESSAGES.notVideo, detail: `not a video container: ${describeHead(head)}` };
}

/** A short English description of what the head looks like, for logs. */
function describeHead(head: Buffer): string {
  const text = head.toString('utf8', 0, Math.min(head.length, 512)).replace(/^\uFEFF/, '').trimStart();
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
