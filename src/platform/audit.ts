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
