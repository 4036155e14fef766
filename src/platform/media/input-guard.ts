/**
 * The input guard every ffmpeg/ffprobe call on an upload carries (MEDIA.md "Input guard").
 *
 * - `-protocol_whitelist file` and a `file:` URL: no http, no concat, no data: URLs, no nested
 *   protocol opened by a demuxer.
 * - `-f <demuxer> -format_whitelist <that demuxer>`: the magic-byte sniff (sniff.ts) picks exactly
 *   ONE demuxer per file, and libavformat is told to use it and to open nothing else. A file can
 *   never be re-probed as HLS, concat, image2, tty or another container, and a demuxer that opens a
 *   nested one (AVI's GAB2 subtitles, MOV's external data references) hits the same one-name
 *   whitelist, which libavformat copies to every nested context. MOV also gets `-enable_drefs 0`
 *   (the default, stated so that no build's default can change it): a `dref`/`url ` box pointing
 *   at another file is never opened.
 *   Checked on Debian's ffmpeg/ffprobe 5.1 and on the npm builds (ffmpeg 4.1 2018, ffprobe 2023);
 *   test/integration/media/input-guard.test.ts and containers.test.ts keep that true, with the
 *   hostile shapes of each container (a loopback listener and a FIFO prove nothing was opened).
 */
import path from 'node:path';
import type { Demuxer } from './sniff';

/** Each demuxer's name(s) as libavformat spells them (`mov,mp4,m4a,3gp,3g2,mj2` is one demuxer). */
export const DEMUXER_WHITELIST: Readonly<Record<Demuxer, string>> = Object.freeze({
  mov: 'mov,mp4,m4a,3gp,3g2,mj2',
  matroska: 'matroska,webm',
  mpegts: 'mpegts',
  mpeg: 'mpeg',
  dv: 'dv',
  avi: 'avi',
  mxf: 'mxf',
});

/** Every demuxer an upload may be read with (for logs and docs; never passed as one whitelist). */
export const DEMUXERS = Object.keys(DEMUXER_WHITELIST) as Demuxer[];

/** Demuxer-private options stated on every input of that demuxer. */
const DEMUXER_OPTIONS: Readonly<Partial<Record<Demuxer, readonly string[]>>> = Object.freeze({
  mov: ['-enable_drefs', '0'],
});

/** A server-generated absolute path as a `file:` URL; refuses anything else. */
export function fileUrl(absolutePath: string): string {
  if (!path.isAbsolute(absolutePath) || path.normalize(absolutePath) !== absolutePath) {
    throw new Error(`media path must be absolute and normalised: ${JSON.stringify(absolutePath)}`);
  }
  if (/[\0\r\n]/.test(absolutePath)) throw new Error('media path contains control characters');
  return `file:${absolutePath}`;
}

/** The options before `-i` (ffmpeg) or the URL (ffprobe) that pin one input to one demuxer. */
export function demuxerGuardArgs(demuxer: Demuxer): string[] {
  const whitelist = DEMUXER_WHITELIST[demuxer];
  if (!whitelist) throw new Error(`not an allowed demuxer: ${JSON.stringify(demuxer)}`);
  return ['-f', demuxer, '-protocol_whitelist', 'file', '-format_whitelist', whitelist, ...(DEMUXER_OPTIONS[demuxer] ?? [])];
}

/** `-f <demuxer> -protocol_whitelist file -format_whitelist <demuxer> -i file:<path>` for one input. */
export function guardedInputArgs(absolutePath: string, demuxer: Demuxer): string[] {
  return [...demuxerGuardArgs(demuxer), '-i', fileUrl(absolutePath)];
}

/**
 * Checks an ffmpeg argv: `-nostdin` present, and every `-i` is a `file:` URL preceded (since the
 * previous input) by the protocol whitelist, a forced allowed demuxer and a format whitelist of
 * exactly that demuxer. The runner refuses any argv that fails.
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
      const forced = valueOf(sinceLastInput, '-f') as Demuxer | undefined;
      const whitelist = forced !== undefined && Object.prototype.hasOwnProperty.call(DEMUXER_WHITELIST, forced) ? DEMUXER_WHITELIST[forced] : undefined;
      if (!hasPair(sinceLastInput, '-protocol_whitelist', 'file') || whitelist === undefined || !hasPair(sinceLastInput, '-format_whitelist', whitelist)) {
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

function valueOf(args: readonly string[], option: string): string | undefined {
  const at = args.lastIndexOf(option);
  return at >= 0 ? args[at + 1] : undefined;
}

function hasPair(args: readonly string[], option: string, value: string): boolean {
  for (let i = 0; i < args.length - 1; i += 1) {
    if (args[i] === option && args[i + 1] === value) return true;
  }
  return false;
}
