import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';

/** One line of a person's to-do home: a count with a direct link (and a deadline when there is one). */
export interface TodoItem {
  /** stable code, e.g. 'entries.returned' */
  key: string;
  label: string;
  count: number;
  href: string;
  due?: Date | null;
  tone?: 'info' | 'warn' | 'danger';
}

/**
 * What each component exports from `<component>.todo.ts`: the items it puts on this person's
 * to-do in the campaign the person is looking at, by aggregate queries (never a query per row);
 * [] for roles it does not concern.
 */
export type TodoProvider = (db: Kysely<DB>, user: CurrentUser, campaignId: string) => Promise<TodoItem[]>;
