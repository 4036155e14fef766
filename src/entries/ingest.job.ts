import { progressWriter } from '../platform/queue/progress';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import {
  INGEST_MESSAGES,
  ingestVideo,
  MediaRejectedError,
  type MediaCapabilities,
  type MediaLimits,
  type MediaRunner,
  type ProbeResult,
} from '../platform/media';
import { PermanentJobError, type JobHandler } from '../platform/queue/job-handler';
import { INFRA_FAILURE_REASON } from '../platform/queue/queue';
import { objectKeys } from '../platform/storage/object-keys';
import type { ObjectStore } from '../platform/storage/object-store';
import { deleteVideos, findNewerLiveVideo, findVideo, listOlderVideos, lockVideo, updateEntry, updateVideo } from './entry.repository';
import { notifyVideoOutcome } from './entry.notify';
import { tempName } from '../platform/temp-files';

/**
 * The ingest job, run after every upload: guard → probe → limits → one ffmpeg run (preview +
 * QC measurements + poster) → re-probe → publish. Idempotent: outputs go to keys derived from
 * the video id, and "ready" is recorded only by the attempt that still holds the job's lease.
 */
export const INGEST_JOB = 'video.ingest';

export interface IngestPayload {
  videoId: string;
}

export interface IngestJobDeps {
  db: Db;
  store: ObjectStore;
  runner: MediaRunner;
  capabilities: () => Promise<Pick<MediaCapabilities, 'hdrTonemap'>>;
  tmpDir: string;
  limits?: Partial<MediaLimits>;
  logger: Logger;
}

/** Rejections retrying cannot fix: the file itself is the problem. */
const PERMANENT: ReadonlySet<string> = new Set(['not_video', 'unreadable', 'exceeds_limits']);

export const GENERIC_FAILURE = '视频处理失败，请重新上传；如果多次失败，请用手机相册或剪辑软件重新导出为 MP4 后再上传。';

/** The probe facts the API shows (docs/api.md `Video.probe`). */
export function publicProbe(p: ProbeResult) {
  return {
    durationS: p.durationS,
    width: p.width,
    height: p.height,
    displayWidth: p.displayWidth,
    displayHeight: p.displayHeight,
    rotation: p.rotation,
    fps: Math.round(p.fps * 1000) / 1000,
    variableFrameRate: p.variableFrameRate,
    videoCodec: p.videoCodec,
    audioCodec: p.audioCodec,
    hasAudio: p.hasAudio,
    isHdr: p.isHdr,
    bitDepth: p.bitDepth,
  };
}

export function createIngestJob(deps: IngestJobDeps): JobHandler<IngestPayload> {
  const { db, store, logger } = deps;

  return {
    async run(job, ctx) {
      const videoId = job.payload.videoId;
      const video = await findVideo(db, videoId);
      if (!video || video.status === 'ready') return; // entry deleted, or an earlier attempt finished
      await updateVideo(db, videoId, { status: 'processing', progress: 0, error: null, error_code: null });

      await fs.mkdir(deps.tmpDir, { recursive: true });
      const workDir = path.join(deps.tmpDir, tempName('ingest'));
      await fs.mkdir(workDir);
      try {
        const source = path.join(workDir, 'source');
        await store.downloadToFile(video.original_key, source);

        const progress = progressWriter((p) => updateVideo(db, videoId, { progress: p }), 1500);
        const result = await ingestVideo({
          runner: deps.runner,
          caps: await deps.capabilities(),
          sourcePath: source,
          workDir,
          limits: deps.limits,
          signal: ctx.signal,
          onProgress(percent) {
            ctx.progress(Math.min(99, Math.floor(percent)));
            progress.report(percent);
          },
        });
        await progress.flushed();

        await store.putFile(objectKeys.preview(videoId), result.previewPath, { contentType: 'video/mp4' });
        await store.putFile(objectKeys.poster(videoId), result.posterPath, { contentType: 'image/jpeg' });

        const outcome = await db.transaction().execute(async (trx) => {
          // A newer upload of the same entry may have become ready meanwhile and removed this one.
          const still = await lockVideo(trx, videoId);
          if (!still) {
            await ctx.complete(trx);
            return { superseded: true, older: [] };
          }
          await updateVideo(trx, videoId, {
            status: 'ready',
            progress: 100,
            error: null,
            error_code: null,
            probe: JSON.stringify(publicProbe(result.probe)),
            qc: JSON.stringify(result.qc),
            qc_verdict: result.qc.verdict,
            loudness: result.loudness ? JSON.stringify(result.loudness) : null,
            duration_s: result.probe.durationS,
            preview_key: objectKeys.preview(videoId),
            poster_key: objectKeys.poster(videoId),
            ready_at: new Date(),
          });
          // A newer upload of the entry still on its way wins later; until then this one waits, ready.
          const newer = await findNewerLiveVideo(trx, video.entry_id, videoId);
          if (newer) {
            await ctx.complete(trx);
            return { superseded: false, older: [] };
          }
          // The newest upload is ready: it becomes the entry's video (a replacement takes over from
          // the ready video it was kept behind), and older videos go (rows now, objects after commit).
          await updateEntry(trx, video.entry_id, { video_id: videoId });
          const older = await listOlderVideos(trx, video.entry_id, videoId);
          if (result.qc.verdict === 'warn') await notifyVideoOutcome(trx, video.entry_id, videoId, 'warn', null);
          if (older.length)
            await deleteVideos(
              trx,
              older.map((o) => o.id),
            );
          await ctx.complete(trx);
          return { superseded: false, older };
        });
        if (outcome.superseded) {
          await Promise.all([store.delete(objectKeys.preview(videoId)), store.delete(objectKeys.poster(videoId)), store.delete(video.original_key)]).catch(
            () => undefined,
          );
          logger.info('video superseded by a newer upload', { videoId });
          return;
        }
        for (const old of outcome.older) {
          await Promise.all([store.delete(old.original_key), store.delete(objectKeys.preview(old.id)), store.delete(objectKeys.poster(old.id))]).catch((err) =>
            logger.warn('could not delete a replaced video', { videoId: old.id, err }),
          );
        }
        logger.info('video ready', { videoId, verdict: result.qc.verdict, elapsedMs: result.elapsedMs });
      } catch (err) {
        if (err instanceof MediaRejectedError) {
          logger.info('video rejected', { videoId, code: err.code, detail: err.detail });
          if (PERMANENT.has(err.code)) {
            await updateVideo(db, videoId, { status: 'failed', error: err.message, error_code: err.code, progress: 0 });
            throw new PermanentJobError(err.message, { cause: err });
          }
        }
        throw err;
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },

    /** Attempts exhausted (or the worker died on the last one): the teacher sees why, in Chinese. */
    async onFinalFailure(job, reason, trx) {
      const video = await findVideo(trx, job.payload.videoId);
      if (!video || video.status === 'ready') return;
      const known = (Object.values(INGEST_MESSAGES) as string[]).includes(reason) || reason === INFRA_FAILURE_REASON;
      const message = video.status === 'failed' && video.error ? video.error : known ? reason : GENERIC_FAILURE;
      await updateVideo(trx, job.payload.videoId, {
        status: 'failed',
        error: message,
        error_code: video.status === 'failed' ? undefined : reason === INFRA_FAILURE_REASON ? 'system_unavailable' : 'processing_failed',
        progress: 0,
      });
      await notifyVideoOutcome(trx, video.entry_id, job.payload.videoId, 'failed', message);
    },
  };
}
