import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { AWARDED_STATUSES, canUse } from '../accounts/policy';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import * as repo from './newmedia.repository';

/** The new-media desk's to-dos: failed packs to retry, awarded entries still without a pack. */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (!canUse(user, 'mediaPack')) return [];
  const { failed, unpacked } = await repo.todoCounts(db, campaignId, AWARDED_STATUSES);
  const items: TodoItem[] = [];
  if (failed) items.push({ key: 'media_pack.failed', label: '新媒体包制作失败，待重试', count: failed, href: '/newmedia', tone: 'danger' });
  if (unpacked) items.push({ key: 'media_pack.unpacked', label: '获奖作品待制作新媒体包', count: unpacked, href: '/newmedia', tone: 'info' });
  return items;
}
