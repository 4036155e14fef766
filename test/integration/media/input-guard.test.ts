/**
 * The input guard and the runner's process handling, against the real binaries: Debian's (or
 * whatever resolveMediaBinaries finds) AND the npm-shipped 4.1 ffmpeg / 2023 ffprobe.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mediaCapabilities, resolveMediaBinaries, type MediaBinaries } from '../../../src/platform/media/binaries';
import { MediaAbortedError, MediaRunError, MediaTimeoutError } from '../../../src/platform/media/errors';
import { guardedInputArgs } from '../../../src/platform/media/input-guard';
import { createMediaRunner } from '../../../src/platform/media/runner';
import type { Demuxer } from '../../../src/platform/media/sniff';
import { makeClip } from '../../support/clips';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-guard-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const builds: Array<[string, () => MediaBinaries]> = [
  ['resolved (system) build', () => resolveMediaBinaries()],
  ['npm-shipped build', () => resolveMediaBinaries({ searchPath: '' })],
];

describe.each(builds)('input guard on the %s', (_label, bins) => {
  const copyArgs = (input: string, output: string, demuxer: Demuxer = 'mov'): string[] => [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    ...guardedInputArgs(input, demuxer),
    '-map',
    '0',
    '-c',
    'copy',
    '-f',
    'matroska',
    `file:${output}`,
  ];

  it('when ffprobe is given an m3u8 renamed .mp4, then it refuses it (format not on whitelist / no moov), never reading /etc/passwd', async () => {
    const runner = createMediaRunner(bins());
    const playlist = await makeClip('m3u8', dir);
    await expect(runner.probe(playlist, { timeoutMs: 15_000, demuxer: 'mov' })).rejects.toBeInstanceOf(MediaRunError);
  });

  it('when ffmpeg is given an m3u8 renamed .mp4, then it refuses it and writes no output containing /etc/passwd', async () => {
    const runner = createMediaRunner(bins());
    const playlist = await makeClip('m3u8', dir);
    const out = path.join(dir, `leak-${bins().source}.mkv`);
    const error: unknown = await runner.run(copyArgs(playlist, out), { timeoutMs: 15_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaRunError);
    expect((error as MediaRunError).stderrTail).toMatch(/not on whitelist|Invalid data/);
    if (existsSync(out)) expect((await readFile(out)).toString('latin1')).not.toContain('root:');
  });

  it('when an AVI is read with the demuxer its magic picks, then it opens; read as MOV, both ffprobe and ffmpeg refuse it', async () => {
    const runner = createMediaRunner(bins());
    const avi = await makeClip('avi', dir);
    expect((await runner.probe(avi, { timeoutMs: 15_000, demuxer: 'avi' })).format.format_name).toBe('avi');
    await expect(runner.probe(avi, { timeoutMs: 15_000, demuxer: 'mov' })).rejects.toBeInstanceOf(MediaRunError);
    await expect(runner.run(copyArgs(avi, path.join(dir, 'avi-copy.mkv'), 'mov'), { timeoutMs: 15_000 })).rejects.toBeInstanceOf(MediaRunError);
  });

  it('when given a real MP4, then the same guard lets it through', async () => {
    const runner = createMediaRunner(bins());
    const clip = await makeClip('landscape', dir);
    const raw = await runner.probe(clip, { timeoutMs: 15_000, demuxer: 'mov' });
    expect(raw.format.format_name).toContain('mp4');
    await runner.run(copyArgs(clip, path.join(dir, `copy-${bins().source}.mkv`)), { timeoutMs: 15_000 });
  });
});

describe('runner process handling', () => {
  const longArgs = (clip: string): string[] => ['-hide_banner', '-nostdin', '-y', '-stream_loop', '-1', ...guardedInputArgs(clip, 'mov'), '-f', 'null', '-'];

  it('when the wall-clock timeout expires, then ffmpeg is SIGKILLed and MediaTimeoutError is thrown', async () => {
    const runner = createMediaRunner(resolveMediaBinaries());
    const clip = await makeClip('landscape', dir);
    const started = Date.now();
    await expect(runner.run(longArgs(clip), { timeoutMs: 300 })).rejects.toBeInstanceOf(MediaTimeoutError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('when the caller aborts, then ffmpeg is killed and MediaAbortedError is thrown', async () => {
    const runner = createMediaRunner(resolveMediaBinaries());
    const clip = await makeClip('landscape', dir);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(runner.run(longArgs(clip), { timeoutMs: 30_000, signal: controller.signal })).rejects.toBeInstanceOf(MediaAbortedError);
  });

  it('when an argv has an unguarded input, then the runner refuses to start ffmpeg', async () => {
    const runner = createMediaRunner(resolveMediaBinaries());
    await expect(runner.run(['-nostdin', '-i', '/etc/passwd', '-f', 'null', '-'], { timeoutMs: 1000 })).rejects.toThrow(/whitelist|file: URL/);
  });

  it('when a run fails, then the error carries at most ~2 KB of stderr', async () => {
    const runner = createMediaRunner(resolveMediaBinaries());
    const clip = await makeClip('landscape', dir);
    const error: unknown = await runner
      .run(['-nostdin', ...guardedInputArgs(clip, 'mov'), '-c:v', 'no-such-codec', '-f', 'null', '-'], { timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaRunError);
    expect((error as MediaRunError).stderrTail.length).toBeLessThanOrEqual(2048);
    expect((error as MediaRunError).stderrTail).toContain('no-such-codec');
  });

  it('when capabilities are read, then the thumbnail/ebur128/blackdetect/silencedetect filters the ingest needs exist', async () => {
    expect(resolveMediaBinaries({ searchPath: '' }).source).toBe('npm');
    for (const [, bins] of builds) {
      const caps = await mediaCapabilities(bins());
      for (const filter of [
        'thumbnail',
        'ebur128',
        'blackdetect',
        'silencedetect',
        'blackframe',
        'metadata',
        'select',
        'split',
        'fps',
        'scale',
        // camcorder footage: deinterlace, field order, and the audio analysis (issue 15)
        'bwdif',
        'fieldorder',
        'setfield',
        'interlace',
        'astats',
        'asplit',
        'pan',
        'volume',
        'aformat',
      ]) {
        expect(caps.filters.has(filter)).toBe(true);
      }
    }
  });
});
