/**
 * The input guard every ffmpeg/ffprobe call on an upload carries (MEDIA.md "Input guard").
 *
 * - `-protocol_whitelist file` and a `file:` URL: no http, no concat, no data: URLs, no nested
 *   protocol opened by a demuxer.
 * - `-format_whitelist`: only the demuxers phones and cameras produce. HLS, concat, image2, tty and
 *   friends are refused by libavformat itself, even if the magic-byte sniff were bypassed.
 *   Checked on Debian's ffmpeg/ffprobe 5.1 and on the npm builds (ffmpeg 4.1 2018, ffprobe 2023):
 *   an m3u8 renamed .mp4 and an AVI both fail with "Format not on whitelist" on all of them
 *   (test/integration/media/input-guard.test.ts keeps that true).
 * - AVI is deliberately NOT allowed: no phone or camera a school uses writes it, and AVI is the
 *   carrier of the known "AVI with an embedded HLS playlist" local-file-read exploit.
 */
import path from 'node:path';

/** Demuxer names as libavformat spells them (`mov,mp4,m4a,3gp,3g2,mj2` is one demuxer). */
export const FORMAT_WHITELIST = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm';

/** A server-generated absolute path as a `file:` URL; refuses anything else. */
export function fileUrl(absolutePath: string): string {
  if (!path.isAbsolute(absolutePath) || path.normalize(absolutePath) !== absolutePath) {
    throw new Error(`media path must be absolute and normalised: ${JSON.stringify(absolutePath)}`);
  }
  if (/[\0\r\n]/.test(absolutePath)) throw new Error('media path contains control characters');
  return `file:${absolutePath}`;
}

/** `-protocol_whitelist file -format_whitelist … -i file:<path>` for one input. */
export function guardedInputArgs(absolutePath: string): string[] {
  return ['-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST, '-i', fileUrl(absolutePath)];
}

/**
 * Checks an ffmpeg argv: `-nostdin` present, and every `-i` is a `file:` URL preceded (since the
 * previous input) by the protocol and format whitelists. The runner refuses any argv that fails.
 */
export function assertGuardedFfmpegArgs(args: readonly string[]): void {
  if (!args.includes('-nostdin')) throw new Error('ffmpeg argv lacks -nostdin');
  let sinceLastInput: string[] = [];
  let inputs = 0;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '-i') {
      const value = args[i + 1] ?? '';
      if (!value.startsWith('file:/')) throw new Error(`ffmpeg input is not a file: URL: ${JSON.stringify(value)}`);
      if (!hasPair(sinceLastInput, '-protocol_whitelist', 'file') || !hasPair(sinceLastInput, '-format_whitelist', FORMAT_WHITELIST)) {
        throw new Error(`ffmpeg input ${JSON.stringify(value)} lacks the protocol/format whitelist`);
      }
      inputs += 1;
      sinceLastInput = [];
      i += 1;
      continue;
    }
    sinceLastInput.push(arg);
  }
  if (inputs === 0) throw new Error('ffmpeg argv has no input');
}

function hasPair(args: readonly string[], option: string, value: string): boolean {
  for (let i = 0; i < args.length - 1; i += 1) {
    if (args[i] === option && args[i + 1] === value) return true;
  }
  return false;
}
