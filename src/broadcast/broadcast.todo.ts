import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import type { TodoItem } from '../todo/todo.types';
import { masterTodoCounts } from './broadcast.repository';

/** The TV desk's to-do: masters ready and not yet aired, in production, failed (also the city's). */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role !== 'tv' && user.role !== 'admin') return [];
  const row = await masterTodoCounts(db, campaignId);
  const items: TodoItem[] = [
    { key: 'broadcast.ready', label: '母版已就绪、尚未播出', count: Number(row.ready), href: '/broadcast', tone: 'warn' },
    { key: 'broadcast.making', label: '正在制作的母版', count: Number(row.making), href: '/broadcast', tone: 'info' },
    { key: 'broadcast.failed', label: '制作失败的母版', count: Number(row.failed), href: '/broadcast', tone: 'danger' },
  ];
  return user.role === 'admin' ? items.filter((i) => i.key === 'broadcast.failed') : items;
}
