import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { todoItems as broadcastTodo } from '../broadcast/broadcast.todo';
import { todoItems as campaignTodo } from '../campaign/campaign.todo';
import { todoItems as consentTodo } from '../consent/consent.todo';
import { todoItems as entriesTodo } from '../entries/entries.todo';
import { todoItems as learningTodo } from '../learning/learning.todo';
import { todoItems as newMediaTodo } from '../newmedia/newmedia.todo';
import { todoItems as judgingTodo } from '../judging/judging.todo';
import { countUnread } from '../notifications/notification.repository';
import type { Db } from '../platform/db/database';
import { todoItems as reviewTodo, worklistCounts } from '../review/review.todo';
import type { TodoItem, TodoProvider } from './todo.types';

/** Every component's provider (`<component>.todo.ts`); a new one is one more line here. */
export const TODO_PROVIDERS: readonly TodoProvider[] = [
  entriesTodo,
  reviewTodo,
  judgingTodo,
  broadcastTodo,
  campaignTodo,
  consentTodo,
  learningTodo,
  newMediaTodo,
];

const TONE_ORDER = { danger: 0, warn: 1, info: 2 } as const;

/** A person's to-do: their unread messages and every provider's items, the most urgent first. */
export function createTodoService(db: Db, providers: readonly TodoProvider[] = TODO_PROVIDERS) {
  return {
    async items(actor: CurrentUser, campaignId: string): Promise<TodoItem[]> {
      assertArea(actor, 'messages');
      const [unread, ...lists] = await Promise.all([countUnread(db, actor.id), ...providers.map((p) => p(db, actor, campaignId))]);
      const items: TodoItem[] = [{ key: 'messages.unread', label: '未读消息', count: unread, href: '/notifications', tone: 'info' }, ...lists.flat()];
      // Stable: within a tone the providers' order stays; items with something to do before empty ones.
      return items
        .map((item, i) => ({ item, i }))
        .sort(
          (a, b) => Number(b.item.count > 0) - Number(a.item.count > 0) || TONE_ORDER[a.item.tone ?? 'info'] - TONE_ORDER[b.item.tone ?? 'info'] || a.i - b.i,
        )
        .map((x) => x.item);
    },

    /** How many entries each worklist tab holds for this reviewer (the tabs show the counts). */
    worklistCounts(actor: CurrentUser, tabs: Record<string, readonly string[]>, campaignId: string, periodId?: string): Promise<Record<string, number>> {
      assertArea(actor, 'review');
      return worklistCounts(db, actor, tabs, campaignId, periodId);
    },
  };
}

export type TodoService = ReturnType<typeof createTodoService>;
