/**
 * The known exploit shapes of each container we accept, through the real ingest: refused or
 * failed with a Chinese reason (or, where the hostile part is only an extra, ingested without
 * it), and NOTHING opened — a TCP listener on a loopback port sees no connection, and a named
 * pipe referenced by the file is never opened for reading.
 *
 * Each shape has a control that shows it is live: the same bytes read by ffmpeg WITHOUT our
 * guard do open what they point at (or parse the nested payload), so a pass here is the guard's
 * doing, not a malformed fixture.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { mediaCapabilities, resolveMediaBinaries, type MediaBinaries, type MediaCapabilities } from '../../../src/platform/media/binaries';
import { MediaRejectedError } from '../../../src/platform/media/errors';
import { ingestVideo, type IngestResult } from '../../../src/platform/media/ingest';
import { DEMUXERS } from '../../../src/platform/media/input-guard';
import { createMediaRunner, type MediaRunner } from '../../../src/platform/media/runner';
import {
  gab2Avi,
  listenOnLoopback,
  textAsTransportStream,
  watchFifo,
  withAliasDref,
  type FifoWitness,
  type LoopbackListener,
} from '../../support/hostile-media';

const exec = promisify(execFile);
const CHINESE = /[\u4e00-\u9fff]/;
let dir: string;
let bins: MediaBinaries;
let runner: MediaRunner;
let caps: MediaCapabilities;
let listener: LoopbackListener;
let jpeg: Buffer;
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-hostile-'));
  bins = resolveMediaBinaries();
  runner = createMediaRunner(bins);
  caps = await mediaCapabilities(bins);
  listener = await listenOnLoopback();
  const frame = path.join(dir, 'frame.jpg');
  await exec(bins.ffmpeg, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25:duration=1',
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-f',
    'image2',
    frame,
  ]);
  jpeg = await readFile(frame);
});
afterAll(async () => {
  await listener.close();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh directory with a watched FIFO in it, and an HLS playlist pointing at both witnesses. */
async function scene(): Promise<{ where: string; fifo: FifoWitness; playlist: string }> {
  seq += 1;
  const where = path.join(dir, `scene-${seq}`);
  await exec('mkdir', ['-p', where]);
  const fifo = await watchFifo(path.join(where, 'canary.fifo'));
  const playlist = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-TARGETDURATION:1',
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXTINF:1.0,',
    `http://127.0.0.1:${listener.port}/leak.ts`,
    '#EXTINF:1.0,',
    `file:${fifo.path}`,
    '#EXTINF:1.0,',
    'canary.fifo',
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
  return { where, fifo, playlist };
}

/** Ingests `file`; returns the outcome and asserts that nothing was opened. */
async function ingestWatched(file: string, fifo: FifoWitness): Promise<IngestResult | MediaRejectedError> {
  const before = listener.connections;
  const outcome = await ingestVideo({ runner, caps, sourcePath: file, workDir: path.join(path.dirname(file), 'work') }).catch((error: unknown) => {
    if (error instanceof MediaRejectedError) return error;
    throw error;
  });
  await new Promise((resolve) => setTimeout(resolve, 50)); // one more FIFO poll
  fifo.stop();
  expect(listener.connections).toBe(before);
  expect(fifo.opened).toBe(false);
  return outcome;
}

describe('AVI with an embedded HLS playlist (GAB2 subtitle chunk)', () => {
  it('when the GAB2 payload is a subtitle file, then plain ffmpeg parses it (control: the shape is live), and our guard refuses the nested demuxer', async () => {
    const file = path.join(dir, 'gab2-srt.avi');
    await writeFile(file, gab2Avi({ jpeg, width: 320, height: 240, frames: 25, payload: Buffer.from('1\n00:00:00,000 --> 00:00:01,000\nhello\n\n') }));
    const plain = await exec(bins.ffprobe, ['-v', 'error', '-f', 'avi', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', file]);
    expect(plain.stdout).toContain('subrip');
    const guarded = await runner.probe(file, { timeoutMs: 15_000, demuxer: 'avi' });
    expect(guarded.streams.map((s) => s.codec_name)).not.toContain('subrip');
  });

  it('when the GAB2 payload is an HLS playlist pointing at a loopback port and a local file, then nothing is opened and the judges get the picture only', async () => {
    const { where, fifo, playlist } = await scene();
    const file = path.join(where, 'upload.avi');
    await writeFile(file, gab2Avi({ jpeg, width: 320, height: 240, frames: 50, payload: Buffer.from(playlist) }));
    const outcome = await ingestWatched(file, fifo);
    expect(outcome).not.toBeInstanceOf(MediaRejectedError);
    const { stdout } = await exec(bins.ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', (outcome as IngestResult).previewPath]);
    expect(stdout.trim()).toBe('video');
  });
});

describe('MOV/MP4 with an external data reference (dref alias to a file next to the upload)', () => {
  const make = async (where: string): Promise<string> => {
    const plain = path.join(where, 'plain.mp4');
    await exec(bins.ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25:duration=1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      plain,
    ]);
    const file = path.join(where, 'upload.mp4');
    await writeFile(file, withAliasDref(await readFile(plain), 'canary.fifo'));
    return file;
  };

  it('when ffprobe is allowed to follow drefs, then it opens the referenced file (control: the shape and the witness work)', async () => {
    const { where, fifo } = await scene();
    const file = await make(where);
    await exec(bins.ffprobe, ['-v', 'error', '-f', 'mov', '-enable_drefs', '1', '-show_entries', 'stream=index', '-of', 'csv=p=0', `file:${file}`]).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    fifo.stop();
    expect(fifo.opened).toBe(true);
  });

  it('when it is uploaded, then the referenced file is never opened and the upload fails with a Chinese reason', async () => {
    const { where, fifo } = await scene();
    const outcome = await ingestWatched(await make(where), fifo);
    expect(outcome).toBeInstanceOf(MediaRejectedError);
    expect((outcome as MediaRejectedError).message).toMatch(CHINESE);
    expect((outcome as MediaRejectedError).detail).toContain('Skipped opening external track');
  });
});

describe('MPEG-TS carrying nothing but text', () => {
  it('when a playlist is cut into 188-byte packets that start with the sync byte, then it passes the sniff as TS but is refused as unreadable MPEG-TS, nothing opened', async () => {
    const { where, fifo, playlist } = await scene();
    const file = path.join(where, '00001.MTS');
    await writeFile(file, textAsTransportStream(playlist));
    const outcome = await ingestWatched(file, fifo);
    expect(outcome).toBeInstanceOf(MediaRejectedError);
    expect((outcome as MediaRejectedError).message).toContain('MPEG-TS');
    expect((outcome as MediaRejectedError).message).toMatch(/转换为 MP4/);
  });
});

describe('playlists and concat scripts under a camera file name', () => {
  it.each([
    [
      'an ffconcat script',
      '00001.MTS',
      (_playlist: string, port: number, fifo: string) => `ffconcat version 1.0\nfile 'http://127.0.0.1:${port}/a.mp4'\nfile '${fifo}'\nfile canary.fifo\n`,
    ],
    ['an HLS playlist', 'C0001.MXF', (playlist: string) => playlist],
  ])('when %s named %s is uploaded, then the sniff refuses it in Chinese before any ffmpeg runs, nothing opened', async (_label, name, content) => {
    const { where, fifo, playlist } = await scene();
    const file = path.join(where, name);
    await writeFile(file, content(playlist, listener.port, fifo.path));
    const outcome = await ingestWatched(file, fifo);
    expect(outcome).toBeInstanceOf(MediaRejectedError);
    expect((outcome as MediaRejectedError).code).toBe('not_video');
    expect((outcome as MediaRejectedError).message).toMatch(CHINESE);
  });

  it('when the same script and playlist are forced through each allowed demuxer (sniff bypassed), then every probe fails and nothing is opened', async () => {
    const { where, fifo, playlist } = await scene();
    const concat = path.join(where, 'concat.txt');
    const hls = path.join(where, 'playlist.m3u8');
    await writeFile(concat, `ffconcat version 1.0\nfile 'http://127.0.0.1:${listener.port}/a.mp4'\nfile '${fifo.path}'\n`);
    await writeFile(hls, playlist);
    const before = listener.connections;
    for (const demuxer of DEMUXERS) {
      for (const file of [concat, hls]) {
        const raw = await runner.probe(file, { timeoutMs: 15_000, demuxer }).catch(() => null);
        expect(raw?.streams.filter((s) => s.codec_type === 'video') ?? []).toEqual([]);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    fifo.stop();
    expect(listener.connections).toBe(before);
    expect(fifo.opened).toBe(false);
    // Control: a playlist of the http segment alone, read by ffprobe with http allowed, does reach
    // the listener (Debian's 5.1.9 refuses the whole playlist above for its file: segment by itself).
    const httpOnly = path.join(where, 'http-only.m3u8');
    await writeFile(httpOnly, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nhttp://127.0.0.1:${listener.port}/leak.ts\n#EXT-X-ENDLIST\n`);
    await exec(bins.ffprobe, ['-v', 'error', '-protocol_whitelist', 'file,http,tcp', '-f', 'hls', httpOnly], { timeout: 10_000 }).catch(() => undefined);
    expect(listener.connections).toBeGreaterThan(before);
  });
});
