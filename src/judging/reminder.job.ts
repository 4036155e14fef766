import type { Transaction } from 'kysely';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { formatDateTime } from '../platform/format';
import type { JobHandler } from '../platform/queue/job-handler';
import { enqueueJob } from '../platform/queue/queue';
import { notify } from '../notifications/notify';
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
    // Grouped by how many are left: one notify() per distinct count, not per judge.
    const byLeft = new Map<number, string[]>();
    for (const b of behind) byLeft.set(Number(b.left), [...(byLeft.get(Number(b.left)) ?? []), b.judge_id]);
    let told = 0;
    for (const [left, judgeIds] of byLeft) {
      told += await notify(trx, {
        kind: 'round.reminder',
        recipients: { userIds: judgeIds },
        title: REMINDER_TITLE(round.name, left),
        body: REMINDER_BODY(formatDateTime(round.closes_at)),
        link: '/judging',
        dedupeKey: `round.reminder:${round.id}:${payload.closesAt}`,
      });
    }
    return told;
  });
}

export function createReminderJob(deps: { db: Db }): JobHandler<RoundReminderPayload> {
  return {
    async run(job) {
      await remindJudgesBehind(deps.db, job.payload);
    },
  };
}
