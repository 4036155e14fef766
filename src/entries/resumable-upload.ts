import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { Request, Response } from 'express';
import type * as TusServerModule from '@tus/server' with { 'resolution-mode': 'import' };
import type * as TusFileStoreModule from '@tus/file-store' with { 'resolution-mode': 'import' };
import type * as TusUtilsModule from '@tus/utils' with { 'resolution-mode': 'import' };
import type { CurrentUser } from '../accounts/account.types';
import { assertOwnSchoolEntry } from '../accounts/policy';
import { AppError, DATABASE_UNAVAILABLE, invalidState, RETRY_AFTER_S, STORE_UNAVAILABLE } from '../platform/errors';
import { outageOf } from '../platform/outage';
import type { Logger } from '../platform/logger';
import type { EntryService } from './entry.service';
import { VIDEO_LOCKED } from './entry.messages';
import { EDITABLE } from './entry.types';
import { type UploadLocker } from './upload-locker';
import { TusReply, UploadLockTimeout } from './tus-reply';
import type { UploadReservations } from './upload-reservations';
import { tooLarge, type VideoUploadService } from './video-upload';
import { hasInvalidCharacters, invalidCharacters } from '../web/input-gate';

/**
 * Resumable uploads (tus 1.0) at /api/v1/uploads, for the 0.5–2 GB phone videos that arrive over
 * weak village uplinks. The same ingest as the multipart route: when the last byte arrives the
 * file goes through VideoUploadService.attach() (content sniff → originals/… → video row + ingest
 * job in one transaction), then the tus file and its JSON are removed.
 *
 * Ownership: onUploadCreate checks the entry (the caller's own school, still draft/returned) and
 * records the upload in `resumable_uploads` (upload-reservations.ts: owner, school, entry, size; the
 * school's cap is checked in the same transaction) — the owner fields are also written into the
 * upload's metadata by the server, never taken from the client. Every HEAD/PATCH/DELETE by anyone but
 * the owner answers 404, exactly like an id that never existed. The row goes when the upload
 * finishes, is cancelled (DELETE) or expires (the sweep).
 *
 * The bytes live in the file store (data file + `<id>.json` in `uploads.tusDir`), not in process
 * memory, so a restarted process — or another process on the same shared volume — continues an
 * upload. Locking is in the database (upload-locker.ts: a lease row per upload), not in process
 * memory: two processes serving the same upload take turns, and a newer request for an upload
 * makes the older one stop (tus's rule, so a half-open connection cannot block a resuming client).
 *
 * The file store implements creation, creation-with-upload, creation-defer-length, termination and
 * expiration; it does not implement the checksum extension, so none is offered.
 */

// The @tus packages are ESM-only and this code is compiled to CommonJS: a real `import()` loads
// them. tsc (module node16) keeps `import()` as is in CJS output, and Jest's SWC transform is told
// to keep it too (`ignoreDynamic` in jest.config.js; the default would rewrite it to require(),
// which cannot load ESM inside Jest). A `new Function('s', 'return import(s)')` also worked under
// Jest at first, but failed intermittently once a Jest worker had run another test file before
// (jest-runtime: "Cannot read properties of undefined (reading 'identifier')"), so it is not used.

/** While a PATCH streams in, bytes written so far are flushed to disk in the background every this many. */
const WRITE_BEHIND_BYTES = 32 * 1024 * 1024;

/** fdatasync of a file's written bytes; failures only mean the final fsync has more to do. */
async function flushToDisk(file: string): Promise<void> {
  try {
    const handle = await fs.promises.open(file, 'r');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch {
    /* the file was finished or removed meanwhile */
  }
}

/** Bytes of request body queued ahead of the file write before the socket is paused. */
const BODY_QUEUE_BYTES = 1024 * 1024;

/**
 * The web Request tus handles, over the Express request. Its body hands on the socket's own buffers
 * and pauses the socket only once BODY_QUEUE_BYTES wait. (@tus/server's own `handle()` goes through
 * Node's `Readable.toWeb`, which copies every chunk and pauses the socket after each 16 KiB: for a
 * 1 GiB upload that was a gigabyte of extra allocations — garbage collections by the hundred once
 * the copies outlived the young generation — and a pause/resume per socket read.)
 * `runtime.node` is where tus and our hooks find the Node request (and its `auth`).
 */
function webRequest(req: Request, res: Response): globalThis.Request {
  const aborted = new AbortController();
  res.once('close', () => {
    if (!res.writableEnded) aborted.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody
    ? new ReadableStream<Uint8Array>(
        {
          start(controller) {
            req.pause();
            req.on('data', (chunk: Buffer) => {
              controller.enqueue(chunk);
              if ((controller.desiredSize ?? 0) <= 0) req.pause();
            });
            req.once('end', () => controller.close());
            req.once('error', (err) => controller.error(err));
            // A connection cut mid-body: the write stops and tus keeps what arrived (error() is a no-op once closed).
            req.once('close', () => req.complete || controller.error(new Error('request body cut short')));
          },
          pull() {
            req.resume();
          },
          cancel(reason) {
            req.destroy(reason instanceof Error ? reason : undefined);
          },
        },
        { highWaterMark: BODY_QUEUE_BYTES, size: (chunk) => chunk.byteLength },
      )
    : null;
  const init = { method: req.method, headers, body, duplex: 'half', signal: aborted.signal } as RequestInit;
  const request = new globalThis.Request(`http://localhost${req.originalUrl}`, init);
  Object.defineProperty(request, 'runtime', { value: { node: { req, res } } });
  return request;
}

/** tus's web Response onto the Express response (its bodies are short texts). */
async function sendResponse(res: Response, response: globalThis.Response): Promise<void> {
  res.status(response.status);
  response.headers.forEach((value, name) => res.setHeader(name, value));
  // Busy or a dependency down: say when to come back, as every other 503 of ours does.
  if (response.status === 503 && !response.headers.has('retry-after')) res.setHeader('Retry-After', String(RETRY_AFTER_S));
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

/** tus upload ids are Uid.rand(): 32 lowercase hex characters. Anything else never reaches tus. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

export const TUS_PATH = '/api/v1/uploads';

export interface ResumableUploads {
  /** Express handler for `app.all(TUS_PATH)` and `app.all(TUS_PATH + '/{*id}')` (after authenticate + CSRF). */
  handle(req: Request, res: Response): Promise<void>;
  /** Removes expired unfinished uploads (bytes and JSON) and dead holders' locks; returns how many uploads. */
  sweep(): Promise<number>;
  /** Bytes reserved by a school's unfinished uploads (sum of their Upload-Length). */
  reservedBytes(schoolId: string): Promise<number>;
  readonly expiryHours: number;
  /**
   * Resolves when no tus request of this process is still being handled (graceful stop: a PATCH
   * cut at the end of the grace period is still committing what arrived), or after `maxMs`.
   */
  drained(maxMs: number): Promise<void>;
}

const tusError = (status_code: number, body: string): TusReply => new TusReply(status_code, body);
/** A PATCH that would write past the upload's declared Upload-Length. */
export const PAST_LENGTH_BODY =
  '发送的数据超过了开始上传时声明的文件大小（Upload-Length），多出的部分没有保存。请从服务器记录的位置继续上传；如果文件已经换了，请重新选择视频文件上传。\n';
const notFoundBody = '找不到这个上传（可能已过期、已完成或不属于你）。请重新选择视频文件上传。\n';

/** AppError → the tus error shape; the body is the Chinese sentence the page shows as is. */
function asTusError(err: unknown): unknown {
  if (err instanceof AppError) return tusError(err.status, `${err.title}：${err.detail}\n`);
  return err;
}

/** Where unfinished uploads' bytes live: TUS_DIR (file store) or the S3 bucket (bucket-tus-store.ts). */
export interface TusStorage {
  readonly datastore: InstanceType<typeof TusUtilsModule.DataStore>;
  /** The finished upload's bytes as one local file, for attach() to take over. */
  finishedFile(id: string): Promise<string>;
  /** Removes an upload's bytes wherever they are (removing a missing upload is not an error). */
  remove(id: string): Promise<void>;
}

/**
 * The store as tus sees it, with `remove` (tus's DELETE) also releasing the upload's reservation,
 * after the bytes are gone and before the answer. Every other member is the store's own.
 */
function releasingOnRemove<T extends { remove(id: string): Promise<void> }>(store: T, release: (id: string) => Promise<void>): T {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'remove')
        return async (id: string) => {
          await target.remove(id);
          await release(id);
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The embedded default: @tus/file-store in `dir` (a data file + `<id>.json` per upload). Several web
 * processes need `dir` on one shared volume.
 */
export async function createFileTusStorage(dir: string, expiryHours: number): Promise<TusStorage> {
  const { FileStore }: typeof TusFileStoreModule = await import('@tus/file-store');
  fs.mkdirSync(dir, { recursive: true });

  /**
   * Write-behind: while a PATCH streams in, every WRITE_BEHIND_BYTES the bytes written so far are
   * flushed to disk in the background (fdatasync on a second descriptor; the request does not wait).
   * At the last byte the store's fsync of the original (it must survive a crash once the teacher is
   * told "uploaded") then has only the tail left instead of the whole 0.5–2 GB.
   */
  class WriteBehindFileStore extends FileStore {
    override async write(readable: Readable, id: string, offset: number): Promise<number> {
      const file = path.join(dir, id);
      let pending = 0;
      let flushing = false;
      const counted = new Transform({
        transform(chunk: Buffer, _enc, done) {
          pending += chunk.length;
          if (pending >= WRITE_BEHIND_BYTES && !flushing) {
            pending = 0;
            flushing = true;
            void flushToDisk(file).finally(() => (flushing = false));
          }
          done(null, chunk);
        },
      });
      readable.on('error', (err) => counted.destroy(err));
      return super.write(readable.pipe(counted), id, offset);
    }
  }
  return {
    datastore: new WriteBehindFileStore({ directory: dir, expirationPeriodInMilliseconds: expiryHours * 3600_000 }),
    finishedFile: async (id) => path.join(dir, id),
    async remove(id) {
      await fs.promises.rm(path.join(dir, id), { force: true });
      await fs.promises.rm(path.join(dir, `${id}.json`), { force: true });
    },
  };
}

export async function createResumableUploads(deps: {
  storage: TusStorage;
  maxBytes: number;
  expiryHours: number;
  schoolCapBytes: number;
  allowedOrigins: readonly string[];
  entries: EntryService;
  uploads: VideoUploadService;
  locker: UploadLocker;
  reservations: UploadReservations;
  logger: Logger;
}): Promise<ResumableUploads> {
  const { Server, ERRORS }: typeof TusServerModule = await import('@tus/server');
  const { storage } = deps;

  /** The authenticated caller: tus hands hooks a web Request wrapping the Express request. */
  const actorOf = (req: unknown): CurrentUser => {
    const user = (req as { runtime?: { node?: { req?: Request } } }).runtime?.node?.req?.auth?.user;
    if (!user) throw tusError(401, '需要登录：请先登录后再上传。\n');
    return user;
  };

  const server = new Server({
    path: TUS_PATH,
    // A cancelled upload (DELETE) frees its share of the school's cap before the 204: released in
    // POST_TERMINATE, after the answer, a school that cancelled and started again at once could
    // still be refused for the upload it had just cancelled (seen in CI).
    datastore: releasingOnRemove(storage.datastore, (id) => deps.reservations.release(id)),
    locker: deps.locker,
    maxSize: deps.maxBytes,
    relativeLocation: true,
    allowedOrigins: [...deps.allowedOrigins],
    allowedHeaders: ['X-CSRF-Token'],
    // Only the owner gets past this: anyone else sees 404, as if the id did not exist.
    async onIncomingRequest(req, id) {
      if (req.method === 'POST') return;
      const actor = actorOf(req);
      if ((await deps.reservations.ownerOf(id)) !== actor.id) throw tusError(404, notFoundBody);
    },
    async onUploadCreate(req, upload) {
      try {
        const actor = actorOf(req);
        const entryId = upload.metadata?.entryId;
        const filename = upload.metadata?.filename;
        if (!entryId || !filename) throw new AppError(400, 'validation_failed', '上传信息不完整', '缺少作品编号（entryId）或文件名（filename）。');
        // Upload-Metadata is header-derived text (base64 of anything): the input gate's rule applies.
        if (Object.values(upload.metadata ?? {}).some((v) => typeof v === 'string' && hasInvalidCharacters(v, false)))
          throw invalidCharacters('Upload-Metadata');
        if (upload.size === undefined) throw new AppError(400, 'validation_failed', '缺少文件大小', '请在开始上传时说明文件大小（Upload-Length）。');
        const entry = assertOwnSchoolEntry(actor, await deps.entries.load(entryId));
        if (!EDITABLE.includes(entry.status)) throw invalidState(VIDEO_LOCKED);
        const schoolId = actor.schoolId!;
        // The owner row: every later request is checked against it; its size counts against the school's cap.
        const { accepted, reservedBefore } = await deps.reservations.reserve(
          { id: upload.id, ownerId: actor.id, schoolId, entryId, sizeBytes: upload.size },
          deps.schoolCapBytes,
        );
        if (!accepted) {
          const gb = (n: number) => (n / 1024 ** 3).toFixed(1);
          throw new AppError(
            413,
            'payload_too_large',
            '未完成的上传太多',
            `本校未完成的上传已占用 ${gb(reservedBefore)} GB，上限为 ${gb(deps.schoolCapBytes)} GB。请先完成或取消其他上传，或等待过期上传（${deps.expiryHours} 小时后）被清理。`,
          );
        }
        // Owner fields are written here, never taken from the client.
        return { metadata: { filename, filetype: upload.metadata?.filetype ?? null, entryId, ownerId: actor.id, schoolId } };
      } catch (err) {
        throw asTusError(err);
      }
    },
    async onUploadFinish(req, upload) {
      try {
        const actor = actorOf(req);
        const meta = upload.metadata ?? {};
        // attach() owns the file: it moves it into the store or removes it, whatever happens.
        const file = await storage.finishedFile(upload.id);
        await deps.uploads.attach(actor, meta.entryId ?? '', { path: file, originalname: meta.filename ?? 'video', size: upload.size ?? upload.offset });
        return {};
      } catch (err) {
        deps.logger.info('resumable upload refused at finish', { uploadId: upload.id, err: err instanceof AppError ? err.code : String(err) });
        throw asTusError(err);
      } finally {
        await storage.remove(upload.id);
        await deps.reservations.release(upload.id);
      }
    },
    onResponseError(_req, err) {
      const serverFault = { status_code: 500, body: '服务器暂时出错，没能保存这次上传的数据。请稍后重试；如果上传无法继续，请重新选择视频文件上传。\n' };
      if (err instanceof Error) {
        const outage = outageOf(err);
        if (outage) {
          deps.logger.warn('resumable upload refused: dependency unavailable', { err: String(err) });
          return { status_code: 503, body: `${outage === 'database' ? DATABASE_UNAVAILABLE : STORE_UNAVAILABLE}（页面会自动重试）\n` };
        }
        deps.logger.error('resumable upload failed', { err: String(err) });
        return serverFault;
      }
      // Ours (from the hooks and our stores) already say their real reason in Chinese: keep them as they are.
      if (err instanceof TusReply && err.status_code !== 500) return err;
      // Chinese bodies for the protocol errors a teacher can meet; the status codes stay tus's.
      switch (err.status_code) {
        case 409:
          return { status_code: 409, body: '上传进度与服务器不一致（Upload-Offset 冲突），请从服务器记录的位置继续。\n' };
        case 410:
          return { status_code: 410, body: `这个上传已超过 ${deps.expiryHours} 小时未完成，已被清理。请重新选择视频文件上传。\n` };
        case 413:
          // tus's ERR_SIZE_EXCEEDED: more bytes than the Upload-Length declared at creation (not the 2 GB limit).
          if (err === ERRORS.ERR_SIZE_EXCEEDED) return { status_code: 413, body: PAST_LENGTH_BODY };
          return { status_code: 413, body: `${tooLarge(deps.maxBytes).title}：${tooLarge(deps.maxBytes).detail}\n` };
        case 404:
          return { status_code: 404, body: notFoundBody };
        case 500:
          // The upload's lock stayed with another request (the locker's timeout): busy, not broken; tus clients retry.
          if (err instanceof UploadLockTimeout || err === ERRORS.ERR_LOCK_TIMEOUT)
            return { status_code: 503, body: '这个上传正由另一个连接写入，请稍后重试（页面会自动重试）。\n' };
          // tus's own 500s (e.g. the bucket or the disk refused the bytes) get a Chinese text; ours already have one.
          return err instanceof TusReply ? err : serverFault;
        default:
          return undefined;
      }
    },
  });

  const isAllowedPreflight = (req: Request) =>
    req.method === 'OPTIONS' &&
    typeof req.headers.origin === 'string' &&
    deps.allowedOrigins.includes(req.headers.origin) &&
    typeof req.headers['access-control-request-method'] === 'string';

  const handling = new Set<Promise<unknown>>();
  return {
    expiryHours: deps.expiryHours,
    async drained(maxMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...handling]), new Promise((resolve) => (timer = setTimeout(resolve, maxMs)))]);
      clearTimeout(timer);
    },
    reservedBytes: (schoolId) => deps.reservations.reservedBytes(schoolId),
    async sweep() {
      await deps.locker.sweep();
      const removed = await server.cleanUpExpiredUploads();
      await deps.reservations.sweep();
      return removed;
    },
    async handle(req, res) {
      // A browser's CORS preflight never carries credentials: for an origin in UPLOAD_ALLOWED_ORIGINS it
      // is answered (tus's OPTIONS reads and writes nothing) before the login check, else no
      // cross-origin upload could ever start. Every other request, OPTIONS included, must be signed in.
      if (!isAllowedPreflight(req) && !req.auth?.user) throw new AppError(401, 'unauthenticated', '需要登录', '请先登录后再上传。');
      // The raw path, before any decoding: `%2F`, `%00`, `..` and every other non-id are refused here.
      const rest = req.originalUrl.split('?')[0]!.slice(TUS_PATH.length);
      const collection = rest === '' || rest === '/';
      if (collection ? !['POST', 'OPTIONS'].includes(req.method) : !UPLOAD_ID.test(rest.slice(1)) || req.method === 'GET' || req.method === 'POST') {
        throw new AppError(404, 'not_found', '找不到', notFoundBody.trim());
      }
      const handled = server.handleWeb(webRequest(req, res));
      handling.add(handled);
      try {
        await sendResponse(res, await handled);
      } finally {
        handling.delete(handled);
      }
    },
  };
}
