import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';

type Q = Kysely<DB> | Transaction<DB>;

export function roundForReminder(q: Q, roundId: string) {
  return q.selectFrom('rounds').select(['id', 'name', 'status', 'closes_at']).where('id', '=', roundId).executeTakeFirst();
}

/** Judges of the round with assignments not yet submitted, and how many: one aggregate query. */
export function judgesBehind(q: Q, roundId: string) {
  return q
    .selectFrom('assignments as a')
    .innerJoin('users as u', 'u.id', 'a.judge_id')
    .select(['a.judge_id', (eb) => eb.fn.countAll<string>().as('left')])
    .where('a.round_id', '=', roundId)
    .where('a.status', '!=', 'submitted')
    .where('u.disabled_at', 'is', null)
    .groupBy('a.judge_id')
    .execute();
}
