import type { Kysely } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import type { DB } from '../platform/db/schema';
import { LEARNING_MESSAGES as M } from './learning.messages';
import * as repo from './learning.repository';
import type { TodoItem } from '../todo/todo.types';
import { createLearningService } from './learning.service';

const DAY_MS = 86_400_000;

/**
 * 人人会唱 on the to-do until the deadline: a school that has not reported, or whose latest report
 * is below 100 %; a county its schools that have not reported; the city all of them.
 */
export async function todoItems(db: Kysely<DB>, user: CurrentUser): Promise<TodoItem[]> {
  if (!['school', 'county', 'admin'].includes(user.role)) return [];
  const learning = createLearningService(db);
  const dl = await learning.deadline();
  const left = dl.closesAt.getTime() - Date.now();
  if (left < 0) return [];
  const tone = left < 7 * DAY_MS ? 'danger' : 'warn';
  const campaignId = await learning.learningCampaignId();
  if (user.role === 'school') {
    if (!user.schoolId) return [];
    const latest = await repo.latestReport(db, campaignId, user.schoolId);
    if (!latest) return [{ key: 'learning.report', label: M.todoReport, count: 1, href: '/learning', due: dl.closesAt, tone }];
    const below = latest.songs.some((s) => s.teachers_learned < latest.teachers || s.classes_singing < latest.classes);
    return below ? [{ key: 'learning.below_full', label: M.todoBelow, count: 1, href: '/learning', due: dl.closesAt, tone: 'info' }] : [];
  }
  if (user.role === 'county' && !user.countyId) return [];
  const n = await repo.countNotReported(db, campaignId, user.role === 'county' ? user.countyId : null);
  return n > 0
    ? [{ key: 'learning.not_reported', label: M.todoCountyNotReported, count: n, href: '/learning/coverage?notReported=1', due: dl.closesAt, tone }]
    : [];
}
