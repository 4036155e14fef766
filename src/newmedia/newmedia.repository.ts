import type { Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { EntryStatus } from '../entries/entry.schema';
import type { MediaPacksTable } from './newmedia.schema';

/** Packs as rows (Kysely); the rules live in newmedia.service.ts and newmedia.job.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type PackRow = Selectable<MediaPacksTable>;

/** The packs of a list of entries: one query. */
export async function packsOfEntries(q: Q, entryIds: readonly string[]): Promise<Map<string, PackRow>> {
  if (!entryIds.length) return new Map();
  const rows = await q.selectFrom('media_packs').selectAll().where('entry_id', 'in', entryIds).execute();
  return new Map(rows.map((r) => [r.entry_id, r]));
}

export function findPackOfEntry(q: Q, entryId: string): Promise<PackRow | undefined> {
  return q.selectFrom('media_packs').selectAll().where('entry_id', '=', entryId).executeTakeFirst();
}

/** Every ready pack of the campaign with its entry's id (the all-packs ZIP). */
export function readyPacks(q: Q, campaignId: string): Promise<PackRow[]> {
  return q.selectFrom('media_packs').selectAll().where('campaign_id', '=', campaignId).where('status', '=', 'ready').orderBy('ready_at').execute();
}

/** The entry row a pack start needs, locked. */
export function lockEntry(trx: Transaction<DB>, entryId: string) {
  return trx.selectFrom('entries').select(['id', 'status', 'video_id']).where('id', '=', entryId).forUpdate().executeTakeFirst();
}

/** Replaces the entry's pack with a new, queued one; returns the new row's id. */
export async function replacePack(trx: Transaction<DB>, values: Insertable<MediaPacksTable>): Promise<string> {
  await trx.deleteFrom('media_packs').where('entry_id', '=', values.entry_id).execute();
  const { id } = await trx.insertInto('media_packs').values(values).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function deletePack(trx: Transaction<DB>, entryId: string): Promise<PackRow | undefined> {
  return trx.deleteFrom('media_packs').where('entry_id', '=', entryId).returningAll().executeTakeFirst();
}

/** The pack with what the job needs of its video, by pack id. */
export function findPackForJob(q: Q, packId: string) {
  return q
    .selectFrom('media_packs as p')
    .innerJoin('videos as v', 'v.id', 'p.video_id')
    .select(['p.id', 'p.entry_id', 'p.status', 'p.texts', 'p.max_bytes', 'p.requested_by', 'v.original_key', 'v.loudness'])
    .where('p.id', '=', packId)
    .executeTakeFirst();
}

export function lockPack(trx: Transaction<DB>, packId: string) {
  return trx
    .selectFrom('media_packs')
    .select(['id', 'entry_id', 'status', 'error', 'texts', 'requested_by'])
    .where('id', '=', packId)
    .forUpdate()
    .executeTakeFirst();
}

/** Updates a pack unless it is already `ready` (a finished pack is never touched again). */
export async function updateUnfinishedPack(q: Q, packId: string, values: Updateable<MediaPacksTable>): Promise<boolean> {
  const r = await q.updateTable('media_packs').set(values).where('id', '=', packId).where('status', '!=', 'ready').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function writePackProgress(q: Q, packId: string, progress: number): Promise<void> {
  await q.updateTable('media_packs').set({ progress }).where('id', '=', packId).where('status', '=', 'processing').execute();
}

/** The shared download log (the TV desk's table): a pack or the all-packs ZIP. */
export async function logDownload(
  q: Q,
  row: { user_id: string; username: string; kind: 'media_pack' | 'media_pack_archive'; entry_id: string | null },
): Promise<void> {
  await q
    .insertInto('downloads')
    .values({ ...row, range: null })
    .execute();
}

/** For the to-do home: packs that failed, and awarded entries without a pack (two counts, one query each). */
export async function todoCounts(q: Q, campaignId: string, awardedStatuses: readonly EntryStatus[]): Promise<{ failed: number; unpacked: number }> {
  const failed = await q
    .selectFrom('media_packs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'failed')
    .executeTakeFirstOrThrow();
  const unpacked = await q
    .selectFrom('entries as e')
    .leftJoin('media_packs as p', 'p.entry_id', 'e.id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('e.status', 'in', [...awardedStatuses])
    .where('p.id', 'is', null)
    .executeTakeFirstOrThrow();
  return { failed: Number(failed.n), unpacked: Number(unpacked.n) };
}
