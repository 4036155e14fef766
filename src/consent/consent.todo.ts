import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import { ENTRY_STATUS_LABELS } from '../entries/entry.messages';
import type { TodoItem } from '../todo/todo.types';
import { countWithoutConsent } from './consent.repository';

const ENTRY_STATUSES = Object.keys(ENTRY_STATUS_LABELS);

/**
 * Authorisations still to record: every entry of a school without one (a draft cannot go to the city,
 * an awarded one cannot be published); a county's submitted entries it cannot forward yet.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser, campaignId: string): Promise<TodoItem[]> {
  if (user.role === 'school' && user.schoolId) {
    // Every entry: also those forwarded or awarded before authorisations were recorded (after an upgrade).
    const count = await countWithoutConsent(db, { campaignId, schoolId: user.schoolId }, ENTRY_STATUSES);
    return count ? [{ key: 'consent.missing', label: '待登记监护人授权书的作品', count, href: '/entries', tone: 'warn' }] : [];
  }
  if (user.role === 'county' && user.countyId) {
    const count = await countWithoutConsent(db, { campaignId, countyId: user.countyId }, ['submitted']);
    return count ? [{ key: 'consent.missing', label: '学校尚未登记授权、暂不能报送的作品', count, href: '/review', tone: 'info' }] : [];
  }
  return [];
}
