import { sql, type Kysely, type Transaction } from 'kysely';
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
    .select(['e.id', 'e.code', 'e.title', 'e.song_id', 'e.custom_song_title', 'g.title as song_title', 'e.form', 'e.level', 's.name as school_name', 'c.name as county_name', 're.shortlisted', 're.award', 're.label'])
    .where('re.round_id', '=', roundId)
    .execute();
}

/** The submitted scores of a round, in the shape rankRound takes (no second pass over 50,000 rows). */
export async function submittedScores(q: Q, roundId: string): Promise<Array<{ entryId: string; judgeId: string; values: Record<string, number> }>> {
  const rows = await q.selectFrom('assignments').select(['entry_id as entryId', 'judge_id as judgeId', 'scores as values']).where('round_id', '=', roundId).where('status', '=', 'submitted').execute();
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
