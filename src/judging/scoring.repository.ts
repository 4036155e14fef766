import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';

/** A judge's queue as rows (Kysely); what a judge may see and change is decided in scoring.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

/**
 * An assignment with its round, the round's label of the entry, and what a judge may be shown of the
 * entry. The small lookups (school, county, song, video, form, level) are scalar sub-selects by key,
 * not joins: PostgreSQL plans each alone, and a join of all eleven tables cost 5-10 ms of planning
 * per request (more than running it) on the bench's data set; this shape plans in about 1 ms (and,
 * prepared, once per connection).
 */
export function assignmentRows(q: Q) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('rounds as r', 'r.id', 'a.round_id')
    .innerJoin('entries as e', 'e.id', 'a.entry_id')
    .innerJoin('round_entries as re', (j) => j.onRef('re.round_id', '=', 'a.round_id').onRef('re.entry_id', '=', 'a.entry_id'))
    .select((eb) => [
      'a.id',
      'a.round_id',
      'a.status',
      'a.scores',
      'a.comment',
      'a.reopened_at',
      'a.entry_id',
      'r.name as round_name',
      'r.blind',
      'r.rubric',
      'r.status as round_status',
      'r.opens_at',
      'r.closes_at',
      'e.code',
      're.label',
      'e.title',
      'e.custom_song_title',
      eb.selectFrom('songs as g').select('g.title').whereRef('g.id', '=', 'e.song_id').as('song_title'),
      eb.selectFrom('songs as g').select('g.designated').whereRef('g.id', '=', 'e.song_id').as('designated'),
      eb.selectFrom('performance_forms as f').select('f.label').whereRef('f.code', '=', 'e.form').as('form_label'),
      eb.selectFrom('levels as l').select('l.label').whereRef('l.code', '=', 'e.level').as('level_label'),
      eb.selectFrom('videos as v').select('v.status').whereRef('v.id', '=', 'e.video_id').as('video_status'),
      eb.selectFrom('videos as v').select('v.duration_s').whereRef('v.id', '=', 'e.video_id').as('duration_s'),
      // Blind rounds never read who made the entry (and the lookups cost a quarter of the queue page).
      sql<string | null>`case when not r.blind then (${eb.selectFrom('schools as s').select('s.name').whereRef('s.id', '=', 'e.school_id')}) end`.as(
        'school_name',
      ),
      sql<string | null>`case when not r.blind then (${eb.selectFrom('counties as c').select('c.name').whereRef('c.id', '=', 'e.county_id')}) end`.as(
        'county_name',
      ),
    ]);
}

export type AssignmentRow = Awaited<ReturnType<ReturnType<typeof assignmentRows>['executeTakeFirstOrThrow']>>;

/**
 * The judge's work that is visible now: rounds that are open, and scores reopened after their round
 * closed. Only assignments, rounds and round_entries (entries for the code of rounds that are not
 * blind): the wide rows are read for one page only.
 * The statuses are literals, not parameters: with `r.status = $2` PostgreSQL never settles on a
 * generic plan for the prepared statement and plans the queue page again on every call (2 ms of its
 * 6 ms); with the literals it plans once per connection (src/platform/db/prepared.ts).
 */
function visibleQueue(q: Q, judgeId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('rounds as r', 'r.id', 'a.round_id')
    .where('a.judge_id', '=', judgeId)
    .where(sql<boolean>`(r.status = 'open' or (r.status = 'closed' and a.reopened_at is not null))`);
}

/**
 * Where a queue row sorts: unsubmitted first, then by round (oldest first), then label (blind) or
 * code, then id. All but the first are fixed per assignment and kept on it (migration 0015:
 * `queue_round_at` is the round's creation time, `queue_key` the label or code); the index
 * `assignments_queue_idx` holds them all.
 */
const PLACE = sql`(a.status = 'submitted'), a.queue_round_at, a.round_id, a.queue_key, a.id`;

/** A position in the queue's order (what a cursor carries): the sort tuple of the last row of a page. */
export interface QueuePosition {
  submitted: 0 | 1;
  roundCreatedAt: string;
  roundId: string;
  key: string;
  id: string;
}

/**
 * One page of the judge's queue, in queue order: by offset (the HTML page's numbered pages) or
 * after a position (the API's cursor). One statement: the page's ids come from an index-only scan
 * of the judge's part of `assignments_queue_idx` and a top-N sort (the visibility check joins the
 * round by key), and only those rows get the wide join, by primary key.
 */
export async function queuePage(
  q: Q,
  judgeId: string,
  page: { limit: number; offset?: number; after?: QueuePosition },
): Promise<Array<{ row: AssignmentRow; position: QueuePosition }>> {
  let chosen = visibleQueue(q, judgeId).where('a.queue_key', 'is not', null).select('a.id');
  const after = page.after;
  if (after)
    chosen = chosen.where(
      sql<boolean>`(${PLACE}) > (${after.submitted === 1}, ${after.roundCreatedAt}::timestamptz, ${after.roundId}, ${after.key}, ${after.id})`,
    );
  chosen = chosen
    .orderBy(sql`a.status = 'submitted'`)
    .orderBy('a.queue_round_at')
    .orderBy('a.round_id')
    .orderBy('a.queue_key')
    .orderBy('a.id')
    .limit(page.limit)
    .offset(page.offset ?? 0);
  const rows = await assignmentRows(q)
    .select([sql<string>`a.queue_round_at::text`.as('queue_round_at'), 'a.queue_key'])
    .where('a.id', 'in', chosen)
    .orderBy(sql`a.status = 'submitted'`)
    .orderBy('a.queue_round_at')
    .orderBy('a.round_id')
    .orderBy('a.queue_key')
    .orderBy('a.id')
    .execute();
  return rows.map(({ queue_round_at, queue_key, ...row }) => ({
    row,
    position: {
      submitted: row.status === 'submitted' ? (1 as const) : (0 as const),
      roundCreatedAt: queue_round_at,
      roundId: row.round_id,
      key: queue_key ?? '',
      id: row.id,
    },
  }));
}

/**
 * The whole queue's counts in one aggregate: total, submitted, and the work still to do now
 * (editable: open round inside its times, or a reopened score not yet submitted again) with the
 * earliest closing time among it.
 */
export async function queueCounts(
  q: Q,
  judgeId: string,
  now: Date,
): Promise<{ total: number; submitted: number; pending: number; closesAt: Date | string | null }> {
  const editable = sql<boolean>`(a.status <> 'submitted' and (
      (r.status = 'open' and (r.opens_at is null or r.opens_at <= ${now}) and (r.closes_at is null or r.closes_at > ${now}))
      or (r.status = 'closed' and a.reopened_at is not null)))`;
  const row = await visibleQueue(q, judgeId)
    .select((eb) => [
      eb.fn.countAll<number>().as('total'),
      eb.fn
        .countAll<number>()
        .filterWhere(sql<boolean>`a.status = 'submitted'`)
        .as('submitted'),
      eb.fn.countAll<number>().filterWhere(editable).as('pending'),
      eb.fn.min('r.closes_at').filterWhere(editable).as('closes_at'),
    ])
    .executeTakeFirstOrThrow();
  return {
    total: Number(row.total),
    submitted: Number(row.submitted),
    pending: Number(row.pending),
    closesAt: (row.closes_at as Date | string | null) ?? null,
  };
}

/**
 * Lock order for a judge's change: the round row shared (a close waits for changes in flight, and
 * a change that waited for a close reads `closed`), then the assignment exclusively. Nothing when
 * the assignment does not exist.
 */
export async function lockForChange(trx: Transaction<DB>, assignmentId: string): Promise<void> {
  const a = await trx.selectFrom('assignments').select('round_id').where('id', '=', assignmentId).executeTakeFirst();
  if (!a) return;
  await trx.selectFrom('rounds').select('id').where('id', '=', a.round_id).forShare().execute();
  await trx.selectFrom('assignments').select('id').where('id', '=', assignmentId).forUpdate().execute();
}

export function lockAssignment(trx: Transaction<DB>, assignmentId: string) {
  return trx.selectFrom('assignments').selectAll().where('id', '=', assignmentId).forUpdate().executeTakeFirst();
}

export async function updateAssignment(q: Q, assignmentId: string, values: Updateable<DB['assignments']>): Promise<void> {
  await q.updateTable('assignments').set(values).where('id', '=', assignmentId).execute();
}

/** The entry's current video: its status and preview/poster keys. */
export function entryVideoKeys(q: Q, entryId: string) {
  return q
    .selectFrom('videos as v')
    .innerJoin('entries as e', 'e.video_id', 'v.id')
    .select(['v.preview_key', 'v.poster_key', 'v.status'])
    .where('e.id', '=', entryId)
    .executeTakeFirst();
}

/** A declared conflict: recorded (once), and the judge's assignment removed. */
export async function recordConflict(
  trx: Transaction<DB>,
  a: { id: string; roundId: string; entryId: string; judgeId: string },
  reason: string,
): Promise<void> {
  await trx
    .insertInto('judge_conflicts')
    .values({ round_id: a.roundId, entry_id: a.entryId, judge_id: a.judgeId, reason })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await trx.deleteFrom('assignments').where('id', '=', a.id).execute();
}

export function entryOrigin(q: Q, entryId: string) {
  return q.selectFrom('entries').select(['id', 'code', 'school_id', 'county_id']).where('id', '=', entryId).execute();
}

/** A judge's to-do in the campaign's open rounds: entries not yet scored, drafts, and the soonest close of a round with work left. */
export async function judgeTodoCounts(q: Q, judgeId: string, campaignId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('rounds as r', 'r.id', 'a.round_id')
    .select([
      sql<string>`count(*) FILTER (WHERE a.status = 'pending')`.as('pending'),
      sql<string>`count(*) FILTER (WHERE a.status = 'draft')`.as('drafts'),
      sql<Date | null>`min(r.closes_at) FILTER (WHERE a.status <> 'submitted')`.as('closes'),
    ])
    .where('a.judge_id', '=', judgeId)
    .where('r.status', '=', 'open')
    .where('r.campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
}
