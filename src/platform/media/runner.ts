/**
 * The ONE module that starts ffmpeg/ffprobe processes.
 *
 * Why `child_process.spawn` and not fluent-ffmpeg (the stack's named library) — checked against
 * fluent-ffmpeg 2.1.3's source:
 * - `FfmpegCommand#ffprobe` spawns ffprobe without exposing the process: no wall-clock kill is
 *   possible, stderr/stdout are accumulated without bound, and it parses the INI writer (numbers
 *   coerced, side data flattened). A hostile upload that hangs ffprobe would hang the worker.
 * - `FfmpegCommand` rebuilds argv from inputs/outputs, splits option strings on spaces and adds
 *   `-y`; it cannot take the prebuilt argv arrays our pure builders return.
 * - its binary paths and capability cache are process-global (`setFfmpegPath` writes a module-level
 *   cache), so two runners with different binaries (system 5.1 vs npm 4.1) would collide.
 * So every process is started here, from an argv array (never a shell), with SIGKILL on timeout,
 * bounded output buffers and the input guard checked on every ffmpeg call. Nothing outside
 * `src/platform/media/` starts ffmpeg.
 */
import { spawn } from 'node:child_process';
import type { MediaBinaries } from './binaries';
import { guardChild, ownProcessGroup } from './child-guard';
import { MediaAbortedError, MediaRunError, MediaTimeoutError } from './errors';
import { assertGuardedFfmpegArgs, demuxerGuardArgs, fileUrl } from './input-guard';
import type { Demuxer } from './sniff';

/** ffprobe's JSON (`-show_format -show_streams`), only the fields the module reads. */
export interface RawProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  field_order?: string;
  pix_fmt?: string;
  bits_per_raw_sample?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_space?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  start_time?: string;
  nb_frames?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
}

export interface RawProbe {
  streams: RawProbeStream[];
  format: {
    format_name?: string;
    duration?: string;
    start_time?: string;
    nb_streams?: number;
    size?: string;
    tags?: Record<string, string>;
  };
}

export interface ProbeOptions {
  readonly timeoutMs: number;
  /** The one demuxer the file is read with (from the magic-byte sniff). */
  readonly demuxer: Demuxer;
  readonly signal?: AbortSignal;
}

export interface RunOptions {
  readonly timeoutMs: number;
  /** Source duration, to turn `-progress` times into a percentage. */
  readonly durationS?: number;
  onProgress?(percent: number): void;
  /** Every `-progress` out_time, in seconds of output written (how far the run really got). */
  onOutTime?(seconds: number): void;
  readonly signal?: AbortSignal;
  /**
   * Stderr lines to keep in full (measurement filters log to stderr), besides the bounded tail.
   * May be stateful. At most `maxKeptLines` are kept.
   */
  keepLine?(line: string): boolean;
  readonly maxKeptLines?: number;
}

export interface RunResult {
  /** The last ~16 KB of stderr. */
  readonly stderr: string;
  /** Lines accepted by `keepLine`, in order. */
  readonly keptLines: readonly string[];
  readonly elapsedMs: number;
}

export interface MediaRunner {
  readonly binaries: MediaBinaries;
  probe(absolutePath: string, options: ProbeOptions): Promise<RawProbe>;
  /**
   * Where each stream really ends (stream index → largest pts + duration, in seconds), read from
   * the packets from the last keyframe to the end of the file: headers can lie about the
   * duration, packet timestamps are what a player plays. Packets are read, never decoded.
   */
  packetEnds(absolutePath: string, options: ProbeOptions): Promise<Map<number, number>>;
  run(args: readonly string[], options: RunOptions): Promise<RunResult>;
}

const STDERR_TAIL_BYTES = 16 * 1024;
const ERROR_TAIL_BYTES = 2 * 1024;
const MAX_PROBE_JSON_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_KEPT_LINES = 5000;

export function createMediaRunner(binaries: MediaBinaries): MediaRunner {
  return {
    binaries,
    async probe(absolutePath, options) {
      const args = [
        '-hide_banner',
        '-v',
        'error',
        ...demuxerGuardArgs(options.demuxer),
        '-print_format',
        'json',
        '-show_format',
        '-show_streams',
        fileUrl(absolutePath),
      ];
      const result = await execMediaTool(binaries.ffprobe, args, {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        captureStdoutBytes: MAX_PROBE_JSON_BYTES,
      });
      return parseRawProbe(result.stdout, result.stderrTail);
    },
    async packetEnds(absolutePath, options) {
      // A seek far past any real end lands on the last keyframe (mov, matroska); ffprobe then
      // lists every packet from there to the end of the file. Measured: 245 packets for a 20 s
      // clip with 250-frame GOPs, 0.1 s. The lines are folded as they arrive (no buffer).
      const args = [
        '-hide_banner',
        '-v',
        'error',
        ...demuxerGuardArgs(options.demuxer),
        '-read_intervals',
        '999999999%',
        '-show_entries',
        'packet=stream_index,pts_time,dts_time,duration_time',
        '-of',
        'csv=p=0',
        fileUrl(absolutePath),
      ];
      const ends = new Map<number, number>();
      await execMediaTool(binaries.ffprobe, args, {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onStdoutLine: (line) => {
          const [index, pts, dts, duration] = line.split(',');
          const at = Number(pts !== undefined && pts !== 'N/A' ? pts : dts);
          const stream = Number(index);
          if (!Number.isInteger(stream) || !Number.isFinite(at)) return;
          const end = at + (Number.isFinite(Number(duration)) ? Number(duration) : 0);
          if (end > (ends.get(stream) ?? -Infinity)) ends.set(stream, end);
        },
      });
      return ends;
    },
    async run(args, options) {
      assertGuardedFfmpegArgs(args);
      const started = Date.now();
      const durationS = options.durationS;
      const onProgress = options.onProgress;
      const onOutTime = options.onOutTime;
      let lastPercent = -1;
      const result = await execMediaTool(binaries.ffmpeg, args, {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        keepLine: options.keepLine,
        maxKeptLines: options.maxKeptLines ?? DEFAULT_MAX_KEPT_LINES,
        onStdoutLine:
          (onProgress && durationS && durationS > 0) || onOutTime
            ? (line) => {
                const seconds = parseProgressLine(line);
                if (seconds === null) return;
                if (onOutTime && Number.isFinite(seconds)) onOutTime(seconds);
                if (!onProgress || !durationS || !(durationS > 0)) return;
                const percent = seconds === Infinity ? 100 : Math.min(100, Math.max(0, Math.floor((seconds / durationS) * 100)));
                if (percent !== lastPercent) {
                  lastPercent = percent;
                  onProgress(percent);
                }
              }
            : undefined,
      });
      return { stderr: result.stderrTail, keptLines: result.keptLines, elapsedMs: Date.now() - started };
    },
  };
}

/**
 * `-progress pipe:1` lines → seconds of output written; `Infinity` for `progress=end`; null for
 * other keys. Reads `out_time=HH:MM:SS.ffffff` (present in 4.1 and 5.1; `out_time_ms` is in µs).
 */
export function parseProgressLine(line: string): number | null {
  if (line.trim() === 'progress=end') return Infinity;
  const match = /^out_time=(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)\s*$/.exec(line);
  if (!match) return null;
  if (match[1] === '-') return 0;
  return Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
}

function parseRawProbe(stdout: string, stderrTail: string): RawProbe {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new MediaRunError('ffprobe', 0, null, `unparseable ffprobe JSON\n${stderrTail}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new MediaRunError('ffprobe', 0, null, 'ffprobe JSON is not an object');
  const record = parsed as { streams?: unknown; format?: unknown };
  const streams = Array.isArray(record.streams) ? (record.streams as RawProbeStream[]) : [];
  const format = typeof record.format === 'object' && record.format !== null ? (record.format as RawProbe['format']) : {};
  return { streams, format };
}

export interface ExecOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Capture stdout up to this many bytes (more → killed, MediaRunError). 0/undefined: not kept. */
  readonly captureStdoutBytes?: number;
  onStdoutLine?(line: string): void;
  keepLine?(line: string): boolean;
  readonly maxKeptLines?: number;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderrTail: string;
  readonly keptLines: string[];
}

/**
 * Runs one binary with an argv array (no shell), stdin closed. Resolves on exit code 0; rejects with
 * MediaTimeoutError / MediaAbortedError / MediaRunError. Exported for `mediaCapabilities` only.
 */
export function execMediaTool(binary: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const tool = binary.split('/').pop() ?? binary;
  return new Promise<ExecResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new MediaAbortedError(tool));
      return;
    }
    // Own process group + the guard (child-guard.ts): a signal to the worker's group does not kill
    // it mid-job, and it does not outlive the worker.
    const child = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true, detached: ownProcessGroup });
    guardChild(child);
    let killedFor: 'timeout' | 'abort' | 'stdout_limit' | null = null;
    const kill = (why: 'timeout' | 'abort' | 'stdout_limit'): void => {
      if (killedFor === null) killedFor = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), options.timeoutMs);
    const onAbort = (): void => kill('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutPartial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const limit = options.captureStdoutBytes ?? 0;
      if (limit > 0) {
        stdoutBytes += chunk.length;
        if (stdoutBytes > limit) kill('stdout_limit');
        else stdoutChunks.push(chunk);
      }
      if (options.onStdoutLine) {
        const lines = (stdoutPartial + chunk.toString('utf8')).split(/\r?\n/);
        stdoutPartial = (lines.pop() ?? '').slice(-4096);
        for (const line of lines) options.onStdoutLine(line);
      }
    });

    let stderrTail = '';
    let stderrPartial = '';
    const keptLines: string[] = [];
    const maxKept = options.maxKeptLines ?? DEFAULT_MAX_KEPT_LINES;
    const takeLine = (line: string): void => {
      if (options.keepLine && keptLines.length < maxKept && options.keepLine(line)) keptLines.push(line);
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
      if (options.keepLine) {
        const lines = (stderrPartial + chunk).split(/\r\n|\r|\n/);
        // A single "line" longer than the tail is not a measurement line: cap what we carry over.
        stderrPartial = (lines.pop() ?? '').slice(-STDERR_TAIL_BYTES);
        for (const line of lines) takeLine(line);
      }
    });

    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve({ stdout: Buffer.concat(stdoutChunks).toString('utf8'), stderrTail, keptLines });
    };
    child.on('error', (error) => finish(new MediaRunError(tool, null, null, `spawn failed: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (stderrPartial) takeLine(stderrPartial);
      if (stdoutPartial && options.onStdoutLine) options.onStdoutLine(stdoutPartial);
      const tail = stderrTail.slice(-ERROR_TAIL_BYTES);
      if (killedFor === 'timeout') finish(new MediaTimeoutError(tool, options.timeoutMs, tail));
      else if (killedFor === 'abort') finish(new MediaAbortedError(tool));
      else if (killedFor === 'stdout_limit') finish(new MediaRunError(tool, code, signal, `stdout over ${options.captureStdoutBytes} bytes\n${tail}`));
      else if (code !== 0) finish(new MediaRunError(tool, code, signal, tail));
      else finish(null);
    });
  });
}
