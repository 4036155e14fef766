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
  const rows = await q
    .select(['id', 'at', 'actor_name', 'action', 'object_type', 'object_id', 'from_state', 'to_state', 'reason', 'detail'])
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  return {
    items: rows.map((r) => ({
      at: new Date(r.at).toISOString(),
      actor: r.actor_name,
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
