import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';

type Q = Kysely<DB> | Transaction<DB>;

/** A person's messages, newest first, `limit` at a time below the cursor id. */
export function listForUser(q: Q, userId: string, page: { limit: number; beforeId?: number | null }) {
  let query = q
    .selectFrom('notifications')
    .select(['id', 'kind', 'title', 'body', 'link', 'entry_id', 'created_at', 'read_at'])
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.beforeId) query = query.where('id', '<', page.beforeId);
  return query.execute();
}

export async function countUnread(q: Q, userId: string): Promise<number> {
  const row = await q
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks the given messages (or all, when ids is null) of this person read; returns how many changed. */
export async function markRead(q: Q, userId: string, ids: readonly number[] | null): Promise<number> {
  let query = q.updateTable('notifications').set({ read_at: new Date() }).where('user_id', '=', userId).where('read_at', 'is', null);
  if (ids) {
    if (ids.length === 0) return 0;
    query = query.where('id', 'in', ids);
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
