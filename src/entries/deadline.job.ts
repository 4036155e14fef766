import { activeAccountsOf } from '../accounts/user.repository';
import { openCampaignRow, periodsDue } from '../campaign/campaign.repository';
import type { AppJobQueue } from '../jobs';
import { notifyByCount } from '../notifications/notify';
import type { Db } from '../platform/db/database';
import { formatDateTime } from '../platform/format';
import type { Logger } from '../platform/logger';
import type { JobHandler } from '../platform/queue/job-handler';
import { dailyJob } from '../platform/queue/queue';
import { DEADLINE_REMINDERS as M } from './entry.messages';
import { awaitingReviewByCounty, unsubmittedBySchool } from './entry.repository';

/**
 * Reminders before the open campaign's deadlines: a school with entries it has not submitted
 * (drafts, returned ones) hears of the next 学校提交截止, a county with entries it has not reviewed
 * hears of its period's 县区报送截止 — each once per deadline, the first morning (09:00 Beijing) it
 * is three days or less away. A deadline moved later is a new deadline and is reminded again.
 */
export const DEADLINE_REMIND_JOB = 'entries.deadline-remind';
export interface DeadlineRemindPayload {
  /** the Beijing day the run is for (YYYY-MM-DD) */
  day: string;
}

export const DEADLINE_NOTICE_MS = 3 * 86_400_000;
const REMIND_HOUR_BEIJING = 9;

/** Each account with the count of its school or county. */
const withCounts = (accounts: Array<{ id: string; unit: string }>, counts: Map<string, number>) =>
  accounts.map((a) => ({ userId: a.id, count: counts.get(a.unit) ?? 0 }));

export async function remindDeadlines(db: Db, now: Date): Promise<{ schools: number; counties: number; notified: number }> {
  const campaign = await openCampaignRow(db);
  if (!campaign) return { schools: 0, counties: 0, notified: 0 };
  const horizon = new Date(now.getTime() + DEADLINE_NOTICE_MS);
  return db.transaction().execute(async (trx) => {
    let notified = 0;
    // Schools: a draft submitted now goes to the earliest period still open, so that deadline is theirs.
    const [submit] = await periodsDue(trx, campaign.id, 'submit_by', now, horizon);
    const schoolCounts = submit ? new Map((await unsubmittedBySchool(trx, campaign.id)).map((r) => [r.school_id, Number(r.n)])) : new Map<string, number>();
    if (submit && schoolCounts.size) {
      const deadline = formatDateTime(submit.submit_by);
      notified += await notifyByCount(
        trx,
        withCounts(await activeAccountsOf(trx, 'school', [...schoolCounts.keys()]), schoolCounts),
        (n) => ({
          kind: 'entries.submit_due',
          title: M.submitTitle(n, deadline),
          body: M.submitBody(submit.name),
          link: '/entries?status=draft',
          dedupeKey: `entries.submit_due:${submit.id}:${new Date(submit.submit_by).toISOString()}`,
        }),
        now,
      );
    }
    // Counties: each period whose county deadline is near, for the entries of that period waiting for review.
    const forward = await periodsDue(trx, campaign.id, 'forward_by', now, horizon);
    const waiting = await awaitingReviewByCounty(
      trx,
      forward.map((p) => p.id),
    );
    for (const period of forward) {
      const counts = new Map(waiting.filter((w) => w.period_id === period.id).map((w) => [w.county_id, Number(w.n)]));
      if (!counts.size) continue;
      const deadline = formatDateTime(period.forward_by);
      notified += await notifyByCount(
        trx,
        withCounts(await activeAccountsOf(trx, 'county', [...counts.keys()]), counts),
        (n) => ({
          kind: 'entries.forward_due',
          title: M.forwardTitle(n, deadline),
          body: M.forwardBody(period.name),
          link: '/review',
          dedupeKey: `entries.forward_due:${period.id}:${new Date(period.forward_by).toISOString()}`,
        }),
        now,
      );
    }
    return { schools: submit ? schoolCounts.size : 0, counties: new Set(waiting.map((w) => w.county_id)).size, notified };
  });
}

export function createDeadlineRemindJob(deps: { db: Db; logger: Logger }): JobHandler<DeadlineRemindPayload> {
  return {
    async run(job) {
      const result = await remindDeadlines(deps.db, new Date());
      deps.logger.info('deadline reminders sent', { day: job.payload.day, ...result });
    },
  };
}

/** Puts today's run on the queue (once per Beijing day): main.ts calls it at start-up and every hour. */
export function scheduleDeadlineReminder(queue: AppJobQueue, db: Db, now = new Date()) {
  return queue.enqueue(db, dailyJob(DEADLINE_REMIND_JOB, REMIND_HOUR_BEIJING, now));
}
