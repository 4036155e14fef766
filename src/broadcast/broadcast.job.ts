import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import { BroadcastMasterError, makeBroadcastMaster, type LoudnessMeasurement, type MediaCapabilities, type MediaRunner } from '../platform/media';
import { PermanentJobError, type JobHandler } from '../platform/queue/job-handler';
import { INFRA_FAILURE_REASON } from '../platform/queue/queue';
import type { ObjectStore } from '../platform/storage/object-store';
import { masterKey } from './broadcast.service';
import { tempName } from '../platform/temp-files';

/**
 * The broadcast job: from the original upload, one encode to the profile (pillarboxed, loudness
 * to −24 LKFS linear, true peak ≤ −2 dBTP), then an independent measurement of the finished file.
 * Only a master that passes is `ready`; otherwise `failed` with the measured values.
 */
export interface BroadcastPayload {
  entryId: string;
}

/** An outage outlasted JOB_INFRA_RETRY_HOURS: not the source's fault. */
export const MASTER_INFRA_FAILURE = '系统故障（数据库或文件存储长时间不可用），播出母版未能制作；原始视频完好，请稍后重新选送。';
export const MASTER_GENERIC_FAILURE = '播出母版制作失败，请稍后重新选送；如果多次失败，请联系技术人员。';

/** Failures a retry cannot fix: the source or the result is what it is. */
const PERMANENT = new Set(['too_quiet', 'master_out_of_spec', 'loudnorm_not_linear', 'source_unreadable']);

export function createBroadcastJob(deps: {
  db: Db;
  store: ObjectStore;
  runner: MediaRunner;
  capabilities: () => Promise<Pick<MediaCapabilities, 'hdrTonemap'>>;
  tmpDir: string;
  logger: Logger;
}): JobHandler<BroadcastPayload> {
  const { db, store, logger } = deps;
  return {
    async run(job, ctx) {
      const master = await db
        .selectFrom('masters as m')
        .innerJoin('videos as v', 'v.id', 'm.video_id')
        .select(['m.id', 'm.status', 'm.profile', 'm.pillarbox', 'm.video_id', 'v.original_key', 'v.loudness'])
        .where('m.entry_id', '=', job.payload.entryId)
        .executeTakeFirst();
      if (!master || master.status === 'ready') return;
      await db.updateTable('masters').set({ status: 'processing', progress: 0, error: null, needs_person: false, updated_at: new Date() }).where('id', '=', master.id).execute();

      await fs.mkdir(deps.tmpDir, { recursive: true });
      const workDir = path.join(deps.tmpDir, tempName('master'));
      await fs.mkdir(workDir);
      try {
        const source = path.join(workDir, 'source');
        await store.downloadToFile(master.original_key, source);
        let lastAt = 0;
        const result = await makeBroadcastMaster({
          runner: deps.runner,
          caps: await deps.capabilities(),
          sourcePath: source,
          workDir,
          profile: master.profile,
          pillarbox: master.pillarbox,
          ingestLoudness: (master.loudness as LoudnessMeasurement | null) ?? null,
          signal: ctx.signal,
          onProgress(percent) {
            ctx.progress(percent);
            if (Date.now() - lastAt > 2000) {
              lastAt = Date.now();
              void db.updateTable('masters').set({ progress: Math.min(99, Math.floor(percent)) }).where('id', '=', master.id).execute().catch(() => undefined);
            }
          },
        });
        const key = masterKey(master.video_id, master.profile);
        const { sizeBytes } = await store.putFile(key, result.outputPath, { contentType: master.profile === 'xdcam-hd422' ? 'application/mxf' : 'video/mp4', move: true });
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('masters')
            .set({
              status: 'ready',
              progress: 100,
              object_key: key,
              size_bytes: sizeBytes,
              loudness: JSON.stringify(result.loudness),
              verification: JSON.stringify(result.verification.measured),
              ready_at: new Date(),
              updated_at: new Date(),
            })
            .where('id', '=', master.id)
            .execute();
          await ctx.complete(trx);
        });
        logger.info('broadcast master ready', { entryId: job.payload.entryId, profile: master.profile, elapsedMs: result.elapsedMs, encodes: result.encodes });
      } catch (err) {
        if (err instanceof BroadcastMasterError && PERMANENT.has(err.code)) {
          logger.info('broadcast master refused', { entryId: job.payload.entryId, code: err.code, detail: err.detail });
          await db
            .updateTable('masters')
            .set({ status: 'failed', error: err.message, needs_person: err.code === 'too_quiet', progress: 0, updated_at: new Date() })
            .where('id', '=', master.id)
            .execute();
          throw new PermanentJobError(err.message, { cause: err });
        }
        throw err;
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },

    async onFinalFailure(job, reason, trx) {
      const m = await trx.selectFrom('masters').select(['id', 'status', 'error']).where('entry_id', '=', job.payload.entryId).executeTakeFirst();
      if (!m || m.status === 'ready') return;
      await trx
        .updateTable('masters')
        .set({
          status: 'failed',
          error:
            m.status === 'failed' && m.error
              ? m.error
              : reason === INFRA_FAILURE_REASON
                ? MASTER_INFRA_FAILURE
                : /[\u4e00-\u9fff]/.test(reason) && !/lease/.test(reason)
                  ? reason.slice(0, 500)
                  : MASTER_GENERIC_FAILURE,
          updated_at: new Date(),
        })
        .where('id', '=', m.id)
        .execute();
    },
  };
}
