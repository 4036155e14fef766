import type { Transaction } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { invalidState, notFound, campaignClosed } from '../platform/errors';
import * as repo from './entry.repository';
import type { EntryStatus } from './entry.schema';

export type LockedEntry = NonNullable<Awaited<ReturnType<typeof repo.lockEntry>>>;

export interface Transition {
  /** Audit action, e.g. `entry.submit`. */
  action: string;
  /** The states this transition may start from. */
  from: readonly EntryStatus[];
  /** Why the entry's current state refuses it, in Chinese (→ 409). */
  refusal: (status: EntryStatus) => string;
  /**
   * The next state and any other changes. Runs inside the transaction: every query goes through
   * `trx` (embedded PGlite has one connection). May throw an AppError to refuse.
   */
  to: (
    trx: Transaction<DB>,
    entry: LockedEntry,
  ) => Promise<{ status: EntryStatus; patch?: Parameters<typeof repo.updateEntry>[2]; reason?: string | null; detail?: Record<string, unknown> }>;
  /** Runs after the change, still in the transaction (e.g. renumber the county's ranked list). */
  after?: (trx: Transaction<DB>, entry: LockedEntry) => Promise<void>;
}

/**
 * One entry state transition: the row locked, checked against its current state (409 with a
 * clear message otherwise), changed, and written to the audit log — all in one transaction.
 */
export async function transitionEntry(db: Db, actor: CurrentUser, id: string, t: Transition): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const entry = await repo.lockEntry(trx, id);
    if (!entry) throw notFound();
    // A closed campaign's entries say so first (the database would refuse the write anyway).
    if (await repo.campaignIsClosed(trx, entry.campaign_id)) throw campaignClosed();
    if (!t.from.includes(entry.status)) throw invalidState(t.refusal(entry.status));
    const next = await t.to(trx, entry);
    await repo.updateEntry(trx, id, { ...next.patch, status: next.status });
    await t.after?.(trx, entry);
    await recordAudit(trx, {
      actor,
      action: t.action,
      objectType: 'entry',
      objectId: id,
      from: entry.status,
      to: next.status,
      reason: next.reason ?? null,
      detail: next.detail,
    });
  });
}
