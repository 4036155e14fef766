import type { Transaction } from 'kysely';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { formatDateTime } from '../platform/format';
import type { JobHandler } from '../platform/queue/job-handler';
import { enqueueJob } from '../platform/queue/queue';
import { notifyByCount } from '../notifications/notify';
import { REMINDER_BODY, REMINDER_TITLE } from './judging.messages';
import * as repo from './reminder.repository';

/** Reminds judges who are behind, this long before a round closes. */
export const REMINDER_BEFORE_MS = 24 * 3600_000;
export const ROUND_REMINDER_JOB = 'judging.round-reminder';
export interface RoundReminderPayload {
  roundId: string;
  /** the closing time the reminder was scheduled for (ISO); a changed time schedules a new one */
  closesAt: string;
}

/** Schedules the reminder for a round's closing time (once per round × closing time), in the caller's transaction. */
export async function scheduleRoundReminder(trx: Transaction<DB>, roundId: string, closesAt: Date | null, now: Date) {
  if (!closesAt || closesAt.getTime() <= now.getTime()) return;
  const runAt = new Date(Math.max(now.getTime(), closesAt.getTime() - REMINDER_BEFORE_MS));
  await enqueueJob(
    trx,
    {
      type: ROUND_REMINDER_JOB,
      payload: { roundId, closesAt: closesAt.toISOString() },
      runAt,
      dedupeKey: `${ROUND_REMINDER_JOB}:${roundId}:${closesAt.toISOString()}`,
    },
    now,
  );
}

/** Tells each judge still behind how many are left, once per round × closing time. */
export async function remindJudgesBehind(db: Db, payload: RoundReminderPayload): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const round = await repo.roundForReminder(trx, payload.roundId);
    // Closed, reopened as draft, or its closing time moved: this reminder is stale (a newer one exists).
    if (!round || round.status !== 'open' || !round.closes_at || round.closes_at.toISOString() !== payload.closesAt) return 0;
    const behind = await repo.judgesBehind(trx, round.id);
    const closes = formatDateTime(round.closes_at);
    return notifyByCount(
      trx,
      behind.map((b) => ({ userId: b.judge_id, count: Number(b.left) })),
      (left) => ({
        kind: 'round.reminder',
        title: REMINDER_TITLE(round.name, left),
        body: REMINDER_BODY(closes),
        link: '/judging',
        dedupeKey: `round.reminder:${round.id}:${payload.closesAt}`,
      }),
    );
  });
}

export function createReminderJob(deps: { db: Db }): JobHandler<RoundReminderPayload> {
  return {
    async run(job) {
      await remindJudgesBehind(deps.db, job.payload);
    },
  };
}
