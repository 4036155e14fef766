import crypto from 'node:crypto';
import fs from 'node:fs';
import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { multipartCsrfFilter } from '../web/auth.middleware';
import { afterMultipart } from '../web/multipart';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, assertOwnSchoolEntry } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { AppError, invalidState, notFound } from '../platform/errors';
import { SNIFF_MESSAGES, sniffVideoFile } from '../platform/media';
import type { AppJobQueue } from '../jobs';
import { findJobIdByDedupeKey } from '../platform/queue/queue';
import { objectKeys } from '../platform/storage/object-keys';
import type { ObjectStore } from '../platform/storage/object-store';
import type { EntryService } from './entry.service';
import { VIDEO_LOCKED } from './entry.messages';
import { EDITABLE } from './entry.types';
import * as repo from './entry.repository';
import { INGEST_JOB } from './ingest.job';
import type { EntryView } from './entry.types';
import { tempName } from '../platform/temp-files';

/**
 * Video uploads: multer streams the body to a temp file on disk (never into memory) under strict
 * limits; the content is checked by its bytes; the original is stored unchanged under a
 * server-generated key; the video row and its ingest job commit in one transaction. Every path —
 * success, refusal, disconnect, store or database failure — removes the temp file, and a failed
 * transaction removes the stored object: no orphan rows, no orphan objects.
 */
/** What is shown of the user's file name: no paths, no control or bidi characters, at most 120 chars. */
export function displayFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
  const clean = base.replace(/[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  const chars = [...clean];
  return (chars.length > 120 ? chars.slice(0, 80).join('') + '…' + chars.slice(-20).join('') : clean) || 'video';
}

export function videoUploadMiddleware(opts: { tmpDir: string; maxBytes: number }) {
  fs.mkdirSync(opts.tmpDir, { recursive: true });
  const upload = multer({
    storage: multer.diskStorage({ destination: opts.tmpDir, filename: (_req, _file, cb) => cb(null, tempName('upload')) }),
    // Browsers send the file name as raw UTF-8 bytes; busboy's default (latin1) turns 合唱.mp4 into mojibake.
    defParamCharset: 'utf8',
    // A session's no-JS form: its `_csrf` field (the form's first) is checked before the file is written.
    fileFilter: multipartCsrfFilter,
    limits: { fileSize: opts.maxBytes, files: 1, fields: 5, parts: 6, fieldNameSize: 50, fieldSize: 4096, headerPairs: 50 },
  }).single('video');
  return (req: Request, res: Response, next: NextFunction) => {
    // A declared length over the limit is refused before a byte is read.
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes + 1024 * 1024) {
      res.setHeader('Connection', 'close');
      return next(tooLarge(opts.maxBytes));
    }
    // If the client goes away mid-upload, multer removes its partial file; make sure of it.
    res.on('close', () => {
      if (req.file?.path && !res.locals.keepUpload) fs.rm(req.file.path, { force: true }, () => undefined);
    });
    upload(req, res, (err: unknown) => {
      if (err && (err as { code?: string }).code === 'LIMIT_FILE_SIZE') {
        res.setHeader('Connection', 'close');
        return next(tooLarge(opts.maxBytes));
      }
      // busboy's parse errors ("Boundary not found", "Malformed part header", "Unexpected end of
      // form") are plain Errors: the client sent a broken body, which is a 400, not a server fault.
      // File-system errors (ENOSPC, EACCES…) carry an errno code and stay server errors.
      if (err instanceof Error && !(err instanceof AppError) && !(err instanceof multer.MulterError) && !('errno' in err) && !('syscall' in err)) {
        return next(malformedUpload());
      }
      afterMultipart(req, err, next);
    });
  };
}

export const tooLarge = (maxBytes: number) =>
  new AppError(
    413,
    'payload_too_large',
    '视频文件太大',
    `视频文件不能超过 ${(maxBytes / 1024 ** 3).toFixed(maxBytes >= 1024 ** 3 ? 0 : 2)} GB，请压缩或剪辑后再上传。`,
  );

export const malformedUpload = () =>
  new AppError(400, 'validation_failed', '上传的内容有误', '上传的表单格式不正确，请重新选择视频文件上传。', [
    { field: 'video', message: '上传的表单格式不正确' },
  ]);

export const noFile = () =>
  new AppError(400, 'validation_failed', '没有收到视频文件', '请选择要上传的视频文件。', [{ field: 'video', message: '请选择要上传的视频文件' }]);

export function createVideoUploadService(deps: { db: Db; store: ObjectStore; queue: AppJobQueue; entries: EntryService; onEnqueued?: () => void }) {
  const { db, store, queue } = deps;
  return {
    /** Takes ownership of the temp file: it is always removed when this returns or throws. */
    async attach(actor: CurrentUser, entryId: string, file: { path: string; originalname: string; size: number } | undefined): Promise<EntryView> {
      try {
        const entry = assertOwnSchoolEntry(actor, await deps.entries.load(entryId));
        if (!EDITABLE.includes(entry.status)) throw invalidState(VIDEO_LOCKED);
        if (!file) throw noFile();
        if (file.size === 0) throw new AppError(415, 'unsupported_media', '文件是空的', '上传的文件是空的（0 字节），请重新选择视频文件。');
        const sniff = await sniffVideoFile(file.path);
        // A format we recognise but do not take (WMV, FLV…) is named in the detail: never "not a video".
        if (!sniff.ok)
          throw new AppError(415, 'unsupported_media', sniff.message === SNIFF_MESSAGES.notVideo ? '不是视频文件' : '不支持的文件格式', sniff.message);

        const videoId = crypto.randomUUID();
        const key = objectKeys.original(entryId, videoId);
        await store.putFile(key, file.path, { contentType: 'application/octet-stream', move: true });
        try {
          await db.transaction().execute(async (trx) => {
            const locked = await repo.lockEntry(trx, entryId);
            if (!locked || !EDITABLE.includes(locked.status)) throw invalidState(VIDEO_LOCKED);
            await repo.insertVideo(trx, {
              id: videoId,
              entry_id: entryId,
              status: 'processing',
              progress: 0,
              error: null,
              error_code: null,
              original_name: displayFileName(file.originalname),
              original_key: key,
              size_bytes: file.size,
              uploaded_by: actor.id,
            });
            // A ready video stays the entry's video until its replacement is ready (the ingest job
            // switches then); otherwise the new upload takes its place at once.
            const current = locked.video_id ? await repo.findVideo(trx, locked.video_id) : undefined;
            if (current?.status !== 'ready') await repo.updateEntry(trx, entryId, { video_id: videoId });
            await queue.enqueue(trx, { type: INGEST_JOB, payload: { videoId }, maxAttempts: 3, dedupeKey: `ingest:${videoId}` });
            await recordAudit(trx, { actor, action: 'video.upload', objectType: 'entry', objectId: entryId, detail: { videoId, sizeBytes: file.size } });
          });
        } catch (err) {
          await store.delete(key).catch(() => undefined);
          throw err;
        }
        deps.onEnqueued?.();
        return deps.entries.view(entryId);
      } finally {
        if (file) await fs.promises.rm(file.path, { force: true });
      }
    },

    /**
     * An admin's 重新处理 of the entry's failed video (the current one, else a failed replacement):
     * its ingest job is queued again with all its attempts; the original in the store is reused, no
     * re-upload. The state change is conditional (failed → processing under a row lock), so two
     * clicks queue one retry and write one `video.retry` audit row; the second answers 409.
     */
    async retryProcessing(actor: CurrentUser, entryId: string): Promise<EntryView> {
      assertArea(actor, 'videoRetry', '只有管理员可以重新处理视频。');
      const entry = await deps.entries.load(entryId);
      if (!entry) throw notFound();
      const failed = await repo.findNewestFailedVideo(db, entryId);
      if (!failed) throw invalidState('这个作品没有处理失败的视频。');
      await db.transaction().execute(async (trx) => {
        if (!(await repo.restartFailedVideo(trx, failed.id))) throw invalidState('这个视频已在重新处理。');
        const jobId = await findJobIdByDedupeKey(trx, `ingest:${failed.id}`);
        const requeued = jobId !== undefined ? await queue.retry(trx, jobId) : false;
        // No failed job to requeue (e.g. removed by an operator): a fresh job under a fresh key.
        if (!requeued)
          await queue.enqueue(trx, {
            type: INGEST_JOB,
            payload: { videoId: failed.id },
            maxAttempts: 3,
            dedupeKey: `ingest:${failed.id}:retry:${crypto.randomUUID()}`,
          });
        await recordAudit(trx, {
          actor,
          action: 'video.retry',
          objectType: 'entry',
          objectId: entryId,
          from: 'failed',
          to: 'processing',
          detail: { videoId: failed.id },
        });
      });
      deps.onEnqueued?.();
      return deps.entries.view(entryId);
    },
  };
}

export type VideoUploadService = ReturnType<typeof createVideoUploadService>;
