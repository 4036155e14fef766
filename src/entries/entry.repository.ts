import { sql, type Insertable, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { EntryScope } from '../accounts/policy';
import type { DB } from '../platform/db/schema';
import type { Page, PageQuery } from '../platform/validate';
import type { EntriesTable, EntryStatus, VideosTable } from './entry.schema';

type Q = Kysely<DB> | Transaction<DB>;

const CONSENT_SCOPE_COLUMN = { broadcast: 'k.scope_broadcast', newmedia: 'k.scope_newmedia', public: 'k.scope_public' } as const;

function entryQuery(db: Q) {
  return db
    .selectFrom('entries as e')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .leftJoin('songs as g', 'g.id', 'e.song_id')
    .leftJoin('videos as v', 'v.id', 'e.video_id')
    .selectAll('e')
    .select([
      's.name as school_name',
      'c.name as county_name',
      'g.title as song_title',
      'g.designated as song_designated',
      'v.id as v_id',
      'v.status as v_status',
      'v.progress as v_progress',
      'v.error as v_error',
      'v.original_name as v_original_name',
      'v.size_bytes as v_size_bytes',
      'v.probe as v_probe',
      'v.qc as v_qc',
      'v.qc_verdict as v_qc_verdict',
      'v.loudness as v_loudness',
      'v.duration_s as v_duration_s',
      'v.preview_key as v_preview_key',
      'v.poster_key as v_poster_key',
      'v.purged_at as v_purged_at',
    ]);
}

export type EntryRow = Awaited<ReturnType<ReturnType<typeof entryQuery>['executeTakeFirstOrThrow']>>;

export async function findEntry(db: Q, id: string): Promise<EntryRow | undefined> {
  return entryQuery(db).where('e.id', '=', id).executeTakeFirst();
}

export const ENTRY_SORTS = ['updated', 'submitted', 'school', 'song', 'rank'] as const;
export type EntrySort = (typeof ENTRY_SORTS)[number];

export interface EntryFilter {
  /** Every list is one campaign's (the request's campaign: src/campaign/current-campaign.ts). */
  campaignId: string;
  status?: EntryStatus;
  /** several statuses (e.g. everything forwarded and beyond) */
  statuses?: readonly EntryStatus[];
  form?: string;
  level?: string;
  qcVerdict?: 'pass' | 'warn' | 'fail';
  sort?: EntrySort;
  periodId?: string;
  countyId?: string;
  schoolId?: string;
  songId?: string;
  /** only entries whose guardians' authorisation grants this publishing scope (and is not withdrawn) */
  consentScope?: 'broadcast' | 'newmedia' | 'public';
}

export async function listEntries(db: Q, scope: EntryScope, filter: EntryFilter, page: PageQuery): Promise<Page<EntryRow>> {
  let q = entryQuery(db).where('e.campaign_id', '=', filter.campaignId);
  if (scope.kind === 'school') q = q.where('e.school_id', '=', scope.schoolId);
  if (scope.kind === 'county') q = q.where('e.county_id', '=', scope.countyId).where('e.status', '!=', 'draft');
  if (scope.kind === 'broadcast') q = q.where('e.status', 'in', ['broadcast_selected', 'aired']);
  if (scope.kind === 'awarded') q = q.where('e.status', 'in', ['awarded', 'broadcast_selected', 'aired']);
  if (filter.status) q = q.where('e.status', '=', filter.status);
  if (filter.periodId) q = q.where('e.period_id', '=', filter.periodId);
  if (filter.countyId === 'city') q = q.where('e.county_id', 'is', null);
  else if (filter.countyId) q = q.where('e.county_id', '=', filter.countyId);
  if (filter.schoolId) q = q.where('e.school_id', '=', filter.schoolId);
  if (filter.songId) q = q.where('e.song_id', '=', filter.songId);
  if (filter.statuses?.length) q = q.where('e.status', 'in', filter.statuses);
  if (filter.form) q = q.where('e.form', '=', filter.form);
  if (filter.level) q = q.where('e.level', '=', filter.level);
  if (filter.qcVerdict) q = q.where('v.qc_verdict', '=', filter.qcVerdict);
  if (filter.consentScope) {
    const column = CONSENT_SCOPE_COLUMN[filter.consentScope];
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('entry_consents as k').select('k.entry_id').whereRef('k.entry_id', '=', 'e.id').where(column, '=', true).where('k.withdrawn_at', 'is', null),
      ),
    );
  }
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  switch (filter.sort ?? 'updated') {
    case 'submitted':
      q = q.orderBy('e.submitted_at', (ob) => ob.asc().nullsLast());
      break;
    case 'school':
      q = q.orderBy('s.name');
      break;
    case 'song':
      q = q.orderBy('g.sort', (ob) => ob.asc().nullsLast()).orderBy('e.custom_song_title');
      break;
    case 'rank':
      q = q.orderBy('c.sort', (ob) => ob.asc().nullsFirst()).orderBy('e.forward_rank', (ob) => ob.asc().nullsLast());
      break;
    default:
      q = q.orderBy('e.updated_at', 'desc');
  }
  const items = await q
    .orderBy('e.id')
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  return { items, total: Number(n), page: page.page, pageSize: page.pageSize };
}

export async function insertEntry(db: Q, row: Insertable<EntriesTable>): Promise<string> {
  const { id } = await db.insertInto('entries').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function updateEntry(db: Q, id: string, patch: Updateable<EntriesTable>): Promise<void> {
  await db
    .updateTable('entries')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function lockEntry(db: Transaction<DB>, id: string) {
  return db.selectFrom('entries').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function insertVideo(db: Q, row: Insertable<VideosTable>): Promise<void> {
  await db.insertInto('videos').values(row).execute();
}

export async function findVideo(db: Q, id: string) {
  return db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * A replacement in progress: the entry's newest video when it is newer than the current one (which
 * stays current while it is ready and the replacement processes, or after the replacement failed).
 */
export async function findReplacement(db: Q, entryId: string, currentVideoId: string | null) {
  if (!currentVideoId) return undefined;
  return db
    .selectFrom('videos as v')
    .innerJoin('videos as cur', (join) => join.on('cur.id', '=', currentVideoId))
    .select(['v.id', 'v.status', 'v.progress', 'v.error', 'v.original_name', 'v.created_at'])
    .where('v.entry_id', '=', entryId)
    .where('v.id', '!=', currentVideoId)
    .whereRef('v.created_at', '>', 'cur.created_at')
    .orderBy('v.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Locks the video's row; undefined when the video is gone (e.g. removed by a newer upload). */
export async function lockVideo(trx: Transaction<DB>, id: string) {
  return trx.selectFrom('videos').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
}

/** The created_at of a video, as a sub-select: compared in SQL (the database keeps microseconds, a JS Date only milliseconds). */
function createdAtOf(q: Q, videoId: string) {
  return q.selectFrom('videos').select('created_at').where('id', '=', videoId);
}

/** Another upload of the entry, newer than this video and not failed (it is still on its way, or ready). */
export async function findNewerLiveVideo(q: Q, entryId: string, videoId: string) {
  return q
    .selectFrom('videos')
    .select('id')
    .where('entry_id', '=', entryId)
    .where('id', '!=', videoId)
    .where('created_at', '>', createdAtOf(q, videoId))
    .where('status', '!=', 'failed')
    .executeTakeFirst();
}

/** The entry's other videos not newer than this one (with their originals' keys, to delete after commit). */
export async function listOlderVideos(q: Q, entryId: string, videoId: string) {
  return q
    .selectFrom('videos')
    .select(['id', 'original_key'])
    .where('entry_id', '=', entryId)
    .where('id', '!=', videoId)
    .where('created_at', '<=', createdAtOf(q, videoId))
    .execute();
}

export async function deleteVideos(q: Q, ids: string[]): Promise<void> {
  await q.deleteFrom('videos').where('id', 'in', ids).execute();
}

/** The entry's newest failed video (the one an admin's 重新处理 takes up). */
export async function findNewestFailedVideo(q: Q, entryId: string) {
  return q.selectFrom('videos').select('id').where('entry_id', '=', entryId).where('status', '=', 'failed').orderBy('created_at', 'desc').executeTakeFirst();
}

/** failed → processing, only if it is still failed: returns whether this call changed it. */
export async function restartFailedVideo(q: Q, id: string): Promise<boolean> {
  const changed = await q
    .updateTable('videos')
    .set({ status: 'processing', progress: 0, error: null, error_code: null, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(changed.numUpdatedRows) === 1;
}

export async function updateVideo(db: Q, id: string, patch: Updateable<VideosTable>): Promise<void> {
  await db
    .updateTable('videos')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function entryHistory(db: Q, entryId: string) {
  return (
    db
      .selectFrom('audit_log')
      // People by their names (显示名称), not their usernames; 系统 for the jobs' own steps.
      .leftJoin('users', 'users.id', 'audit_log.actor_id')
      .select([
        'audit_log.at',
        'audit_log.actor_name',
        'users.display_name as actor_display_name',
        'audit_log.action',
        'audit_log.from_state',
        'audit_log.to_state',
        'audit_log.reason',
      ])
      .where('audit_log.object_type', '=', 'entry')
      .where('audit_log.object_id', '=', entryId)
      .orderBy('audit_log.at')
      .orderBy('audit_log.id')
      .execute()
  );
}

/** What a message about an entry names: its title and school (notify()). */
export function entryHeadline(q: Q, id: string) {
  return q.selectFrom('entries').select(['id', 'title', 'school_id', 'county_id']).where('id', '=', id).executeTakeFirst();
}

/** Whether the campaign is closed (read-only): entry actions say so before their own rules. */
export async function campaignIsClosed(db: Q, campaignId: string): Promise<boolean> {
  const row = await db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirst();
  return row?.status === 'closed';
}

/** The city's to-do: the campaign's entries whose current video failed processing. */
export async function countFailedVideos(q: Q, campaignId: string): Promise<number> {
  const row = await q
    .selectFrom('entries as e')
    .innerJoin('videos as v', 'v.id', 'e.video_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('e.campaign_id', '=', campaignId)
    .where('v.status', '=', 'failed')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A school's to-do counts in the campaign (drafts without a video, ready, failed, warned, returned, waiting): one aggregate query. */
export async function schoolTodoCounts(q: Q, schoolId: string, campaignId: string) {
  const editable = sql`e.status IN ('draft', 'returned')`;
  return q
    .selectFrom('entries as e')
    .leftJoin('videos as v', 'v.id', 'e.video_id')
    .select([
      sql<string>`count(*) FILTER (WHERE e.status = 'draft' AND e.video_id IS NULL)`.as('no_video'),
      sql<string>`count(*) FILTER (WHERE e.status = 'draft' AND v.status = 'ready' AND v.qc_verdict IS DISTINCT FROM 'fail')`.as('ready'),
      sql<string>`count(*) FILTER (WHERE ${editable} AND (v.status = 'failed' OR v.qc_verdict = 'fail'))`.as('failed'),
      sql<string>`count(*) FILTER (WHERE ${editable} AND v.status = 'ready' AND v.qc_verdict = 'warn')`.as('warn'),
      sql<string>`count(*) FILTER (WHERE e.status = 'returned')`.as('returned'),
      sql<string>`count(*) FILTER (WHERE e.status IN ('submitted', 'forwarded'))`.as('waiting'),
    ])
    .where('e.campaign_id', '=', campaignId)
    .where('e.school_id', '=', schoolId)
    .executeTakeFirstOrThrow();
}

/** Per school: the campaign's entries not yet submitted (drafts and returned ones). One aggregate. */
export function unsubmittedBySchool(q: Q, campaignId: string) {
  return q
    .selectFrom('entries')
    .select(['school_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['draft', 'returned'])
    .groupBy('school_id')
    .execute();
}

/** Per county and period: entries submitted to the county and not yet reviewed. One aggregate. */
export async function awaitingReviewByCounty(q: Q, periodIds: readonly string[]) {
  if (periodIds.length === 0) return [];
  return q
    .selectFrom('entries')
    .select(['county_id', 'period_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('period_id', 'in', periodIds)
    .where('status', '=', 'submitted')
    .where('county_id', 'is not', null)
    .groupBy(['county_id', 'period_id'])
    .$narrowType<{ county_id: string; period_id: string }>()
    .execute();
}
