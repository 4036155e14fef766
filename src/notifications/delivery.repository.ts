import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { DeliveryChannel } from './notification.schema';

type Q = Kysely<DB> | Transaction<DB>;

/**
 * After a batch's n-th failed send, wait RETRY_BACKOFF_MS[n - 1] before the next (migration 0029):
 * about a day in all. A batch that failed MAX_BATCH_ATTEMPTS times is left for a person to look at
 * (the robots page lists it).
 */
export const RETRY_BACKOFF_MS: readonly number[] = [30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000];
export const MAX_BATCH_ATTEMPTS = RETRY_BACKOFF_MS.length + 1;

/** Messages not yet planned, locked so two delivery jobs never plan the same one, with what routing needs. */
export function lockUndispatched(trx: Transaction<DB>, limit: number) {
  return trx
    .selectFrom('notifications as n')
    .innerJoin('users as u', 'u.id', 'n.user_id')
    .leftJoin('schools as s', 's.id', 'u.school_id')
    .leftJoin('entries as e', 'e.id', 'n.entry_id')
    .leftJoin('notification_preferences as p', 'p.user_id', 'n.user_id')
    .select([
      'n.id',
      'n.event_id',
      'n.user_id',
      'n.kind',
      'n.title',
      'n.body',
      'n.link',
      'n.created_at',
      'u.role',
      'p.email',
      'p.email_notify',
      sql<string | null>`coalesce(e.county_id, u.county_id, s.county_id)`.as('county_id'),
    ])
    .where('n.dispatched_at', 'is', null)
    .orderBy('n.id')
    .limit(limit)
    .forUpdate('n')
    .skipLocked()
    .execute();
}

export function enabledRobots(q: Q) {
  return q.selectFrom('notification_robots').select(['id', 'kind', 'county_id']).where('enabled', '=', true).execute();
}

/** Items of these targets already sent or planned on a channel (the idempotency record). */
export async function alreadyDelivered(q: Q, channel: DeliveryChannel, targets: readonly string[], items: readonly string[]): Promise<Set<string>> {
  if (targets.length === 0 || items.length === 0) return new Set();
  const rows = await q
    .selectFrom('notification_deliveries')
    .select(['target', 'item'])
    .where('channel', '=', channel)
    .where('target', 'in', [...targets])
    .where('item', 'in', [...items])
    .execute();
  return new Set(rows.map((r) => `${r.target}\u0000${r.item}`));
}

export async function insertBatch(
  trx: Transaction<DB>,
  batch: { channel: DeliveryChannel; target: string; subject: string; body: string; items: readonly string[] },
) {
  const { id } = await trx
    .insertInto('notification_batches')
    .values({ channel: batch.channel, target: batch.target, subject: batch.subject, body: batch.body, item_count: batch.items.length })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('notification_deliveries')
    .values(batch.items.map((item) => ({ channel: batch.channel, target: batch.target, item, batch_id: id })))
    .execute();
  return id;
}

export async function markDispatched(trx: Transaction<DB>, ids: readonly number[], at: Date) {
  if (ids.length === 0) return;
  await trx
    .updateTable('notifications')
    .set({ dispatched_at: at })
    .where('id', 'in', [...ids])
    .execute();
}

/** Batches to send now: pending, not given up, and due (never failed, or their wait is over). */
export function pendingBatches(q: Q, afterId: number, limit: number, now: Date) {
  return q
    .selectFrom('notification_batches')
    .select(['id', 'channel', 'target', 'subject', 'body', 'item_count', 'attempts'])
    .where('status', '=', 'pending')
    .where('attempts', '<', MAX_BATCH_ATTEMPTS)
    .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** When the earliest batch waiting for a retry is due (null: none waits). */
export async function nextRetryAt(q: Q): Promise<Date | null> {
  const row = await q
    .selectFrom('notification_batches')
    .select((eb) => eb.fn.min('next_attempt_at').as('at'))
    .where('status', '=', 'pending')
    .where('attempts', '<', MAX_BATCH_ATTEMPTS)
    .executeTakeFirst();
  return row?.at ? new Date(row.at as unknown as string) : null;
}

export async function markBatchSent(q: Q, id: number, at: Date, note: string | null = null) {
  await q
    .updateTable('notification_batches')
    .set((eb) => ({ status: 'sent', sent_at: at, attempts: eb('attempts', '+', 1), last_error: note }))
    .where('id', '=', id)
    .execute();
}

/** A failed send: one attempt more, its error, and when to try again (null: given up). */
export async function markBatchFailed(q: Q, id: number, error: string, nextAttemptAt: Date | null) {
  await q
    .updateTable('notification_batches')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error.slice(0, 1000), next_attempt_at: nextAttemptAt }))
    .where('id', '=', id)
    .execute();
}

export function emailAddressOf(q: Q, userId: string) {
  return q
    .selectFrom('notification_preferences as p')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .select(['p.email', 'p.email_notify', 'u.disabled_at', 'u.display_name'])
    .where('p.user_id', '=', userId)
    .executeTakeFirst();
}

export function robotById(q: Q, id: string) {
  return q.selectFrom('notification_robots').select(['id', 'kind', 'url', 'secret', 'enabled', 'name']).where('id', '=', id).executeTakeFirst();
}

/** Sends that failed: waiting for their next try, or given up (the robots page), newest first. */
export function failedBatches(q: Q, limit: number) {
  return q
    .selectFrom('notification_batches')
    .select(['id', 'channel', 'target', 'subject', 'attempts', 'last_error', 'created_at', 'next_attempt_at'])
    .where('status', '=', 'pending')
    .where('attempts', '>', 0)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
