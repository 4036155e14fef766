import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { EntryStatus } from '../entries/entry.schema';
import type { DownloadsTable, MastersTable } from './broadcast.schema';

/** Masters, airing dates and the download log as rows (Kysely); the rules live in broadcast.service.ts and broadcast.job.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type MasterRow = Selectable<MastersTable>;

/** The master of each entry and its airing date, for a whole list of entries: one query. */
export async function mastersAndAiring(q: Q, entryIds: readonly string[]): Promise<Map<string, { master: MasterRow | null; airedOn: string | null }>> {
  if (!entryIds.length) return new Map();
  const rows = await q
    .selectFrom('entries as e')
    .leftJoin('masters as m', 'm.entry_id', 'e.id')
    .select(['e.id as e_id', 'e.aired_on as e_aired_on'])
    .selectAll('m')
    .where('e.id', 'in', entryIds)
    .execute();
  return new Map(rows.map(({ e_id, e_aired_on, ...m }) => [e_id, { airedOn: e_aired_on, master: m.id === null ? null : (m as MasterRow) }]));
}

/** Whether any entry in one of these statuses has a ready master (one indexed probe). */
export async function anyReadyMaster(q: Q, campaignId: string, entryStatuses: readonly EntryStatus[]): Promise<boolean> {
  const row = await q
    .selectFrom('masters as m')
    .innerJoin('entries as e', 'e.id', 'm.entry_id')
    .select('m.id')
    .where('m.status', '=', 'ready')
    .where('e.campaign_id', '=', campaignId)
    .where('e.status', 'in', entryStatuses)
    .limit(1)
    .executeTakeFirst();
  return Boolean(row);
}

export function findMasterOfEntry(q: Q, entryId: string): Promise<MasterRow | undefined> {
  return q.selectFrom('masters').selectAll().where('entry_id', '=', entryId).executeTakeFirst();
}

/** The entry row a selection needs, locked. */
export function lockEntryForSelection(trx: Transaction<DB>, entryId: string) {
  return trx.selectFrom('entries').select(['id', 'status', 'video_id']).where('id', '=', entryId).forUpdate().executeTakeFirst();
}

/** Replaces the entry's master with a new, queued one; returns the new row's id. */
export async function replaceMaster(trx: Transaction<DB>, values: Insertable<MastersTable> & { entry_id: string }): Promise<string> {
  await trx.deleteFrom('masters').where('entry_id', '=', values.entry_id).execute();
  const { id } = await trx.insertInto('masters').values(values).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function setEntryStatus(q: Q, entryId: string, values: Updateable<DB['entries']>): Promise<void> {
  await q.updateTable('entries').set(values).where('id', '=', entryId).execute();
}

export async function logDownload(q: Q, row: Insertable<DownloadsTable>): Promise<void> {
  await q.insertInto('downloads').values(row).execute();
}

/** The master with what the job needs of its video, by master id. */
export function findMasterForJob(q: Q, masterId: string) {
  return q
    .selectFrom('masters as m')
    .innerJoin('videos as v', 'v.id', 'm.video_id')
    .select(['m.id', 'm.entry_id', 'm.status', 'm.profile', 'm.pillarbox', 'm.video_id', 'v.original_key', 'v.loudness'])
    .where('m.id', '=', masterId)
    .executeTakeFirst();
}

/** The id of an entry's current master (jobs queued before masters were keyed by id carry the entry only). */
export async function currentMasterId(q: Q, entryId: string): Promise<string | null> {
  return (await q.selectFrom('masters').select('id').where('entry_id', '=', entryId).executeTakeFirst())?.id ?? null;
}

export function lockMaster(trx: Transaction<DB>, masterId: string) {
  return trx.selectFrom('masters').select(['id', 'status', 'error']).where('id', '=', masterId).forUpdate().executeTakeFirst();
}

/**
 * Updates a master unless it is already `ready` (a finished master is never touched again: a late
 * progress write or failure of an earlier attempt must not undo it). Returns whether a row changed.
 */
export async function updateUnfinishedMaster(q: Q, masterId: string, values: Updateable<MastersTable>): Promise<boolean> {
  const r = await q.updateTable('masters').set(values).where('id', '=', masterId).where('status', '!=', 'ready').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Progress is only written while the master is being made. */
export async function writeMasterProgress(q: Q, masterId: string, progress: number): Promise<void> {
  await q.updateTable('masters').set({ progress }).where('id', '=', masterId).where('status', '=', 'processing').execute();
}

/** The campaign's entries by their masters' state (ready and selected but not aired, in production, failed): the TV desk's to-do. */
export async function masterTodoCounts(q: Q, campaignId: string) {
  return q
    .selectFrom('entries as e')
    .innerJoin('masters as m', 'm.entry_id', 'e.id')
    .select([
      sql<string>`count(DISTINCT e.id) FILTER (WHERE m.status = 'ready' AND e.status = 'broadcast_selected')`.as('ready'),
      sql<string>`count(DISTINCT e.id) FILTER (WHERE m.status IN ('queued', 'processing'))`.as('making'),
      sql<string>`count(DISTINCT e.id) FILTER (WHERE m.status = 'failed')`.as('failed'),
    ])
    .where('e.campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
}
