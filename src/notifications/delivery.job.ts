import type { Config } from '../config';
import type { Db } from '../platform/db/database';
import type { Logger } from '../platform/logger';
import type { JobHandler } from '../platform/queue/job-handler';
import { createDelivery, type DeliveryChannels, createDeliveryChannels } from './delivery';
import type { NotifyDeliverPayload } from './notify';

export { NOTIFY_DELIVER_JOB } from './notify';

/**
 * The delivery job: one per window (notify() schedules it). Plans every message not yet planned,
 * sends every pending batch; a failed send throws, so the queue retries with backoff and only the
 * unsent batches go again.
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
      if (result.sent > 0) deps.logger.info('notifications delivered', { ...result });
    },
  };
}
