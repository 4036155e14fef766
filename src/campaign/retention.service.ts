import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import type { AppJobQueue } from '../jobs';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { invalidState, notFound } from '../platform/errors';
import type { ObjectStore } from '../platform/storage/object-store';
import * as campaignRepo from './campaign.repository';
import { CAMPAIGN_NOT_FOUND, RETENTION_RUN_STATUS_LABELS } from './campaign.messages';
import type { RetentionItemsTable, RetentionRunStatus } from './campaign.schema';
import * as repo from './retention.repository';
import { RETENTION_JOB } from './retention.job';
import type { Insertable } from 'kysely';

export interface RetentionReport {
  id: string;
  campaignId: string;
  status: RetentionRunStatus;
  statusLabel: string;
  includeNotAwarded: boolean;
  entries: number;
  objects: number;
  bytes: number;
  deleted: number;
  notBefore: string;
  createdAt: string;
  confirmedAt: string | null;
  finishedAt: string | null;
  schools: Array<{ schoolId: string; school: string; county: string | null; entries: number; objects: number; bytes: number; deleted: number }>;
}

const DAY_MS = 24 * 3600 * 1000;
/** How many HEAD requests the dry run keeps in flight. */
const HEAD_CONCURRENCY = 8;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Retention after a campaign closes: the dry run writes down exactly which objects would go (with
 * their sizes and ETags as the store reports them); confirming queues the job that deletes those and
 * nothing else (retention.job.ts), not before `closed_at + retention_days`.
 */
export function createRetentionService(db: Db, deps: { store: ObjectStore; queue: AppJobQueue; now?: () => Date; onEnqueued?: () => void }) {
  const now = deps.now ?? (() => new Date());

  async function report(runId: string): Promise<RetentionReport> {
    const run = await repo.findRun(db, runId);
    if (!run) throw notFound('清理记录不存在。');
    const schools = await repo.runBySchool(db, runId);
    return {
      id: run.id,
      campaignId: run.campaign_id,
      status: run.status,
      statusLabel: RETENTION_RUN_STATUS_LABELS[run.status],
      includeNotAwarded: run.include_not_awarded,
      entries: run.entry_count,
      objects: run.object_count,
      bytes: Number(run.total_bytes),
      deleted: schools.reduce((n, s) => n + Number(s.deleted), 0),
      notBefore: new Date(run.not_before).toISOString(),
      createdAt: new Date(run.created_at).toISOString(),
      confirmedAt: run.confirmed_at ? new Date(run.confirmed_at).toISOString() : null,
      finishedAt: run.finished_at ? new Date(run.finished_at).toISOString() : null,
      schools: schools.map((s) => ({
        schoolId: s.school_id,
        school: s.school_name,
        county: s.county_name,
        entries: Number(s.entries),
        objects: Number(s.objects),
        bytes: Number(s.bytes),
        deleted: Number(s.deleted),
      })),
    };
  }

  return {
    report: async (actor: CurrentUser, runId: string) => {
      assertArea(actor, 'campaignAdmin');
      return report(runId);
    },

    async latest(actor: CurrentUser, campaignId: string): Promise<RetentionReport | null> {
      assertArea(actor, 'campaignAdmin');
      const [run] = await repo.latestRuns(db, campaignId, 1);
      return run ? report(run.id) : null;
    },

    /** The dry run: lists (and keeps) every object that would be deleted; deletes nothing. */
    async dryRun(actor: CurrentUser, campaignId: string): Promise<RetentionReport> {
      assertArea(actor, 'campaignAdmin');
      const campaign = await campaignRepo.findCampaignRow(db, campaignId);
      if (!campaign) throw notFound(CAMPAIGN_NOT_FOUND);
      if (campaign.status !== 'closed' || !campaign.closed_at) throw invalidState('请先关闭活动，再预演保留期清理：活动关闭后作品不再变化，预演的清单才可靠。');
      if (campaign.retention_days === null) throw invalidState('请先设置保留期限（关闭后保留多少天）。');
      const rows = await repo.retentionCandidates(db, campaignId, campaign.retention_not_awarded);
      const wanted = rows.flatMap((r) =>
        (
          [
            ['original', r.original_key],
            ['preview', r.preview_key],
            ['poster', r.poster_key],
          ] as const
        )
          .filter((pair): pair is readonly ['original' | 'preview' | 'poster', string] => typeof pair[1] === 'string')
          .map(([kind, key]) => ({ entryId: r.entry_id, videoId: r.video_id, kind, key })),
      );
      // What the store holds now: sizes for the report, ETags for the tombstone (an absent object is listed with 0 bytes).
      const infos = await mapLimit(wanted, HEAD_CONCURRENCY, (w) => deps.store.head(w.key));
      const items: Array<Insertable<RetentionItemsTable>> = wanted.map((w, i) => ({
        run_id: '',
        object_key: w.key,
        entry_id: w.entryId,
        video_id: w.videoId,
        kind: w.kind,
        size_bytes: infos[i]?.sizeBytes ?? 0,
        etag: infos[i]?.etag ?? null,
      }));
      const notBefore = new Date(new Date(campaign.closed_at).getTime() + campaign.retention_days * DAY_MS);
      const runId = await db.transaction().execute(async (trx) => {
        await repo.cancelPlannedRuns(trx, campaignId);
        const id = await repo.insertRun(trx, {
          campaignId,
          includeNotAwarded: campaign.retention_not_awarded,
          entryCount: new Set(wanted.map((w) => w.entryId)).size,
          objectCount: items.length,
          totalBytes: items.reduce((n, i) => n + Number(i.size_bytes), 0),
          createdBy: actor.id,
          notBefore,
        });
        await repo.insertItems(
          trx,
          items.map((i) => ({ ...i, run_id: id })),
        );
        await recordAudit(trx, {
          actor,
          action: 'retention.dry_run',
          objectType: 'campaign',
          objectId: campaignId,
          detail: { runId: id, objects: items.length, includeNotAwarded: campaign.retention_not_awarded },
        });
        return id;
      });
      return report(runId);
    },

    /** Runs exactly what the dry run listed: a job, queued for `not_before` (now, when the days have passed). */
    async confirm(actor: CurrentUser, runId: string): Promise<RetentionReport> {
      assertArea(actor, 'campaignAdmin');
      await db.transaction().execute(async (trx) => {
        const run = await repo.lockRun(trx, runId);
        if (!run) throw notFound('清理记录不存在。');
        if (run.status === 'cancelled') throw invalidState('这次预演已被更新的预演取代，请按最新的预演确认。');
        if (run.status !== 'planned') throw invalidState('这次清理已经确认过了。');
        const at = now();
        const runAt = new Date(Math.max(at.getTime(), new Date(run.not_before).getTime()));
        await repo.setRunStatus(trx, runId, { status: 'queued', confirmed_at: at });
        await deps.queue.enqueue(trx, { type: RETENTION_JOB, payload: { runId }, runAt, dedupeKey: `retention:${runId}`, maxAttempts: 10 });
        await recordAudit(trx, {
          actor,
          action: 'retention.confirm',
          objectType: 'campaign',
          objectId: run.campaign_id,
          detail: { runId, objects: run.object_count, runAt: runAt.toISOString() },
        });
      });
      deps.onEnqueued?.();
      return report(runId);
    },
  };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
