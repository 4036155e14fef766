import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { RoundsTable } from './judging.schema';

/** Rounds, their panels and assignments as rows (Kysely); the rules live in round.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export type RoundRow = Selectable<RoundsTable>;

/** A round with its entry, judge, assignment and submitted counts: one query for one round or for a list. */
function roundWithCounts(q: Q) {
  return q
    .selectFrom('rounds as r')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('assignments as a')
          .select((sub) => [sub.fn.countAll<number>().as('assignment_count'), sub.fn.countAll<number>().filterWhere('a.status', '=', 'submitted').as('submitted_count')])
          .whereRef('a.round_id', '=', 'r.id')
          .as('ac'),
      (join) => join.onTrue(),
    )
    .selectAll('r')
    .select((eb) => [
      eb.selectFrom('round_entries as re').select(eb.fn.countAll<number>().as('n')).whereRef('re.round_id', '=', 'r.id').as('entry_count'),
      eb.selectFrom('round_judges as rj').select(eb.fn.countAll<number>().as('n')).whereRef('rj.round_id', '=', 'r.id').as('judge_count'),
      'ac.assignment_count',
      'ac.submitted_count',
    ]);
}

export type RoundCountsRow = Awaited<ReturnType<ReturnType<typeof roundWithCounts>['executeTakeFirstOrThrow']>>;

export function findRoundWithCounts(q: Q, id: string): Promise<RoundCountsRow | undefined> {
  return roundWithCounts(q).where('r.id', '=', id).executeTakeFirst();
}

/** The newest rounds first (at most `limit`), each with its counts — one statement however many rounds. */
export function listRoundsWithCounts(q: Q, limit: number): Promise<RoundCountsRow[]> {
  return roundWithCounts(q).orderBy('r.created_at', 'desc').orderBy('r.id').limit(limit).execute();
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
