import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import { countWithoutConsent } from './consent.repository';

/** One line of a person's to-do home (the interface of src/todo, defined here until it lands). */
export interface TodoItem {
  key: string;
  label: string;
  count: number;
  href: string;
  due?: Date | null;
  tone?: 'info' | 'warn' | 'danger';
}

/**
 * Authorisations still to record: a school's entries that cannot go to the city without one (drafts,
 * submitted, returned); a county's submitted entries it cannot forward yet. Nothing for other roles.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser): Promise<TodoItem[]> {
  if (user.role === 'school' && user.schoolId) {
    const count = await countWithoutConsent(db, { schoolId: user.schoolId }, ['draft', 'submitted', 'returned']);
    return count ? [{ key: 'consent.missing', label: '待登记监护人授权书的作品', count, href: '/entries', tone: 'warn' }] : [];
  }
  if (user.role === 'county' && user.countyId) {
    const count = await countWithoutConsent(db, { countyId: user.countyId }, ['submitted']);
    return count ? [{ key: 'consent.missing', label: '学校尚未登记授权、暂不能报送的作品', count, href: '/review', tone: 'info' }] : [];
  }
  return [];
}
