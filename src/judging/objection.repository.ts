import type { Kysely, Transaction, Updateable } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { ObjectionStatus } from './results.schema';

/** The objections' SQL (issue 18). Personal data: the service lets only the city and 监督 read it. */
type Q = Kysely<DB> | Transaction<DB>;

export function publishedRound(q: Q, roundId: string) {
  return q
    .selectFrom('rounds')
    .select(['id', 'name', 'campaign_id', 'published_at', 'publicity_from', 'publicity_to'])
    .where('id', '=', roundId)
    .where('published_at', 'is not', null)
    .executeTakeFirst();
}

/** How many objections one address sent since `since` (the rate limit). */
export async function countFromClientSince(q: Q, clientKey: string, since: Date): Promise<{ n: number; oldest: Date | null }> {
  const r = await q
    .selectFrom('objections')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('client_key', '=', clientKey)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return { n: Number(r.n), oldest: r.oldest ? new Date(r.oldest as Date) : null };
}

export async function insertObjection(
  trx: Transaction<DB>,
  row: {
    id: string;
    campaign_id: string;
    round_id: string;
    receipt_number: string;
    entry_code: string | null;
    name: string;
    phone: string;
    relation: string;
    reason: string;
    attachment_key: string | null;
    attachment_type: string | null;
    attachment_size: number | null;
    client_key: string;
    created_at: Date;
    updated_at: Date;
  },
): Promise<void> {
  await trx.insertInto('objections').values(row).execute();
}

export async function receiptExists(q: Q, receipt: string): Promise<boolean> {
  return Boolean(await q.selectFrom('objections').select('id').where('receipt_number', '=', receipt).executeTakeFirst());
}

const LIST_COLUMNS = [
  'o.id',
  'o.round_id',
  'r.name as round_name',
  'o.receipt_number',
  'o.entry_code',
  'o.name',
  'o.phone',
  'o.relation',
  'o.reason',
  'o.attachment_key',
  'o.attachment_type',
  'o.attachment_size',
  'o.status',
  'o.outcome',
  'o.conclusion',
  'o.created_at',
  'o.updated_at',
] as const;

export async function listObjections(
  q: Q,
  filter: { campaignId: string; roundId?: string | null; status?: ObjectionStatus | null },
  page: number,
  pageSize: number,
) {
  let base = q.selectFrom('objections as o').innerJoin('rounds as r', 'r.id', 'o.round_id').where('o.campaign_id', '=', filter.campaignId);
  if (filter.roundId) base = base.where('o.round_id', '=', filter.roundId);
  if (filter.status) base = base.where('o.status', '=', filter.status);
  const [{ n }, items] = await Promise.all([
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    base
      .select([...LIST_COLUMNS])
      .orderBy('o.created_at', 'desc')
      .orderBy('o.id', 'desc')
      .limit(pageSize)
      .offset((page - 1) * pageSize)
      .execute(),
  ]);
  return { total: Number(n), items };
}

export function findObjection(q: Q, id: string) {
  return q
    .selectFrom('objections as o')
    .innerJoin('rounds as r', 'r.id', 'o.round_id')
    .select([...LIST_COLUMNS])
    .where('o.id', '=', id)
    .executeTakeFirst();
}

export function lockObjection(trx: Transaction<DB>, id: string) {
  return trx.selectFrom('objections').select(['id', 'round_id', 'receipt_number', 'status']).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateObjection(trx: Transaction<DB>, id: string, values: Updateable<DB['objections']>): Promise<void> {
  await trx.updateTable('objections').set(values).where('id', '=', id).execute();
}

/** Objections by status in one campaign (the city's to-do). */
export async function openCounts(q: Q, campaignId: string): Promise<Record<ObjectionStatus, number>> {
  const rows = await q
    .selectFrom('objections')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('campaign_id', '=', campaignId)
    .where('status', '!=', 'concluded')
    .groupBy('status')
    .execute();
  const out: Record<ObjectionStatus, number> = { submitted: 0, accepted: 0, reviewing: 0, concluded: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** The audit trail of one objection (its handling history), oldest first. */
export function objectionAudit(q: Q, id: string) {
  return q
    .selectFrom('audit_log')
    .select(['at', 'actor_name', 'action', 'from_state', 'to_state', 'reason'])
    .where('object_type', '=', 'objection')
    .where('object_id', '=', id)
    .orderBy('at')
    .orderBy('id')
    .limit(100)
    .execute();
}
