import { progressWriter } from '../platform/queue/progress';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import { BroadcastMasterError, makeBroadcastMaster, type LoudnessMeasurement, type MediaCapabilities, type MediaRunner } from '../platform/media';
import { PermanentJobError, type JobHandler } from '../platform/queue/job-handler';
import { INFRA_FAILURE_REASON } from '../platform/queue/queue';
import type { ObjectStore } from '../platform/storage/object-store';
import { objectKeys } from '../platform/storage/object-keys';
import { tempName } from '../platform/temp-files';
import * as repo from './broadcast.repository';
import type { MasterProfile } from './broadcast.schema';
import { notify } from '../notifications/notify';
import { entryHeadline } from '../entries/entry.repository';
import { MASTER_READY_MESSAGE } from './broadcast.messages';

/**
 * The broadcast job: from the original upload, one encode to the profile (pillarboxed, loudness
 * to −24 LKFS linear, true peak ≤ −2 dBTP), then an independent measurement of the finished file.
 * Only a master that passes is `ready`; otherwise `failed` with the measured values.
 */
export const BROADCAST_JOB = 'broadcast.master';

/**
 * The job makes one `masters` row's file. Keyed by the master, not the entry: when the entry is
 * selected again, its old master row goes and a new one comes, and the old job finds its master
 * gone (superseded) instead of finishing — or failing — the new one. `entryId` is for the logs;
 * jobs queued before masters were keyed carry only `entryId` (their entry's current master).
 */
export interface BroadcastPayload {
  masterId?: string;
  entryId: string;
}

/** Where a master's file is stored: keyed by the master row, so a re-selection never shares a key with the job it replaced. */
export const masterKey = (masterId: string, profile: MasterProfile) => objectKeys.master(masterId, profile, profile === 'xdcam-hd422' ? 'mxf' : 'mp4');

/** An outage outlasted JOB_INFRA_RETRY_HOURS: not the source's fault. */
export const MASTER_INFRA_FAILURE = '系统故障（数据库或文件存储长时间不可用），播出母版未能制作；原始视频完好，请稍后重新选送。';
export const MASTER_GENERIC_FAILURE = '播出母版制作失败，请稍后重新选送；如果多次失败，请联系技术人员。';

/** The media error behind a failed attempt (its message is a Chinese sentence for the desk), if it was one. */
function masterFailureOf(cause: unknown): BroadcastMasterError | null {
  if (cause instanceof BroadcastMasterError) return cause;
  return cause instanceof PermanentJobError && cause.cause instanceof BroadcastMasterError ? cause.cause : null;
}

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
      const masterId = job.payload.masterId ?? (await repo.currentMasterId(db, job.payload.entryId));
      const master = masterId ? await repo.findMasterForJob(db, masterId) : undefined;
      if (!master || master.status === 'ready') {
        if (!master) logger.info('broadcast master superseded before it was made', { entryId: job.payload.entryId, masterId });
        return;
      }
      if (!(await repo.updateUnfinishedMaster(db, master.id, { status: 'processing', progress: 0, error: null, needs_person: false, updated_at: new Date() })))
        return;

      await fs.mkdir(deps.tmpDir, { recursive: true });
      const workDir = path.join(deps.tmpDir, tempName('master'));
      await fs.mkdir(workDir);
      try {
        const source = path.join(workDir, 'source');
        await store.downloadToFile(master.original_key, source);
        // Only while the master is `processing` (the repository's write never touches a `ready` one).
        const progress = progressWriter((p) => repo.writeMasterProgress(db, master.id, p));
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
            progress.report(percent);
          },
        });
        await progress.flushed();
        const key = masterKey(master.id, master.profile);
        const { sizeBytes } = await store.putFile(key, result.outputPath, {
          contentType: master.profile === 'xdcam-hd422' ? 'application/mxf' : 'video/mp4',
          move: true,
        });
        const superseded = await db.transaction().execute(async (trx) => {
          // The entry may have been selected again meanwhile: its new master is another row, and this one is gone.
          if (!(await repo.lockMaster(trx, master.id))) {
            await ctx.complete(trx);
            return true;
          }
          await repo.updateUnfinishedMaster(trx, master.id, {
            status: 'ready',
            progress: 100,
            object_key: key,
            size_bytes: sizeBytes,
            loudness: JSON.stringify(result.loudness),
            verification: JSON.stringify(result.verification.measured),
            ready_at: new Date(),
            updated_at: new Date(),
          });
          const entry = await entryHeadline(trx, job.payload.entryId);
          if (entry) {
            await notify(trx, {
              kind: 'master.ready',
              recipients: { roles: ['tv'] },
              ...MASTER_READY_MESSAGE(entry.title),
              link: '/broadcast',
              entryId: entry.id,
              dedupeKey: `master.ready:${master.id}`,
            });
          }
          await ctx.complete(trx);
          return false;
        });
        if (superseded) {
          await store.delete(key).catch(() => undefined);
          logger.info('broadcast master superseded by a new selection', { entryId: job.payload.entryId, masterId: master.id });
          return;
        }
        logger.info('broadcast master ready', { entryId: job.payload.entryId, profile: master.profile, elapsedMs: result.elapsedMs, encodes: result.encodes });
      } catch (err) {
        if (err instanceof BroadcastMasterError && PERMANENT.has(err.code)) {
          logger.info('broadcast master refused', { entryId: job.payload.entryId, code: err.code, detail: err.detail });
          await repo.updateUnfinishedMaster(db, master.id, {
            status: 'failed',
            error: err.message,
            needs_person: err.code === 'too_quiet',
            progress: 0,
            updated_at: new Date(),
          });
          throw new PermanentJobError(err.message, { cause: err });
        }
        throw err;
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },

    async onFinalFailure(job, reason, trx, cause) {
      // Only this job's own master: a newer selection's master is another row, never marked failed here.
      const masterId = job.payload.masterId ?? (await repo.currentMasterId(trx, job.payload.entryId));
      const m = masterId ? await repo.lockMaster(trx, masterId) : undefined;
      if (!m || m.status === 'ready') return;
      await repo.updateUnfinishedMaster(trx, m.id, {
        status: 'failed',
        error:
          m.status === 'failed' && m.error
            ? m.error
            : reason === INFRA_FAILURE_REASON
              ? MASTER_INFRA_FAILURE
              : (masterFailureOf(cause)?.message.slice(0, 500) ?? MASTER_GENERIC_FAILURE),
        updated_at: new Date(),
      });
    },
  };
}
