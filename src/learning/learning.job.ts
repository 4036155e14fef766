import type { Kysely } from 'kysely';
import type { DB } from '../platform/db/schema';
import type { Logger } from '../platform/logger';
import type { JobHandler } from '../platform/queue/job-handler';
import type { AppJobQueue } from '../jobs';
import { dailyJob } from '../platform/queue/queue';
import { createLearningService } from './learning.service';

/** The daily 人人会唱 reminder: schools not reported or below 100 %, close to the deadline. */
export const LEARNING_REMIND_JOB = 'learning.remind';

export interface LearningRemindPayload {
  /** the Beijing day the reminder is for (YYYY-MM-DD) */
  day: string;
}

/** Reminders go out at 09:00 Beijing time. */
const REMIND_HOUR_BEIJING = 9;

export function createLearningRemindJob(deps: { db: Kysely<DB>; logger: Logger }): JobHandler<LearningRemindPayload> {
  const learning = createLearningService(deps.db);
  return {
    async run(job) {
      const result = await learning.remind(new Date());
      deps.logger.info('learning reminders sent', { day: job.payload.day, ...result });
    },
  };
}

/**
 * Puts today's reminder on the queue (once per Beijing day, whoever calls it how often), to run at
 * 09:00 Beijing or at once when that has passed. main.ts calls it at start-up and every hour.
 */
export async function scheduleLearningReminder(queue: AppJobQueue, db: Kysely<DB>, now = new Date()) {
  return queue.enqueue(db, dailyJob(LEARNING_REMIND_JOB, REMIND_HOUR_BEIJING, now));
}
