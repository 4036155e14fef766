import type { Kysely, Transaction } from 'kysely';
import type { DB } from './db/schema';

/** Who did what to which object, when, from which state to which, and why. */
export interface AuditEvent {
  actor: { id: string; username: string } | null;
  action: string;
  objectType: string;
  objectId: string;
  from?: string | null;
  to?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Kysely<DB> | Transaction<DB>, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor_id: event.actor?.id ?? null,
      actor_name: event.actor?.username ?? 'system',
      action: event.action,
      object_type: event.objectType,
      object_id: event.objectId,
      from_state: event.from ?? null,
      to_state: event.to ?? null,
      reason: event.reason ?? null,
      detail: event.detail ? JSON.stringify(event.detail) : null,
    })
    .execute();
}

export interface AuditFilter {
  action?: string;
  objectType?: string;
  objectId?: string;
}

/** The audit log, newest first, one page at a time. */
export async function listAudit(db: Kysely<DB>, filter: AuditFilter, page: { page: number; pageSize: number }) {
  let q = db.selectFrom('audit_log');
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.objectType) q = q.where('object_type', '=', filter.objectType);
  if (filter.objectId) q = q.where('object_id', '=', filter.objectId);
  const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  // The page's rows, then the names of their people and objects in one query (no query per row).
  const rows = await q
    .select(['id', 'at', 'actor_id', 'actor_name', 'action', 'object_type', 'object_id', 'from_state', 'to_state', 'reason', 'detail'])
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  const names = await auditNames(db, rows);
  return {
    items: rows.map((r) => ({
      at: new Date(r.at).toISOString(),
      actor: r.actor_name,
      actorName: (r.actor_id && names.get(`user:${r.actor_id}`)) || (r.actor_name === 'system' ? '系统' : r.actor_name),
      objectName: names.get(`${r.object_type}:${r.object_id}`) ?? null,
      action: r.action,
      objectType: r.object_type,
      objectId: r.object_id,
      from: r.from_state,
      to: r.to_state,
      reason: r.reason,
      detail: r.detail,
    })),
    total: Number(n),
    page: page.page,
    pageSize: page.pageSize,
  };
}

/** Names of the people and objects audit rows point at, keyed `type:id` (entries: 编号 and title). */
async function auditNames(db: Kysely<DB>, rows: Array<{ actor_id: string | null; object_type: string; object_id: string }>): Promise<Map<string, string>> {
  const ids = (type: string) => [...new Set(rows.filter((r) => r.object_type === type).map((r) => r.object_id))];
  const userIds = [...new Set([...rows.flatMap((r) => (r.actor_id ? [r.actor_id] : [])), ...ids('user')])];
  const [users, entries, rounds, schools, periods] = await Promise.all([
    userIds.length ? db.selectFrom('users').select(['id', 'display_name as name']).where('id', 'in', userIds).execute() : [],
    ids('entry').length ? db.selectFrom('entries').select(['id', 'code', 'title']).where('id', 'in', ids('entry')).execute() : [],
    ids('round').length ? db.selectFrom('rounds').select(['id', 'name']).where('id', 'in', ids('round')).execute() : [],
    ids('school').length ? db.selectFrom('schools').select(['id', 'name']).where('id', 'in', ids('school')).execute() : [],
    ids('period').length ? db.selectFrom('periods').select(['id', 'name']).where('id', 'in', ids('period')).execute() : [],
  ]);
  const out = new Map<string, string>();
  for (const u of users) out.set(`user:${u.id}`, u.name);
  for (const e of entries) out.set(`entry:${e.id}`, `${e.code}「${e.title}」`);
  for (const r of rounds) out.set(`round:${r.id}`, r.name);
  for (const s of schools) out.set(`school:${s.id}`, s.name);
  for (const p of periods) out.set(`period:${p.id}`, p.name);
  return out;
}
