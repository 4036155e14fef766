import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { EntryStatus } from '../entries/entry.schema';
import type { DB } from '../platform/db/schema';
import type { RoundsTable } from './judging.schema';

/** Rounds, their panels and assignments as rows (Kysely); the rules live in round.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type RoundRow = Selectable<RoundsTable>;

/**
 * A round with its entry, judge, assignment and submitted counts: one query for one round or for a
 * list. The counts are the round's tally (round_tallies, kept by triggers, migration 0028), not
 * counted here: an open round of 10,000 entries × 5 judges has 50,000 assignments.
 */
function roundWithCounts(q: Q) {
  return q
    .selectFrom('rounds as r')
    .leftJoin('round_tallies as t', 't.round_id', 'r.id')
    .selectAll('r')
    .select((eb) => [
      eb.fn.coalesce('t.entries', eb.lit(0)).as('entry_count'),
      eb.fn.coalesce('t.judges', eb.lit(0)).as('judge_count'),
      eb.fn.coalesce('t.assignments', eb.lit(0)).as('assignment_count'),
      eb.fn.coalesce('t.submitted', eb.lit(0)).as('submitted_count'),
    ]);
}

export type RoundCountsRow = Awaited<ReturnType<ReturnType<typeof roundWithCounts>['executeTakeFirstOrThrow']>>;

export function findRoundWithCounts(q: Q, id: string): Promise<RoundCountsRow | undefined> {
  return roundWithCounts(q).where('r.id', '=', id).executeTakeFirst();
}

/** The newest rounds first (at most `limit`), each with its counts — one statement however many rounds. */
export function listRoundsWithCounts(q: Q, campaignId: string, limit: number): Promise<RoundCountsRow[]> {
  return roundWithCounts(q).where('r.campaign_id', '=', campaignId).orderBy('r.created_at', 'desc').orderBy('r.id').limit(limit).execute();
}

export function lockRound(trx: Transaction<DB>, id: string): Promise<RoundRow | undefined> {
  return trx.selectFrom('rounds').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function panelJudgeIds(q: Q, roundId: string): Promise<string[]> {
  return (await q.selectFrom('round_judges').select('judge_id').where('round_id', '=', roundId).execute()).map((r) => r.judge_id);
}

/** Enabled judge accounts (for choosing a panel), with their school and county names. */
export function judgeAccounts(q: Q, limit: number) {
  return q
    .selectFrom('users as u')
    .leftJoin('schools as s', 's.id', 'u.school_id')
    .leftJoin('counties as c', (j) => j.on((eb) => eb('c.id', '=', eb.fn.coalesce('u.county_id', 's.county_id'))))
    .select(['u.id', 'u.display_name', 'u.username', 's.name as school_name', 'c.name as county_name'])
    .where('u.role', '=', 'judge')
    .where('u.disabled_at', 'is', null)
    .orderBy('u.display_name')
    .limit(limit)
    .execute();
}

export async function assignmentRoundId(q: Q, assignmentId: string): Promise<string | null> {
  const a = await q.selectFrom('assignments').select('round_id').where('id', '=', assignmentId).executeTakeFirst();
  return a?.round_id ?? null;
}

// ── labels ──────────────────────────────────────────────────────────────────────────────────

/** How many rounds were created before this one (its place in creation order). */
export async function roundsBefore(q: Q, round: { id: string; created_at: Date | string }): Promise<number> {
  const { n } = await q
    .selectFrom('rounds')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => eb.or([eb('created_at', '<', round.created_at as Date), eb.and([eb('created_at', '=', round.created_at as Date), eb('id', '<', round.id)])]))
    .executeTakeFirstOrThrow();
  return Number(n);
}

export async function roundLabels(q: Q, roundId: string): Promise<string[]> {
  return (await q.selectFrom('round_entries').select('label').where('round_id', '=', roundId).execute()).map((r) => r.label);
}

// ── panel and assignments ───────────────────────────────────────────────────────────────────

/** Enabled judge accounts among `userIds`. */
export function enabledJudges(q: Q, userIds: string[]) {
  return q.selectFrom('users').select(['id', 'display_name']).where('id', 'in', userIds).where('role', '=', 'judge').where('disabled_at', 'is', null).execute();
}

/** Replaces the panel; assignments of judges no longer on it go. */
export async function replacePanel(trx: Transaction<DB>, roundId: string, judgeIds: string[]): Promise<void> {
  await trx.deleteFrom('round_judges').where('round_id', '=', roundId).execute();
  await trx
    .insertInto('round_judges')
    .values(judgeIds.map((judge_id) => ({ round_id: roundId, judge_id })))
    .execute();
  await trx.deleteFrom('assignments').where('round_id', '=', roundId).where('judge_id', 'not in', judgeIds).execute();
}

/** Entries of the round with their school and county (for conflict rules). */
export function roundEntryOrigins(q: Q, roundId: string, entryId?: string) {
  let query = q
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .select(['e.id', 'e.code', 'e.school_id', 'e.county_id'])
    .where('re.round_id', '=', roundId);
  if (entryId !== undefined) query = query.where('re.entry_id', '=', entryId);
  return query.execute();
}

/** Judges of the panel with their school and county (a school's county when the account has none). */
export function panelJudgeOrigins(q: Q, roundId: string, judgeId?: string) {
  let query = q
    .selectFrom('round_judges as rj')
    .innerJoin('users as u', 'u.id', 'rj.judge_id')
    .leftJoin('schools as s', 's.id', 'u.school_id')
    .select(['u.id', 'u.school_id', 'u.county_id', 's.county_id as school_county_id'])
    .where('rj.round_id', '=', roundId);
  if (judgeId !== undefined) query = query.where('rj.judge_id', '=', judgeId);
  return query.execute();
}

export function assignmentPairs(q: Q, roundId: string) {
  return q.selectFrom('assignments').select(['judge_id', 'entry_id']).where('round_id', '=', roundId).execute();
}

export function declaredConflicts(q: Q, roundId: string) {
  return q.selectFrom('judge_conflicts').select(['judge_id', 'entry_id']).where('round_id', '=', roundId).execute();
}

export async function hasDeclaredConflict(q: Q, roundId: string, entryId: string, judgeId: string): Promise<boolean> {
  return Boolean(
    await q
      .selectFrom('judge_conflicts')
      .select('judge_id')
      .where('round_id', '=', roundId)
      .where('entry_id', '=', entryId)
      .where('judge_id', '=', judgeId)
      .executeTakeFirst(),
  );
}

export async function deleteAssignmentPair(trx: Transaction<DB>, roundId: string, judgeId: string, entryId: string): Promise<void> {
  await trx.deleteFrom('assignments').where('round_id', '=', roundId).where('judge_id', '=', judgeId).where('entry_id', '=', entryId).execute();
}

/** Inserts assignments in batches of 1,000. */
export async function insertAssignments(trx: Transaction<DB>, roundId: string, pairs: Array<{ judgeId: string; entryId: string }>): Promise<void> {
  for (let i = 0; i < pairs.length; i += 1000) {
    await trx
      .insertInto('assignments')
      .values(pairs.slice(i, i + 1000).map((a) => ({ round_id: roundId, entry_id: a.entryId, judge_id: a.judgeId })))
      .execute();
  }
}

/** One assignment, unless the pair exists already (then null). */
export async function insertAssignment(trx: Transaction<DB>, roundId: string, entryId: string, judgeId: string): Promise<string | null> {
  const row = await trx
    .insertInto('assignments')
    .values({ round_id: roundId, entry_id: entryId, judge_id: judgeId })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export function lockAssignment(trx: Transaction<DB>, assignmentId: string) {
  return trx.selectFrom('assignments').selectAll().where('id', '=', assignmentId).forUpdate().executeTakeFirst();
}

export async function deleteAssignment(trx: Transaction<DB>, assignmentId: string): Promise<void> {
  await trx.deleteFrom('assignments').where('id', '=', assignmentId).execute();
}

// ── opening, closing, progress ──────────────────────────────────────────────────────────────

/** How many entries of the round have fewer than `k` judges, and how many entries it has. */
export async function assignmentShortfall(q: Q, roundId: string, k: number): Promise<{ short: number; entries: number }> {
  const short = await q
    .selectFrom('round_entries as re')
    .leftJoin('assignments as a', (j) => j.onRef('a.entry_id', '=', 're.entry_id').onRef('a.round_id', '=', 're.round_id'))
    .select(['re.entry_id', (eb) => eb.fn.count<number>('a.id').as('n')])
    .where('re.round_id', '=', roundId)
    .groupBy('re.entry_id')
    .having((eb) => eb.fn.count('a.id'), '<', k)
    .execute();
  const { n } = await q
    .selectFrom('round_entries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('round_id', '=', roundId)
    .executeTakeFirstOrThrow();
  return { short: short.length, entries: Number(n) };
}

export async function setRoundStatus(trx: Transaction<DB>, roundId: string, status: 'open' | 'closed', at: Date): Promise<void> {
  await trx.updateTable('rounds').set({ status, updated_at: at }).where('id', '=', roundId).execute();
}

/** Per judge of the panel: assigned and submitted. */
export async function judgeProgress(q: Q, roundId: string) {
  const rows = await q
    .selectFrom('round_judges as rj')
    .innerJoin('users as u', 'u.id', 'rj.judge_id')
    .leftJoin('assignments as a', (j) => j.onRef('a.judge_id', '=', 'rj.judge_id').onRef('a.round_id', '=', 'rj.round_id'))
    .select([
      'u.id as judgeId',
      'u.display_name as name',
      (eb) => eb.fn.count<number>('a.id').as('assigned'),
      (eb) => eb.fn.count<number>('a.id').filterWhere('a.status', '=', 'submitted').as('submitted'),
    ])
    .where('rj.round_id', '=', roundId)
    .groupBy(['u.id', 'u.display_name'])
    .orderBy('u.display_name')
    .execute();
  return rows.map((r) => ({ judgeId: r.judgeId, name: r.name, assigned: Number(r.assigned), submitted: Number(r.submitted) }));
}

/** Assignments of a round with entry and judge (not blind: for city staff), at most `limit`. */
export function roundAssignments(q: Q, roundId: string, limit: number) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('entries as e', 'e.id', 'a.entry_id')
    .innerJoin('round_entries as re', (j) => j.onRef('re.round_id', '=', 'a.round_id').onRef('re.entry_id', '=', 'a.entry_id'))
    .innerJoin('users as u', 'u.id', 'a.judge_id')
    .select(['a.id', 'a.entry_id as entryId', 'e.code', 're.label', 'e.title', 'a.judge_id as judgeId', 'u.display_name as judgeName', 'a.status', 'a.total'])
    .where('a.round_id', '=', roundId)
    .orderBy('e.code')
    .orderBy('u.display_name')
    .limit(limit)
    .execute();
}

// ── the round row and its entries ───────────────────────────────────────────────────────────

export async function periodExists(q: Q, periodId: string, campaignId?: string): Promise<boolean> {
  if (campaignId !== undefined)
    return Boolean(await q.selectFrom('periods').select('id').where('id', '=', periodId).where('campaign_id', '=', campaignId).executeTakeFirst());
  return Boolean(await q.selectFrom('periods').select('id').where('id', '=', periodId).executeTakeFirst());
}

export async function roundExists(q: Q, roundId: string): Promise<boolean> {
  return Boolean(await q.selectFrom('rounds').select('id').where('id', '=', roundId).executeTakeFirst());
}

export async function insertRound(trx: Transaction<DB>, values: Insertable<RoundsTable>): Promise<string> {
  return (await trx.insertInto('rounds').values(values).returning('id').executeTakeFirstOrThrow()).id;
}

export async function updateRound(q: Q, roundId: string, values: Updateable<RoundsTable>): Promise<void> {
  await q.updateTable('rounds').set(values).where('id', '=', roundId).execute();
}

/** Entries that could join a round: the shortlist of an earlier round, given ids, or a period's forwarded entries. */
export function candidateEntries(
  q: Q,
  campaignId: string,
  source: { shortlistOf: string } | { ids: string[]; statuses: readonly EntryStatus[] } | { periodId: string },
) {
  // Only the round's own campaign's entries, however they are named.
  let query = q.selectFrom('entries as e').select(['e.id', 'e.code', 'e.status', 'e.award']).where('e.campaign_id', '=', campaignId);
  if ('shortlistOf' in source)
    query = query.innerJoin('round_entries as re', 're.entry_id', 'e.id').where('re.round_id', '=', source.shortlistOf).where('re.shortlisted', '=', true);
  else if ('ids' in source) query = query.where('e.id', 'in', source.ids).where('e.status', 'in', source.statuses);
  else query = query.where('e.period_id', '=', source.periodId).where('e.status', '=', 'forwarded');
  return query.execute();
}

export async function roundEntryIds(q: Q, roundId: string): Promise<string[]> {
  return (await q.selectFrom('round_entries').select('entry_id').where('round_id', '=', roundId).execute()).map((r) => r.entry_id);
}

/** Adds entries to a round with their labels, in batches of 1,000. */
export async function insertRoundEntries(trx: Transaction<DB>, roundId: string, labelled: Array<{ entryId: string; label: string }>): Promise<void> {
  for (let i = 0; i < labelled.length; i += 1000) {
    await trx
      .insertInto('round_entries')
      .values(labelled.slice(i, i + 1000).map((r) => ({ round_id: roundId, entry_id: r.entryId, label: r.label })))
      .execute();
  }
}

/** Forwarded entries that joined a round are `in_judging` now. */
export async function markInJudging(trx: Transaction<DB>, entryIds: string[], at: Date): Promise<void> {
  await trx.updateTable('entries').set({ status: 'in_judging', updated_at: at }).where('id', 'in', entryIds).where('status', '=', 'forwarded').execute();
}

/** The city's to-do about the campaign's rounds: drafts, open rounds past their close at `now`, closed rounds with awards not confirmed. */
export async function roundTodoCounts(q: Q, campaignId: string, now: Date) {
  return q
    .selectFrom('rounds')
    .select([
      sql<string>`count(*) FILTER (WHERE status = 'draft')`.as('drafts'),
      sql<string>`count(*) FILTER (WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= ${now})`.as('due_to_close'),
      sql<string>`count(*) FILTER (WHERE status = 'closed' AND awards_confirmed_at IS NULL)`.as('awards'),
    ])
    .where('campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
}

/** Judges with assignments not yet submitted in the campaign's open rounds, and the soonest close among those rounds. */
export async function judgesBehind(q: Q, campaignId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('rounds as r', 'r.id', 'a.round_id')
    .select([sql<string>`count(DISTINCT a.judge_id)`.as('judges'), sql<Date | null>`min(r.closes_at)`.as('closes')])
    .where('r.status', '=', 'open')
    .where('r.campaign_id', '=', campaignId)
    .where('a.status', '<>', 'submitted')
    .executeTakeFirstOrThrow();
}
