import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { EntryStatus } from '../entries/entry.schema';

/** County review as rows (Kysely): periods, quotas, forwarded entries and their ranks. Rules in review.service.ts. */
type Q = Kysely<DB> | Transaction<DB>;

export function findPeriod(q: Q, periodId: string) {
  return q.selectFrom('periods').select(['id', 'quota', 'forward_by', 'campaign_id']).where('id', '=', periodId).executeTakeFirst();
}

export async function quotaOverride(q: Q, periodId: string, countyId: string): Promise<number | null> {
  const row = await q.selectFrom('period_county_quotas').select('quota').where('period_id', '=', periodId).where('county_id', '=', countyId).executeTakeFirst();
  return row?.quota ?? null;
}

export function quotaOverrides(q: Q, periodId: string) {
  return q.selectFrom('period_county_quotas').select(['county_id', 'quota']).where('period_id', '=', periodId).execute();
}

export async function setQuotaOverride(q: Q, periodId: string, countyId: string, quota: number | null): Promise<void> {
  if (quota === null) {
    await q.deleteFrom('period_county_quotas').where('period_id', '=', periodId).where('county_id', '=', countyId).execute();
    return;
  }
  await q
    .insertInto('period_county_quotas')
    .values({ period_id: periodId, county_id: countyId, quota })
    .onConflict((oc) => oc.columns(['period_id', 'county_id']).doUpdateSet({ quota }))
    .execute();
}

/** How many of a county's entries in a period are in one of `states`. */
export async function countInStates(q: Q, periodId: string, countyId: string, states: readonly EntryStatus[]): Promise<number> {
  const { n } = await q
    .selectFrom('entries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('period_id', '=', periodId)
    .where('county_id', '=', countyId)
    .where('status', 'in', states)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Per county, how many entries of a period are in one of `states`. */
export function countsByCounty(q: Q, periodId: string, states: readonly EntryStatus[]) {
  return q
    .selectFrom('entries')
    .select(['county_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('period_id', '=', periodId)
    .where('status', 'in', states)
    .groupBy('county_id')
    .execute();
}

/** A county's entries of a period in `states`, by forward rank (unranked last), except one. */
export async function rankedIds(q: Q, periodId: string, countyId: string, states: readonly EntryStatus[], exceptId?: string): Promise<string[]> {
  let query = q.selectFrom('entries').select('id').where('period_id', '=', periodId).where('county_id', '=', countyId).where('status', 'in', states);
  if (exceptId) query = query.where('id', '!=', exceptId);
  const rows = await query
    .orderBy('forward_rank', (ob) => ob.asc().nullsLast())
    .orderBy('forwarded_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Writes ranks 1..n in the given order (only rows whose rank changes). */
export async function writeRanks(trx: Transaction<DB>, ids: string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    await trx
      .updateTable('entries')
      .set({ forward_rank: i + 1 })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('forward_rank', 'is', null), eb('forward_rank', '!=', i + 1)]))
      .execute();
  }
}

/** Every forward or reorder of a county locks its row first (quota safety). */
export function lockCounty(trx: Transaction<DB>, countyId: string) {
  return trx.selectFrom('counties').select('id').where('id', '=', countyId).forUpdate().executeTakeFirst();
}

export function countyExists(q: Q, countyId: string) {
  return q.selectFrom('counties').select('id').where('id', '=', countyId).executeTakeFirst();
}

export function listCounties(q: Q) {
  return q.selectFrom('counties').select(['id', 'name']).orderBy('sort').execute();
}

export function countySchools(q: Q, countyId: string, limit: number) {
  return q.selectFrom('schools').select(['id', 'name']).where('county_id', '=', countyId).orderBy('name').limit(limit).execute();
}

export function findEntryForRank(q: Q, id: string) {
  return q.selectFrom('entries').select(['id', 'status', 'period_id', 'forward_rank']).where('id', '=', id).executeTakeFirst();
}

/** The county's entries waiting for review in the campaign (its to-do). */
export async function countSubmitted(q: Q, campaignId: string, countyId: string): Promise<number> {
  const waiting = await q
    .selectFrom('entries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('county_id', '=', countyId)
    .where('status', '=', 'submitted')
    .executeTakeFirstOrThrow();
  return Number(waiting.n);
}

/**
 * Per period still open for forwarding (after `now`), soonest deadline first: the county's quota
 * (its override or the period's default) and the entries it has forwarded so far — one grouped query.
 */
export async function openPeriodQuotas(q: Q, campaignId: string, countyId: string, now: Date) {
  return q
    .selectFrom('periods as p')
    .leftJoin('period_county_quotas as q', (j) => j.onRef('q.period_id', '=', 'p.id').on('q.county_id', '=', countyId))
    .leftJoin('entries as e', (j) =>
      j
        .onRef('e.period_id', '=', 'p.id')
        .on('e.county_id', '=', countyId)
        .on(sql<boolean>`e.status NOT IN ('draft', 'submitted', 'returned')`),
    )
    .select(['p.id', 'p.name', 'p.forward_by', sql<number>`coalesce(q.quota, p.quota)`.as('quota'), sql<string>`count(e.id)`.as('used')])
    .where('p.campaign_id', '=', campaignId)
    .where('p.forward_by', '>', now)
    .groupBy(['p.id', 'p.name', 'p.forward_by', 'q.quota', 'p.quota'])
    .orderBy('p.forward_by')
    .execute();
}

/** The city's forwarded entries not yet in a round (its to-do). */
export async function countForwarded(q: Q, campaignId: string): Promise<number> {
  const row = await q
    .selectFrom('entries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'forwarded')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The campaign's entries per status, for one county (else the whole city) and one period (else all): one grouped query. */
export async function countsByStatus(q: Q, campaignId: string, scope: { countyId?: string; periodId?: string }) {
  let query = q
    .selectFrom('entries')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('campaign_id', '=', campaignId)
    .groupBy('status');
  if (scope.countyId !== undefined) query = query.where('county_id', '=', scope.countyId);
  if (scope.periodId) query = query.where('period_id', '=', scope.periodId);
  return query.execute();
}
