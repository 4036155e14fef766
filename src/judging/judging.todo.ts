import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import { openCounts } from './objection.repository';
import { objectionCampaignId } from './objection.service';

/** One line of someone's to-do (the shape src/todo collects from every component). */
export interface TodoItem {
  key: string;
  label: string;
  count: number;
  href: string;
  due?: Date | null;
  tone?: 'info' | 'warn' | 'danger';
}

/** The city's open objections of the 公示期: to accept, and accepted or under review awaiting a conclusion. */
export async function todoItems(db: Kysely<DB>, user: CurrentUser): Promise<TodoItem[]> {
  if (user.role !== 'admin') return [];
  const n = await openCounts(db, objectionCampaignId());
  const items: TodoItem[] = [];
  if (n.submitted)
    items.push({ key: 'objections.submitted', label: '待受理的公示异议', count: n.submitted, href: '/objections?status=submitted', tone: 'danger' });
  const inProgress = n.accepted + n.reviewing;
  if (inProgress) items.push({ key: 'objections.open', label: '待作出结论的公示异议', count: inProgress, href: '/objections', tone: 'warn' });
  return items;
}
