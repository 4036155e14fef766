import { sql, type Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';

/**
 * A county's to-do: entries waiting for review, and per open period the quota used and left with
 * the forwarding deadline; the city: forwarded entries not yet in a round.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'county' && user.countyId) {
    const countyId = user.countyId;
    const waiting = await db
      .selectFrom('entries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('county_id', '=', countyId)
      .where('status', '=', 'submitted')
      .executeTakeFirstOrThrow();
    // Per open period: quota (override or default) and forwarded so far — one grouped query.
    const periods = await db
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
      .where('p.forward_by', '>', new Date())
      .groupBy(['p.id', 'p.name', 'p.forward_by', 'q.quota', 'p.quota'])
      .orderBy('p.forward_by')
      .execute();
    return [
      {
        key: 'review.submitted',
        label: '待审核的作品',
        count: Number(waiting.n),
        href: '/review?tab=submitted',
        tone: 'warn',
        due: periods[0]?.forward_by ?? null,
      },
      ...periods.map((p) => {
        const quota = Number(p.quota);
        const used = Number(p.used);
        return {
          key: `review.quota.${p.id}`,
          label: `${p.name}：报送名额剩余（已用 ${used} / ${quota}）`,
          count: Math.max(0, quota - used),
          href: `/review?tab=forwarded&periodId=${encodeURIComponent(p.id)}`,
          due: p.forward_by,
          tone: 'info' as const,
        };
      }),
    ];
  }
  if (user.role === 'admin') {
    const row = await db
      .selectFrom('entries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'forwarded')
      .executeTakeFirstOrThrow();
    return [{ key: 'review.forwarded', label: '已报送、尚未加入评审的作品', count: Number(row.n), href: '/review?tab=forwarded', tone: 'info' }];
  }
  return [];
}

/** Entries per worklist tab for this county (or the whole city), in the period the tabs link to: one grouped query. */
export async function worklistCounts(
  db: Kysely<DB>,
  user: CurrentUser,
  tabs: Record<string, readonly string[]>,
  campaignId: string,
  periodId?: string,
): Promise<Record<string, number>> {
  let q = db
    .selectFrom('entries')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('campaign_id', '=', campaignId)
    .groupBy('status');
  if (user.role === 'county') q = q.where('county_id', '=', user.countyId ?? '');
  if (periodId) q = q.where('period_id', '=', periodId);
  const rows = await q.execute();
  const byStatus = new Map(rows.map((r) => [r.status as string, Number(r.n)]));
  return Object.fromEntries(Object.entries(tabs).map(([key, statuses]) => [key, statuses.reduce((sum, s) => sum + (byStatus.get(s) ?? 0), 0)]));
}
