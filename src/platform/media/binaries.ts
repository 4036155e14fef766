/**
 * Which ffmpeg/ffprobe binaries the media module runs, and what that build can do.
 *
 * Order (DESIGN §6): explicit paths (FFMPEG_PATH / FFPROBE_PATH, passed in by config) → the
 * system's (first executable on PATH, e.g. Debian's 5.1) → the builds shipped inside
 * `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` (a 2018 ffmpeg 4.1; fallback only).
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { execMediaTool } from './runner';

export type MediaBinarySource = 'env' | 'system' | 'npm';

export interface MediaBinaries {
  readonly ffmpeg: string;
  readonly ffprobe: string;
  /** Where the ffmpeg binary came from (ffprobe is resolved the same way, see `ffprobeSource`). */
  readonly source: MediaBinarySource;
  readonly ffprobeSource: MediaBinarySource;
}

export interface ResolveMediaBinariesOptions {
  readonly ffmpegPath?: string;
  readonly ffprobePath?: string;
  /** PATH to search; defaults to process.env.PATH. */
  readonly searchPath?: string;
}

function isExecutableFile(candidate: string): boolean {
  try {
    if (!statSync(candidate).isFile()) return false;
    accessSync(candidate, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue; // never resolve relative to the cwd
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function npmBinary(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | null {
  try {
    // Loaded only when neither an explicit nor a system binary exists: these packages throw at
    // require time on platforms they do not ship a binary for, which must not break start-up on a
    // server that has Debian's ffmpeg. Hence a require() here rather than a top-level import.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod: unknown = require(pkg);
    if (typeof mod === 'object' && mod !== null && 'path' in mod && typeof mod.path === 'string') {
      return isExecutableFile(mod.path) ? mod.path : null;
    }
    return null;
  } catch {
    return null;
  }
}

function resolveOne(name: 'ffmpeg' | 'ffprobe', explicit: string | undefined, searchPath: string): { path: string; source: MediaBinarySource } {
  if (explicit !== undefined && explicit !== '') {
    if (!path.isAbsolute(explicit) || !isExecutableFile(explicit)) {
      throw new Error(`${name} path ${JSON.stringify(explicit)} is not an absolute path to an executable file`);
    }
    return { path: explicit, source: 'env' };
  }
  const system = findOnPath(name, searchPath);
  if (system) return { path: system, source: 'system' };
  const shipped = npmBinary(name === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe');
  if (shipped) return { path: shipped, source: 'npm' };
  throw new Error(`no ${name} found: set ${name.toUpperCase()}_PATH, install ffmpeg, or install the npm fallback`);
}

/** Resolves both binaries; throws (at start-up) when one cannot be found. */
export function resolveMediaBinaries(options: ResolveMediaBinariesOptions = {}): MediaBinaries {
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const ffmpeg = resolveOne('ffmpeg', options.ffmpegPath, searchPath);
  const ffprobe = resolveOne('ffprobe', options.ffprobePath, searchPath);
  return Object.freeze({ ffmpeg: ffmpeg.path, ffprobe: ffprobe.path, source: ffmpeg.source, ffprobeSource: ffprobe.source });
}

export interface MediaCapabilities {
  /** Every filter the ffmpeg build lists. */
  readonly filters: ReadonlySet<string>;
  readonly zscale: boolean;
  readonly tonemap: boolean;
  /** zscale + tonemap: the HDR → SDR chain in MEDIA.md can run. */
  readonly hdrTonemap: boolean;
}

/** Runs `ffmpeg -hide_banner -filters` once and reports what the build has. Call it at start-up. */
export async function mediaCapabilities(binaries: MediaBinaries, options: { timeoutMs?: number } = {}): Promise<MediaCapabilities> {
  const result = await execMediaTool(binaries.ffmpeg, ['-hide_banner', '-nostdin', '-filters'], {
    timeoutMs: options.timeoutMs ?? 15_000,
    captureStdoutBytes: 1024 * 1024,
  });
  return capabilitiesFromFilterList(result.stdout);
}

/** Parses `ffmpeg -filters` output (pure; exported for tests). */
export function capabilitiesFromFilterList(listing: string): MediaCapabilities {
  const filters = new Set<string>();
  for (const line of listing.split(/\r?\n/)) {
    const match = /^\s*[A-Z.|]{2,3}\s+(\w+)\s+\S*->\S*/.exec(line);
    if (match?.[1]) filters.add(match[1]);
  }
  const zscale = filters.has('zscale');
  const tonemap = filters.has('tonemap');
  return { filters, zscale, tonemap, hdrTonemap: zscale && tonemap };
}
