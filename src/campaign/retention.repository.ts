import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import { allowArchiveWrite } from '../platform/db/archive-guard';
import type { DB } from '../platform/db/schema';
import type { RetentionItemsTable } from './campaign.schema';

/** Retention runs, their items and tombstones as rows (Kysely); rules in retention.service.ts, work in retention.job.ts. */
type Q = Kysely<DB> | Transaction<DB>;

/** Entries that never passed the school/county stage — forwarded nowhere — keep no files after retention. */
const KEPT_STATUSES = ['awarded', 'broadcast_selected', 'aired'] as const;

/**
 * The files retention would delete, one row per object: every video (current and replaced) of the
 * campaign's entries never forwarded to the city and, with `includeNotAwarded`, of entries with no
 * award, no broadcast selection and no master. Entries already tombstoned are done.
 */
export function retentionCandidates(q: Q, campaignId: string, includeNotAwarded: boolean) {
  return q
    .selectFrom('entries as e')
    .innerJoin('videos as v', 'v.entry_id', 'e.id')
    .select(['e.id as entry_id', 'e.school_id', 'v.id as video_id', 'v.original_key', 'v.preview_key', 'v.poster_key'])
    .where('e.campaign_id', '=', campaignId)
    .where('v.purged_at', 'is', null)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('entry_tombstones as t').select('t.entry_id').whereRef('t.entry_id', '=', 'e.id'))))
    .where((eb) => {
      const neverForwarded = eb('e.forwarded_at', 'is', null);
      if (!includeNotAwarded) return neverForwarded;
      const notAwarded = eb.and([
        eb('e.award', 'is', null),
        eb('e.status', 'not in', KEPT_STATUSES),
        eb.not(eb.exists(eb.selectFrom('masters as m').select('m.id').whereRef('m.entry_id', '=', 'e.id'))),
        eb.not(eb.exists(eb.selectFrom('round_entries as re').select('re.entry_id').whereRef('re.entry_id', '=', 'e.id').where('re.award', 'is not', null))),
      ]);
      return eb.or([neverForwarded, notAwarded]);
    })
    .orderBy('e.id')
    .orderBy('v.id')
    .execute();
}

export async function cancelPlannedRuns(trx: Transaction<DB>, campaignId: string): Promise<void> {
  await trx.updateTable('retention_runs').set({ status: 'cancelled' }).where('campaign_id', '=', campaignId).where('status', '=', 'planned').execute();
}

export async function insertRun(
  trx: Transaction<DB>,
  values: { campaignId: string; includeNotAwarded: boolean; entryCount: number; objectCount: number; totalBytes: number; createdBy: string; notBefore: Date },
): Promise<string> {
  const { id } = await trx
    .insertInto('retention_runs')
    .values({
      campaign_id: values.campaignId,
      include_not_awarded: values.includeNotAwarded,
      entry_count: values.entryCount,
      object_count: values.objectCount,
      total_bytes: values.totalBytes,
      created_by: values.createdBy,
      not_before: values.notBefore,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export async function insertItems(trx: Transaction<DB>, items: Array<Insertable<RetentionItemsTable>>): Promise<void> {
  for (let i = 0; i < items.length; i += 500)
    await trx
      .insertInto('retention_items')
      .values(items.slice(i, i + 500))
      .execute();
}

export function findRun(q: Q, id: string) {
  return q.selectFrom('retention_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockRun(trx: Transaction<DB>, id: string) {
  return trx.selectFrom('retention_runs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function latestRuns(q: Q, campaignId: string, limit: number) {
  return q.selectFrom('retention_runs').selectAll().where('campaign_id', '=', campaignId).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
}

/** The run's report: per school, how many entries and objects and how many bytes (and how many already deleted). */
export function runBySchool(q: Q, runId: string) {
  return q
    .selectFrom('retention_items as i')
    .innerJoin('entries as e', 'e.id', 'i.entry_id')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 's.county_id')
    .select((eb) => [
      's.id as school_id',
      's.name as school_name',
      'c.name as county_name',
      eb.fn.count<number>('i.entry_id').distinct().as('entries'),
      eb.fn.countAll<number>().as('objects'),
      eb.fn.coalesce(eb.fn.sum<number>('i.size_bytes'), sql<number>`0`).as('bytes'),
      eb.fn.countAll<number>().filterWhere('i.deleted_at', 'is not', null).as('deleted'),
    ])
    .where('i.run_id', '=', runId)
    .groupBy(['s.id', 's.name', 'c.name', 'c.sort'])
    .orderBy('c.sort', (ob) => ob.asc().nullsFirst())
    .orderBy('s.name')
    .execute();
}

/** Every object of the run (the exact list; for tests and the audit). */
export function runItems(q: Q, runId: string) {
  return q.selectFrom('retention_items').selectAll().where('run_id', '=', runId).orderBy('entry_id').orderBy('object_key').execute();
}

/** The run's entries that still have objects to delete or no tombstone yet, in a stable order. */
export async function unfinishedEntries(q: Q, runId: string): Promise<string[]> {
  const rows = await q
    .selectFrom('retention_items as i')
    .select('i.entry_id')
    .distinct()
    .where('i.run_id', '=', runId)
    .where((eb) =>
      eb.or([
        eb('i.deleted_at', 'is', null),
        eb.not(eb.exists(eb.selectFrom('entry_tombstones as t').select('t.entry_id').whereRef('t.entry_id', '=', 'i.entry_id'))),
      ]),
    )
    .orderBy('i.entry_id')
    .execute();
  return rows.map((r) => r.entry_id);
}

export function pendingItemsOf(q: Q, runId: string, entryId: string) {
  return q
    .selectFrom('retention_items')
    .select(['object_key', 'video_id', 'kind'])
    .where('run_id', '=', runId)
    .where('entry_id', '=', entryId)
    .where('deleted_at', 'is', null)
    .orderBy('object_key')
    .execute();
}

export async function markDeleted(q: Q, runId: string, key: string, at: Date): Promise<void> {
  await q
    .updateTable('retention_items')
    .set({ deleted_at: at })
    .where('run_id', '=', runId)
    .where('object_key', '=', key)
    .where('deleted_at', 'is', null)
    .execute();
}

/**
 * After the last object of an entry is gone: its tombstone (code, school, QC, the objects' ETags and
 * sizes, when) and its videos marked purged, keys cleared. The campaign is closed: the write passes
 * the read-only guard with `cx.archive_write`, for this transaction only. Idempotent.
 */
export async function buryEntry(trx: Transaction<DB>, runId: string, entryId: string, at: Date): Promise<boolean> {
  await allowArchiveWrite(trx);
  const entry = await trx
    .selectFrom('entries as e')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('videos as v', 'v.id', 'e.video_id')
    .select(['e.id', 'e.code', 'e.campaign_id', 'e.school_id', 's.name as school_name', 'e.status', 'v.qc_verdict', 'v.qc'])
    .where('e.id', '=', entryId)
    .executeTakeFirstOrThrow();
  const items = await trx
    .selectFrom('retention_items')
    .select(['kind', 'object_key', 'etag', 'size_bytes', 'video_id'])
    .where('run_id', '=', runId)
    .where('entry_id', '=', entryId)
    .orderBy('object_key')
    .execute();
  const inserted = await trx
    .insertInto('entry_tombstones')
    .values({
      entry_id: entry.id,
      campaign_id: entry.campaign_id,
      run_id: runId,
      code: entry.code,
      school_id: entry.school_id,
      school_name: entry.school_name,
      status: entry.status,
      qc_verdict: entry.qc_verdict,
      qc: entry.qc === null ? null : JSON.stringify(entry.qc),
      hashes: JSON.stringify(items.map((i) => ({ kind: i.kind, key: i.object_key, etag: i.etag, sizeBytes: Number(i.size_bytes) }))),
      deleted_at: at,
    })
    .onConflict((oc) => oc.column('entry_id').doNothing())
    .returning('entry_id')
    .executeTakeFirst();
  const videoIds = [...new Set(items.map((i) => i.video_id))];
  if (videoIds.length)
    await trx
      .updateTable('videos')
      .set({ purged_at: at, preview_key: null, poster_key: null })
      .where('id', 'in', videoIds)
      .where('purged_at', 'is', null)
      .execute();
  return inserted !== undefined;
}

export async function setRunStatus(
  q: Q,
  runId: string,
  values: { status: 'queued' | 'running' | 'done'; confirmed_at?: Date; finished_at?: Date },
): Promise<void> {
  await q.updateTable('retention_runs').set(values).where('id', '=', runId).execute();
}

export function tombstoneOf(q: Q, entryId: string) {
  return q.selectFrom('entry_tombstones').selectAll().where('entry_id', '=', entryId).executeTakeFirst();
}
