import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';

type Q = Kysely<DB> | Transaction<DB>;

/**
 * The submitted scores and comments a school may see: its own entries, in rounds that allow
 * feedback, published, whose 公示期 has begun. Ordered by round, entry, then the assignment's
 * random id — which is what makes 评委A/B/… (a stable order that says nothing about who).
 * Never selects a judge's id or name.
 */
export function schoolFeedbackRows(q: Q, schoolId: string, at: Date, entryId?: string) {
  let query = q
    .selectFrom('assignments as a')
    .innerJoin('rounds as r', 'r.id', 'a.round_id')
    .innerJoin('entries as e', 'e.id', 'a.entry_id')
    .select([
      'r.id as round_id',
      'r.name as round_name',
      'r.rubric',
      'r.published_at',
      'e.id as entry_id',
      'e.code',
      'e.title',
      'a.scores',
      'a.total',
      'a.comment',
    ])
    .where('e.school_id', '=', schoolId)
    .where('a.status', '=', 'submitted')
    .where('r.feedback_enabled', '=', true)
    .where('r.published_at', 'is not', null)
    .where('r.publicity_from', '<=', at);
  if (entryId) query = query.where('e.id', '=', entryId);
  return query.orderBy('r.published_at', 'desc').orderBy('r.id').orderBy('e.code').orderBy('a.id').limit(5000).execute();
}
