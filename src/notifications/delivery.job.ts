import type { Config } from '../config';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import type { JobHandler } from '../platform/queue/job-handler';
import { createDelivery, type DeliveryChannels, createDeliveryChannels } from './delivery';
import type { NotifyDeliverPayload } from './notify';

export { NOTIFY_DELIVER_JOB } from './notify';

/**
 * The delivery job: one per window (notify() schedules it, and a run whose sends failed schedules
 * the next for when the earliest retry is due). Plans every message not yet planned, sends every
 * batch that is due. A failed send does not fail the job: that batch waits (30 s, then longer, for
 * about a day) and the job that is due then sends it.
 */
export function createDeliveryJob(deps: {
  db: Db;
  config: Config['notifications'];
  logger: Logger;
  channels?: DeliveryChannels;
}): JobHandler<NotifyDeliverPayload> {
  const delivery = createDelivery({ db: deps.db, config: deps.config, logger: deps.logger, channels: deps.channels ?? createDeliveryChannels(deps.config) });
  return {
    async run() {
      const result = await delivery.run();
      if (result.sent > 0 || result.failed > 0) deps.logger.info('notifications delivered', { ...result });
    },
  };
}
