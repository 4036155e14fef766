/**
 * Hostile file shapes for the input-guard tests (built in memory from ffmpeg-made clips; no binary
 * fixtures), and the two witnesses that prove nothing was opened:
 *
 * - `gab2Avi`: an AVI whose subtitle stream's first chunk is a GAB2 block — the carrier of the
 *   known "AVI with an embedded HLS playlist" local-file/SSRF exploit: libavformat's AVI demuxer
 *   probes the GAB2 payload and opens a nested demuxer on it (avidec.c `read_gab2_sub`).
 * - `withAliasDref`: an MP4 whose video track's data reference is an `alis` record pointing at a
 *   file next to the upload — the MOV external-reference shape (mov.c `mov_read_dref` /
 *   `mov_open_dref`, opened only when `enable_drefs` is on).
 * - `textAsTransportStream`: text cut into 188-byte "packets" that each start with 0x47 ('G'), so
 *   the TS magic matches, carrying a playlist and nothing else.
 * - `listenOnLoopback`: a TCP listener that counts connections; `watchFifo`: a named pipe that
 *   records whether any process ever opened it for reading.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';

const u32le = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};
const u16le = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
};
const chunk = (id: string, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from(id, 'latin1'), u32le(body.length), body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
const list = (type: string, ...children: Buffer[]): Buffer => chunk('LIST', Buffer.concat([Buffer.from(type, 'latin1'), ...children]));

/** The GAB2 block as avidec.c reads it: "GAB2\0", u16 2, u32 name length, UTF-16 name, u16, u32 size, payload. */
export function gab2Block(payload: Buffer, name = 'subtitle'): Buffer {
  const title = Buffer.from(`${name}\0`, 'utf16le');
  return Buffer.concat([Buffer.from('GAB2\0', 'latin1'), u16le(2), u32le(title.length), title, u16le(4), u32le(payload.length), payload]);
}

/** An MJPEG AVI (`frames` copies of `jpeg`) with a `txts` stream whose first chunk is GAB2 `payload`. */
export function gab2Avi(options: { jpeg: Buffer; width: number; height: number; frames: number; payload: Buffer }): Buffer {
  const { jpeg, width, height, frames } = options;
  const avih = Buffer.concat([
    u32le(40000),
    u32le(0),
    u32le(0),
    u32le(0),
    u32le(frames),
    u32le(0),
    u32le(2),
    u32le(0),
    u32le(width),
    u32le(height),
    Buffer.alloc(16),
  ]);
  const strh = (type: string, handler: Buffer, length: number): Buffer =>
    chunk(
      'strh',
      Buffer.concat([
        Buffer.from(type, 'latin1'),
        handler,
        u32le(0),
        u16le(0),
        u16le(0),
        u32le(0),
        u32le(1),
        u32le(25),
        u32le(0),
        u32le(length),
        u32le(0),
        u32le(0xffffffff),
        u32le(0),
        u16le(0),
        u16le(0),
        u16le(width),
        u16le(height),
      ]),
    );
  const bih = Buffer.concat([
    u32le(40),
    u32le(width),
    u32le(height),
    u16le(1),
    u16le(24),
    Buffer.from('MJPG', 'latin1'),
    u32le(width * height * 3),
    u32le(0),
    u32le(0),
    u32le(0),
    u32le(0),
  ]);
  const hdrl = list(
    'hdrl',
    chunk('avih', avih),
    list('strl', strh('vids', Buffer.from('MJPG', 'latin1'), frames), chunk('strf', bih)),
    list('strl', strh('txts', Buffer.alloc(4), 1), chunk('strf', Buffer.alloc(4))),
  );
  const movi: Buffer[] = [];
  for (let i = 0; i < frames; i += 1) {
    movi.push(chunk('00dc', jpeg));
    if (i === 0) movi.push(chunk('01tx', gab2Block(options.payload)));
  }
  const body = Buffer.concat([Buffer.from('AVI ', 'latin1'), hdrl, list('movi', ...movi)]);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), u32le(body.length), body]);
}

/** Offsets of the boxes along `boxPath` (outermost first), or null. */
function boxChain(bytes: Buffer, boxPath: readonly string[], start = 0, end = bytes.length): number[] | null {
  let at = start;
  while (at + 8 <= end) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size < 8) return null;
    if (type === boxPath[0]) {
      if (boxPath.length === 1) return [at];
      const rest = boxChain(bytes, boxPath.slice(1), at + 8, at + size);
      return rest ? [at, ...rest] : null;
    }
    at += size;
  }
  return null;
}

/**
 * The MP4 (moov at the END, so no chunk offset moves) with its first track's `dref` replaced by one
 * `alis` entry pointing at `fileName` in the upload's own directory (nlvl_from = nlvl_to = 1).
 */
export function withAliasDref(mp4: Buffer, fileName: string): Buffer {
  const chain = boxChain(mp4, ['moov', 'trak', 'mdia', 'minf', 'dinf', 'dref']);
  if (!chain) throw new Error('no moov/trak/mdia/minf/dinf/dref');
  const moov = chain[0] as number;
  const mdat = boxChain(mp4, ['mdat']);
  if (!mdat || (mdat[0] as number) > moov) throw new Error('moov must follow mdat (generate without +faststart)');
  const pathRecord = Buffer.from(`/${fileName}`, 'latin1');
  const padded = Buffer.concat([pathRecord, pathRecord.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  const fixed = Buffer.alloc(150);
  // [10 skipped][volume len + 27][12 skipped][file name len + 63][16 skipped][nlvl_from][nlvl_to][16 skipped]
  fixed.writeUInt8(3, 10);
  fixed.write('Mac', 11, 'latin1');
  fixed.writeUInt8(Math.min(63, fileName.length), 50);
  fixed.write(fileName.slice(0, 63), 51, 'latin1');
  fixed.writeUInt16BE(1, 130);
  fixed.writeUInt16BE(1, 132);
  const record = Buffer.alloc(4);
  record.writeUInt16BE(2, 0); // absolute path
  record.writeUInt16BE(pathRecord.length, 2);
  const end = Buffer.from([0xff, 0xff, 0, 0]);
  const aliasBody = Buffer.concat([Buffer.from('alis', 'latin1'), Buffer.alloc(4) /* version/flags: not self-contained */, fixed, record, padded, end]);
  const alias = Buffer.concat([Buffer.alloc(4), aliasBody]);
  alias.writeUInt32BE(alias.length, 0);
  const drefBody = Buffer.concat([Buffer.from('dref', 'latin1'), Buffer.alloc(4), Buffer.from([0, 0, 0, 1]), alias]);
  const dref = Buffer.concat([Buffer.alloc(4), drefBody]);
  dref.writeUInt32BE(dref.length, 0);
  const oldAt = chain[chain.length - 1] as number;
  const oldSize = mp4.readUInt32BE(oldAt);
  const out = Buffer.concat([mp4.subarray(0, oldAt), dref, mp4.subarray(oldAt + oldSize)]);
  const delta = dref.length - oldSize;
  for (const at of chain.slice(0, -1)) out.writeUInt32BE(out.readUInt32BE(at) + delta, at);
  return out;
}

/** `text` cut into 188-byte packets that each begin with the TS sync byte 0x47 ("G"). */
export function textAsTransportStream(text: string, packets = 8): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  const out = Buffer.alloc(188 * packets, 0x20);
  for (let p = 0; p < packets; p += 1) {
    out[p * 188] = 0x47;
    if (p * 187 < bytes.length) bytes.copy(out, p * 188 + 1, p * 187, Math.min(bytes.length, (p + 1) * 187));
  }
  return out;
}

export interface LoopbackListener {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP listener on 127.0.0.1 (random port) that counts connections and closes each at once. */
export async function listenOnLoopback(): Promise<LoopbackListener> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FifoWitness {
  readonly path: string;
  /** Whether any process had the pipe open for reading while watched. */
  readonly opened: boolean;
  stop(): void;
}

/**
 * A named pipe at `fifoPath`, polled every 5 ms: a non-blocking open for writing succeeds only
 * while some process has it open for reading (or is blocked opening it — a reader of an empty
 * pipe with no writer waits in open(), so a read attempt cannot slip between two polls).
 */
export async function watchFifo(fifoPath: string): Promise<FifoWitness> {
  await promisify(execFile)('mkfifo', [fifoPath]);
  let opened = false;
  const timer = setInterval(() => {
    try {
      const fd = openSync(fifoPath, constants.O_WRONLY | constants.O_NONBLOCK);
      opened = true;
      closeSync(fd); // the reader sees EOF and goes on
    } catch {
      // ENXIO: no reader
    }
  }, 5);
  return {
    path: fifoPath,
    get opened() {
      return opened;
    },
    stop: () => clearInterval(timer),
  };
}
