import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { AwardTier } from './judging.schema';
import type { DB } from '../platform/db/schema';

/** What ranking reads (Kysely); the aggregation itself is aggregation.ts, pure. */
type Q = Kysely<DB> | Transaction<DB>;

/** A round's entries with what the ranking table shows of them. */
export function rankingEntries(q: Q, roundId: string) {
  return q
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .leftJoin('songs as g', 'g.id', 'e.song_id')
    .select([
      'e.id',
      'e.code',
      'e.title',
      'e.song_id',
      'e.custom_song_title',
      'g.title as song_title',
      'e.form',
      'e.level',
      's.name as school_name',
      'c.name as county_name',
      're.shortlisted',
      're.award',
      're.label',
    ])
    .where('re.round_id', '=', roundId)
    .execute();
}

/** The submitted scores of a round, in the shape rankRound takes (no second pass over 50,000 rows). */
export async function submittedScores(q: Q, roundId: string): Promise<Array<{ entryId: string; judgeId: string; values: Record<string, number> }>> {
  const rows = await q
    .selectFrom('assignments')
    .select(['entry_id as entryId', 'judge_id as judgeId', 'scores as values'])
    .where('round_id', '=', roundId)
    .where('status', '=', 'submitted')
    .execute();
  return rows as Array<{ entryId: string; judgeId: string; values: Record<string, number> }>;
}

/**
 * What the ranking depends on, in one statement: how many scores are submitted, the sums of their
 * update times (any save, submit or reopen changes it — a sum, not a max, so a web process whose
 * clock lags another's still changes it) and of their totals; and a hash over every field the
 * ranking rows show of the round's entries (title, song, school, county, label, shortlist, award),
 * so a rename or a shortlist changes it too.
 */
export async function rankingFingerprint(q: Q, roundId: string): Promise<{ submitted: number; stamp: string; entries: number; entriesHash: string }> {
  const { rows } = await sql<{ submitted: number | string; stamp: string | null; entries: number | string; entries_hash: string | null }>`
    select (select count(*) from assignments a where a.round_id = ${roundId} and a.status = 'submitted') as submitted,
           (select (coalesce(sum(extract(epoch from a.updated_at)), 0) || '/' || coalesce(sum(a.total), 0))::text
              from assignments a where a.round_id = ${roundId} and a.status = 'submitted') as stamp,
           count(*) as entries,
           coalesce(sum(hashtext(concat_ws('|', e.id, e.code, e.title, e.song_id, e.custom_song_title, g.title, e.form, e.level,
                                           s.name, c.name, re.label, re.shortlisted::text, re.award))::bigint), 0)::text as entries_hash
    from round_entries re
    join entries e on e.id = re.entry_id
    join schools s on s.id = e.school_id
    left join counties c on c.id = e.county_id
    left join songs g on g.id = e.song_id
    where re.round_id = ${roundId}`.execute(q);
  const r = rows[0]!;
  return { submitted: Number(r.submitted), stamp: r.stamp ?? '0', entries: Number(r.entries), entriesHash: r.entries_hash ?? '0' };
}

export function findRound(q: Q, id: string) {
  return q.selectFrom('rounds').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The shortlist of a round becomes exactly `chosen`; chosen entries `shortlisted`, the rest `not_selected`. */
export async function writeShortlist(trx: Transaction<DB>, roundId: string, chosen: string[], rest: string[], at: Date): Promise<void> {
  await trx.updateTable('round_entries').set({ shortlisted: false }).where('round_id', '=', roundId).execute();
  await trx.updateTable('round_entries').set({ shortlisted: true }).where('round_id', '=', roundId).where('entry_id', 'in', chosen).execute();
  await trx
    .updateTable('entries')
    .set({ status: 'shortlisted', updated_at: at })
    .where('id', 'in', chosen)
    .where('status', 'in', ['in_judging', 'shortlisted', 'not_selected'])
    .execute();
  if (rest.length)
    await trx
      .updateTable('entries')
      .set({ status: 'not_selected', updated_at: at })
      .where('id', 'in', rest)
      .where('status', 'in', ['in_judging', 'shortlisted'])
      .execute();
}

export async function clearAwards(trx: Transaction<DB>, roundId: string): Promise<void> {
  await trx.updateTable('round_entries').set({ award: null }).where('round_id', '=', roundId).execute();
}

export async function writeAward(trx: Transaction<DB>, roundId: string, entryId: string, award: AwardTier, at: Date): Promise<void> {
  await trx.updateTable('round_entries').set({ award }).where('round_id', '=', roundId).where('entry_id', '=', entryId).execute();
  await trx
    .updateTable('entries')
    .set({ award, status: 'awarded', updated_at: at })
    .where('id', '=', entryId)
    .where('status', 'in', ['in_judging', 'shortlisted', 'not_selected', 'awarded'])
    .execute();
}

export async function updateRound(q: Q, roundId: string, values: Updateable<DB['rounds']>): Promise<void> {
  await q.updateTable('rounds').set(values).where('id', '=', roundId).execute();
}

/** Awarded entries of every published round (newest round first): one query for the whole 公示 list. */
export function publishedAwards(q: Q, campaignId: string) {
  return q
    .selectFrom('rounds as r')
    .innerJoin('round_entries as re', 're.round_id', 'r.id')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .leftJoin('songs as g', 'g.id', 'e.song_id')
    .leftJoin('performance_forms as f', 'f.code', 'e.form')
    .leftJoin('entry_consents as k', 'k.entry_id', 'e.id')
    .select([
      'k.scope_public',
      'k.withdrawn_at as consent_withdrawn_at',
      'r.id as round_id',
      'r.name as round_name',
      'r.published_at',
      'e.code',
      'e.title',
      'g.title as song_title',
      'e.custom_song_title',
      'f.label as form_label',
      's.name as school_name',
      'c.name as county_name',
      're.award',
    ])
    .where('r.campaign_id', '=', campaignId)
    .where('r.published_at', 'is not', null)
    .where('re.award', 'is not', null)
    .orderBy('r.published_at', 'desc')
    .orderBy('r.id')
    .execute();
}

export function publishedRounds(q: Q, campaignId: string) {
  return q
    .selectFrom('rounds')
    .select(['id', 'name', 'published_at'])
    .where('campaign_id', '=', campaignId)
    .where('published_at', 'is not', null)
    .orderBy('published_at', 'desc')
    .execute();
}

/** Every score of a round with entry and judge (the score sheet export). */
export function scoreSheet(q: Q, roundId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('entries as e', 'e.id', 'a.entry_id')
    .innerJoin('users as u', 'u.id', 'a.judge_id')
    .select(['e.code', 'e.title', 'u.display_name', 'a.status', 'a.scores', 'a.total', 'a.comment'])
    .where('a.round_id', '=', roundId)
    .orderBy('e.code')
    .orderBy('u.display_name')
    .execute();
}

/** The round's awarded entries with their school (to tell each school its award). */
export function awardedEntriesOf(q: Kysely<DB> | Transaction<DB>, roundId: string) {
  return q
    .selectFrom('round_entries as re')
    .innerJoin('entries as e', 'e.id', 're.entry_id')
    .select(['e.id', 'e.title', 'e.school_id', 're.award'])
    .where('re.round_id', '=', roundId)
    .where('re.award', 'is not', null)
    .execute();
}
