import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Dir, Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { clampRange } from './byte-range';
import { assertValidKey, assertValidPrefix, ObjectNotFoundError, RangeNotSatisfiableError, StoreUnavailableError } from './object-store';
import type { ByteRange, GetResult, ObjectInfo, ObjectStore, PutOptions, PutResult } from './object-store';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const META_DIR = '.meta';
const TMP_DIR = '.tmp';

interface Sidecar {
  contentType: string;
}

/**
 * Object store on the local disk (the embedded default).
 *
 * Layout under `rootDir`:
 * - `{key}`              the object's bytes, exactly as uploaded;
 * - `.meta/{key}.json`   a sidecar `{ "contentType": "…" }` (keys like `originals/{entryId}/{videoId}`
 *                        carry no extension, so the type cannot be derived from the name);
 * - `.tmp/`              files being written. Every write goes to a temp file here (same file system),
 *                        is fsync'ed, then renamed onto the final path, so a reader never sees half an
 *                        object and a crash leaves no partial object under its key. Leftovers in `.tmp/`
 *                        after a crash are garbage and can be removed while no process is writing.
 *
 * Keys never start a segment with a dot (see `assertValidKey`), so they cannot collide with `.meta`
 * or `.tmp`. The sidecar is written before the data is renamed into place: a crash in between leaves
 * an orphan sidecar, which is harmless because existence is decided by the data file alone.
 */
export function createLocalStore(rootDir: string): ObjectStore {
  const root = path.resolve(rootDir);

  function pathOf(key: string, tree: '' | typeof META_DIR = ''): string {
    assertValidKey(key);
    const base = tree ? path.join(root, tree) : root;
    const resolved = path.resolve(base, tree ? `${key}.json` : key);
    // Belt and braces: the key pattern already forbids `..` and absolute paths.
    if (!resolved.startsWith(base + path.sep)) throw new Error(`key escapes the store root: ${key}`);
    return resolved;
  }

  async function newTempPath(): Promise<string> {
    const dir = path.join(root, TMP_DIR);
    await fsp.mkdir(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  /** Renames `tmp` onto `finalPath`, creating parents; retries when a concurrent prune removed them. */
  async function moveIntoPlace(tmp: string, finalPath: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await fsp.mkdir(path.dirname(finalPath), { recursive: true });
      try {
        await fsp.rename(tmp, finalPath);
        return;
      } catch (err) {
        if (!isErrno(err, 'ENOENT') || attempt >= 3) throw err;
      }
    }
  }

  async function writeSidecar(key: string, sidecar: Sidecar): Promise<void> {
    const tmp = await newTempPath();
    try {
      await fsp.writeFile(tmp, JSON.stringify(sidecar), { flag: 'wx' });
      await moveIntoPlace(tmp, pathOf(key, META_DIR));
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
  }

  async function readContentType(key: string): Promise<string> {
    try {
      const raw = await fsp.readFile(pathOf(key, META_DIR), 'utf8');
      const parsed: unknown = JSON.parse(raw);
      if (isSidecar(parsed)) return parsed.contentType;
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !(err instanceof SyntaxError)) throw err;
    }
    return DEFAULT_CONTENT_TYPE;
  }

  /** Commits a fully written temp file as `key`. */
  async function commit(key: string, tmp: string, opts: PutOptions): Promise<void> {
    const handle = await fsp.open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await writeSidecar(key, { contentType: opts.contentType });
    await moveIntoPlace(tmp, pathOf(key));
  }

  async function putStream(key: string, body: Readable, opts: PutOptions): Promise<PutResult> {
    pathOf(key);
    const tmp = await newTempPath();
    let sizeBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sizeBytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(tmp, { flags: 'wx' }));
      await commit(key, tmp, opts);
      return { sizeBytes };
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
  }

  async function putFile(key: string, filePath: string, opts: PutOptions): Promise<PutResult> {
    pathOf(key);
    const tmp = await newTempPath();
    try {
      // A given-away file is renamed (instant on the same filesystem); otherwise copyFile streams
      // inside the kernel (or reflinks): no bytes pass through JS memory.
      if (opts.move) {
        await fsp.rename(filePath, tmp).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EXDEV') throw err;
          await fsp.copyFile(filePath, tmp);
        });
      } else {
        await fsp.copyFile(filePath, tmp);
      }
      const { size } = await fsp.stat(tmp);
      await commit(key, tmp, opts);
      return { sizeBytes: size };
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    const file = pathOf(key);
    let stats: Stats;
    try {
      stats = await fsp.stat(file);
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return null;
      throw err;
    }
    if (!stats.isFile()) return null;
    return { ...infoFromStats(stats), contentType: await readContentType(key) };
  }

  async function get(key: string, range?: ByteRange): Promise<GetResult> {
    const file = pathOf(key);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) {
        throw new ObjectNotFoundError(key);
      }
      throw err;
    }
    try {
      // Size and bytes come from the same open file, even if the key is replaced meanwhile.
      const stats = await handle.stat();
      if (!stats.isFile()) throw new ObjectNotFoundError(key);
      const info = { ...infoFromStats(stats), contentType: await readContentType(key) };
      if (!range) {
        return { ...info, body: handle.createReadStream({ autoClose: true }) };
      }
      const served = clampRange(range, stats.size);
      if (!served) throw new RangeNotSatisfiableError(key, stats.size);
      const body = handle.createReadStream({ start: served.start, end: served.end, autoClose: true });
      return { ...info, body, range: served };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async function downloadToFile(key: string, filePath: string): Promise<void> {
    const source = pathOf(key);
    const tmp = `${filePath}.${randomUUID()}.part`;
    try {
      await fsp.copyFile(source, tmp);
      await fsp.rename(tmp, filePath);
    } catch (err) {
      await removeQuietly(tmp);
      if (isErrno(err, 'ENOENT') && !(await exists(source))) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async function deleteKey(key: string): Promise<boolean> {
    const file = pathOf(key);
    const removed = await removeQuietly(file);
    await removeQuietly(pathOf(key, META_DIR));
    await pruneEmptyParents(path.dirname(file), root);
    await pruneEmptyParents(path.dirname(pathOf(key, META_DIR)), path.join(root, META_DIR));
    return removed;
  }

  async function deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const dirPart = slash >= 0 ? prefix.slice(0, slash) : '';
    let count = 0;
    for await (const key of walkKeys(root, dirPart)) {
      if (key.startsWith(prefix) && (await deleteKey(key))) count++;
    }
    return count;
  }

  async function ping(): Promise<void> {
    try {
      await fsp.mkdir(root, { recursive: true });
      await fsp.access(root, fsp.constants.R_OK | fsp.constants.W_OK);
    } catch (err) {
      throw new StoreUnavailableError(`local object store not writable: ${root}`, { cause: err });
    }
  }

  return {
    kind: 'local',
    putFile,
    putStream,
    head,
    get,
    downloadToFile,
    delete: async (key) => {
      await deleteKey(key);
    },
    deletePrefix,
    presignGet: async (key) => {
      assertValidKey(key);
      return null;
    },
    ping,
    close: async () => {},
  };
}

function infoFromStats(stats: Stats): Omit<ObjectInfo, 'contentType'> {
  // Each put renames a new file into place, so inode + size + mtime change on every replacement.
  const etag = `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  return { sizeBytes: stats.size, etag, lastModified: new Date(stats.mtimeMs) };
}

/** Yields keys (with `/` separators) of regular files below `root/dirPart`, skipping dot entries. */
async function* walkKeys(root: string, dirPart: string): AsyncGenerator<string> {
  let dir: Dir;
  try {
    dir = await fsp.opendir(path.join(root, dirPart));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
    throw err;
  }
  const subdirs: string[] = [];
  for await (const entry of dir) {
    if (entry.name.startsWith('.')) continue;
    const key = dirPart ? `${dirPart}/${entry.name}` : entry.name;
    if (entry.isDirectory()) subdirs.push(key);
    else if (entry.isFile()) yield key;
  }
  for (const sub of subdirs) yield* walkKeys(root, sub);
}

/** Removes empty directories from `dir` upwards, stopping at `stopAt` or the first non-empty one. */
async function pruneEmptyParents(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt + path.sep)) {
    try {
      await fsp.rmdir(current);
    } catch {
      return; // ENOTEMPTY, ENOENT, …: someone else is using it, or it is already gone
    }
    current = path.dirname(current);
  }
}

async function removeQuietly(file: string): Promise<boolean> {
  try {
    await fsp.unlink(file);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

function isSidecar(value: unknown): value is Sidecar {
  return typeof value === 'object' && value !== null && typeof (value as { contentType?: unknown }).contentType === 'string';
}

function isErrno(err: unknown, code: string): boolean {
  // Not `instanceof Error`: errors from node:fs come from another realm under Jest's sandbox.
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
