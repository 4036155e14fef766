import { progressWriter } from '../platform/queue/progress';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import { MediaPackError, makeMediaPack, type LoudnessMeasurement, type MediaCapabilities, type MediaRunner, type PackFonts } from '../platform/media';
import { PermanentJobError, type JobHandler } from '../platform/queue/job-handler';
import { INFRA_FAILURE_REASON } from '../platform/queue/queue';
import type { ObjectStore } from '../platform/storage/object-store';
import { objectKeys } from '../platform/storage/object-keys';
import { tempName } from '../platform/temp-files';
import { notify } from '../notifications/notify';
import { PACK_GENERIC_FAILURE, PACK_INFRA_FAILURE, packFailedTitle, packReadyTitle } from './newmedia.messages';
import * as repo from './newmedia.repository';
import type { PackFileKind, PackOutputs } from './newmedia.schema';

/**
 * The pack job: from the original upload, one run making both videos and both covers, then an
 * independent measurement of every file (src/platform/media/pack.ts). Only a pack that passes is
 * `ready`; otherwise `failed` with the measured values. Keyed by the pack row: a restart makes a
 * new row, and the old job finds its pack gone instead of finishing the new one.
 */
export const PACK_JOB = 'newmedia.pack';

export interface PackPayload {
  packId: string;
  entryId: string;
}

const FILES: Record<PackFileKind, { name: 'oa.mp4' | 'vertical.mp4' | 'cover-wide.jpg' | 'cover-square.jpg'; type: string }> = {
  oa: { name: 'oa.mp4', type: 'video/mp4' },
  vertical: { name: 'vertical.mp4', type: 'video/mp4' },
  coverWide: { name: 'cover-wide.jpg', type: 'image/jpeg' },
  coverSquare: { name: 'cover-square.jpg', type: 'image/jpeg' },
};

/** Failures a retry of the same job cannot fix (the editor can still restart the pack). */
const PERMANENT = new Set(['too_quiet', 'too_long', 'pack_out_of_spec', 'source_unreadable']);

function packFailureOf(cause: unknown): MediaPackError | null {
  if (cause instanceof MediaPackError) return cause;
  return cause instanceof PermanentJobError && cause.cause instanceof MediaPackError ? cause.cause : null;
}

export function createPackJob(deps: {
  db: Db;
  store: ObjectStore;
  runner: MediaRunner;
  capabilities: () => Promise<Pick<MediaCapabilities, 'hdrTonemap'>>;
  fonts: () => PackFonts;
  tmpDir: string;
  logger: Logger;
}): JobHandler<PackPayload> {
  const { db, store, logger } = deps;
  return {
    async run(job, ctx) {
      const pack = await repo.findPackForJob(db, job.payload.packId);
      if (!pack || pack.status === 'ready') {
        if (!pack) logger.info('media pack superseded before it was made', { ...job.payload });
        return;
      }
      if (!(await repo.updateUnfinishedPack(db, pack.id, { status: 'processing', progress: 0, error: null, updated_at: new Date() }))) return;

      await fs.mkdir(deps.tmpDir, { recursive: true });
      const workDir = path.join(deps.tmpDir, tempName('pack'));
      await fs.mkdir(workDir);
      const keys: string[] = [];
      try {
        const source = path.join(workDir, 'source');
        await store.downloadToFile(pack.original_key, source);
        const progress = progressWriter((p) => repo.writePackProgress(db, pack.id, p));
        const result = await makeMediaPack({
          runner: deps.runner,
          caps: await deps.capabilities(),
          sourcePath: source,
          workDir: path.join(workDir, 'out'),
          cards: pack.texts.cards,
          fonts: deps.fonts(),
          maxBytes: Number(pack.max_bytes),
          ingestLoudness: (pack.loudness as LoudnessMeasurement | null) ?? null,
          signal: ctx.signal,
          onProgress(percent) {
            ctx.progress(percent);
            progress.report(percent);
          },
        });
        await progress.flushed();
        const outputs = {} as PackOutputs;
        for (const kind of Object.keys(FILES) as PackFileKind[]) {
          const key = objectKeys.packFile(pack.id, FILES[kind].name);
          keys.push(key);
          const { sizeBytes } = await store.putFile(key, result.files[kind], { contentType: FILES[kind].type, move: true });
          outputs[kind] = { key, sizeBytes };
        }
        const superseded = await db.transaction().execute(async (trx) => {
          if (!(await repo.lockPack(trx, pack.id))) {
            await ctx.complete(trx);
            return true;
          }
          await repo.updateUnfinishedPack(trx, pack.id, {
            status: 'ready',
            progress: 100,
            outputs: JSON.stringify(outputs),
            measured: JSON.stringify(result.measured),
            ready_at: new Date(),
            updated_at: new Date(),
          });
          // The editor who started it (the desk shows it too; the message tells them without watching).
          if (pack.requested_by) {
            await notify(trx, {
              kind: 'media_pack.ready',
              recipients: { userIds: [pack.requested_by] },
              title: packReadyTitle(pack.texts.cards.coverTitle),
              link: '/newmedia',
              entryId: pack.entry_id,
              dedupeKey: `media_pack.ready:${pack.id}`,
            });
          }
          await ctx.complete(trx);
          return false;
        });
        if (superseded) {
          await Promise.all(keys.map((k) => store.delete(k).catch(() => undefined)));
          logger.info('media pack superseded by a restart', { ...job.payload });
          return;
        }
        logger.info('media pack ready', { ...job.payload, elapsedMs: result.elapsedMs, encodes: result.encodes, coversFrom: result.coversFrom });
      } catch (err) {
        await Promise.all(keys.map((k) => store.delete(k).catch(() => undefined)));
        if (err instanceof MediaPackError && PERMANENT.has(err.code)) {
          logger.info('media pack refused', { ...job.payload, code: err.code, detail: err.detail });
          await repo.updateUnfinishedPack(db, pack.id, { status: 'failed', error: err.message.slice(0, 1000), progress: 0, updated_at: new Date() });
          throw new PermanentJobError(err.message, { cause: err });
        }
        throw err;
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },

    async onFinalFailure(job, reason, trx, cause) {
      const p = await repo.lockPack(trx, job.payload.packId);
      if (!p || p.status === 'ready') return;
      const error =
        p.status === 'failed' && p.error
          ? p.error
          : reason === INFRA_FAILURE_REASON
            ? PACK_INFRA_FAILURE
            : (packFailureOf(cause)?.message.slice(0, 1000) ?? PACK_GENERIC_FAILURE);
      await repo.updateUnfinishedPack(trx, p.id, { status: 'failed', error, updated_at: new Date() });
      if (p.requested_by) {
        await notify(trx, {
          kind: 'media_pack.failed',
          recipients: { userIds: [p.requested_by] },
          title: packFailedTitle(p.texts.cards.coverTitle),
          body: error,
          link: '/newmedia',
          entryId: p.entry_id,
          dedupeKey: `media_pack.failed:${p.id}`,
        });
      }
    },
  };
}
