import type { Db } from '../platform/db/database';
import { recordAudit } from '../platform/audit';
import type { Logger } from '../platform/logger';
import type { JobHandler } from '../platform/queue/job-handler';
import type { ObjectStore } from '../platform/storage/object-store';
import * as repo from './retention.repository';

/**
 * The retention job: deletes the objects its dry run listed, entry by entry. Each object is marked
 * deleted right after the store confirms; when an entry's last object is gone its tombstone is
 * written and its videos marked purged. A crash anywhere leaves a state the next attempt finishes:
 * deleting an already-deleted object succeeds, marks and tombstones are written once.
 */
export const RETENTION_JOB = 'campaign.retention';

export interface RetentionPayload {
  runId: string;
}

export function createRetentionJob(deps: {
  db: Db;
  store: ObjectStore;
  logger: Logger;
  now?: () => Date;
  /** Tests: called after each object is deleted and marked (throw to simulate a crash between deletions). */
  afterDelete?: (key: string) => void | Promise<void>;
}): JobHandler<RetentionPayload> {
  const { db, store } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    async run(job, ctx) {
      const runId = job.payload.runId;
      const run = await repo.findRun(db, runId);
      if (!run || run.status === 'done' || run.status === 'cancelled' || run.status === 'planned') return;
      if (run.status === 'queued') await repo.setRunStatus(db, runId, { status: 'running' });
      const entries = await repo.unfinishedEntries(db, runId);
      let done = 0;
      for (const entryId of entries) {
        ctx.signal.throwIfAborted();
        for (const item of await repo.pendingItemsOf(db, runId, entryId)) {
          await store.delete(item.object_key);
          await repo.markDeleted(db, runId, item.object_key, now());
          await deps.afterDelete?.(item.object_key);
        }
        await db.transaction().execute((trx) => repo.buryEntry(trx, runId, entryId, now()));
        ctx.progress(Math.round((++done * 100) / entries.length));
      }
      await db.transaction().execute(async (trx) => {
        await repo.setRunStatus(trx, runId, { status: 'done', finished_at: now() });
        await recordAudit(trx, {
          actor: null,
          action: 'retention.run',
          objectType: 'campaign',
          objectId: run.campaign_id,
          detail: { runId, entries: run.entry_count, objects: run.object_count, bytes: Number(run.total_bytes) },
        });
      });
      deps.logger.info('retention run finished', { runId, entries: run.entry_count, objects: run.object_count });
    },
  };
}
