import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { canUse } from '../accounts/policy';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import { retentionDue } from './campaign.repository';

/** The city: closed campaigns whose retention period has passed and whose clearing is not confirmed yet. */
export async function todoItems(db: Kysely<DB>, user: CurrentUser): Promise<TodoItem[]> {
  if (!canUse(user, 'campaignAdmin')) return [];
  const due = await retentionDue(db, new Date());
  if (!due.length) return [];
  return [
    {
      key: 'campaign.retention_due',
      label: '保留期已到、待预演并确认清理的活动',
      count: due.length,
      href: due.length === 1 ? `/campaigns/${encodeURIComponent(due[0]!.id)}` : '/campaigns',
      due: due[0]!.due,
      tone: 'warn',
    },
  ];
}
