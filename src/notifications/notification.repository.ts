import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { NotificationEvent, Recipients } from './notify';

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

export function listForUserFiltered(q: Q, userId: string, page: { limit: number; beforeId?: number | null; unreadOnly?: boolean }) {
  let query = q
    .selectFrom('notifications')
    .select(['id', 'kind', 'title', 'body', 'link', 'entry_id', 'created_at', 'read_at'])
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.beforeId) query = query.where('id', '<', page.beforeId);
  if (page.unreadOnly) query = query.where('read_at', 'is', null);
  return query.execute();
}

export function preferencesOf(q: Q, userId: string) {
  return q.selectFrom('notification_preferences').select(['email', 'email_notify']).where('user_id', '=', userId).executeTakeFirst();
}

export async function savePreferences(q: Q, userId: string, prefs: { email: string | null; emailNotify: boolean }, at: Date) {
  await q
    .insertInto('notification_preferences')
    .values({ user_id: userId, email: prefs.email, email_notify: prefs.emailNotify, updated_at: at })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ email: prefs.email, email_notify: prefs.emailNotify, updated_at: at }))
    .execute();
}

export function listRobots(q: Q) {
  return q
    .selectFrom('notification_robots as r')
    .leftJoin('counties as c', 'c.id', 'r.county_id')
    .select(['r.id', 'r.name', 'r.kind', 'r.county_id', 'c.name as county_name', 'r.url', 'r.secret', 'r.enabled', 'r.created_at'])
    .orderBy('c.sort')
    .orderBy('r.created_at')
    .limit(500)
    .execute();
}

export async function insertRobot(
  q: Q,
  robot: { name: string; kind: 'wecom' | 'dingtalk'; county_id: string | null; url: string; secret: string | null; enabled: boolean },
): Promise<string> {
  const { id } = await q.insertInto('notification_robots').values(robot).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function deleteRobot(q: Q, id: string): Promise<boolean> {
  const r = await q.deleteFrom('notification_robots').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function countyExists(q: Q, id: string): Promise<boolean> {
  return (await q.selectFrom('counties').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function linkOf(q: Q, userId: string, id: number): Promise<string | null> {
  const row = await q.selectFrom('notifications').select('link').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return row?.link ?? null;
}

/**
 * Writes one message for every active account among the recipients, in one INSERT … SELECT (no
 * query per person); a person who already has a message under `dedupeKey` gets no second one.
 * Returns how many messages were written (0, and no statement, when no recipients are named).
 */
export async function insertForRecipients(q: Q, recipients: Recipients, message: Omit<NotificationEvent, 'recipients'>, eventId: string): Promise<number> {
  const { userIds, schoolId, countyId, roles } = recipients;
  const who = [
    userIds?.length ? sql`u.id IN (${sql.join(userIds.map((id) => sql`${id}`))})` : null,
    schoolId ? sql`(u.role = 'school' AND u.school_id = ${schoolId})` : null,
    countyId ? sql`(u.role = 'county' AND u.county_id = ${countyId})` : null,
    roles?.length ? sql`u.role IN (${sql.join(roles.map((r) => sql`${r}`))})` : null,
  ].filter((part) => part !== null);
  if (who.length === 0) return 0;
  const result = await sql`
    INSERT INTO notifications (user_id, kind, title, body, link, entry_id, dedupe_key, event_id)
    SELECT u.id, ${message.kind}, ${message.title}, ${message.body ?? ''}, ${message.link ?? null}, ${message.entryId ?? null}, ${message.dedupeKey ?? null}, ${eventId}
    FROM users u
    WHERE u.disabled_at IS NULL AND (${sql.join(who, sql` OR `)})
    ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`.execute(q);
  return Number(result.numAffectedRows ?? 0);
}
