import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import { countForwarded, countsByStatus, countSubmitted, openPeriodQuotas } from './review.repository';

/**
 * A county's to-do: entries waiting for review, and per open period the quota used and left with
 * the forwarding deadline; the city: forwarded entries not yet in a round.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'county' && user.countyId) {
    const countyId = user.countyId;
    const waiting = await countSubmitted(db, campaignId, countyId);
    // Per open period: quota (override or default) and forwarded so far — one grouped query.
    const periods = await openPeriodQuotas(db, campaignId, countyId, new Date());
    return [
      {
        key: 'review.submitted',
        label: '待审核的作品',
        count: waiting,
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
    const forwarded = await countForwarded(db, campaignId);
    return [{ key: 'review.forwarded', label: '已报送、尚未加入评审的作品', count: forwarded, href: '/review?tab=forwarded', tone: 'info' }];
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
  const rows = await countsByStatus(db, campaignId, { countyId: user.role === 'county' ? (user.countyId ?? '') : undefined, periodId });
  const byStatus = new Map(rows.map((r) => [r.status as string, Number(r.n)]));
  return Object.fromEntries(Object.entries(tabs).map(([key, statuses]) => [key, statuses.reduce((sum, s) => sum + (byStatus.get(s) ?? 0), 0)]));
}
