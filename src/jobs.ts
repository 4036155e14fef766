import { BROADCAST_JOB, createBroadcastJob, type BroadcastPayload } from './broadcast/broadcast.job';
import { createRetentionJob, RETENTION_JOB, type RetentionPayload } from './campaign/retention.job';
import { createDeadlineRemindJob, DEADLINE_REMIND_JOB, type DeadlineRemindPayload } from './entries/deadline.job';
import { createIngestJob, INGEST_JOB, type IngestPayload } from './entries/ingest.job';
import { createDeliveryJob } from './notifications/delivery.job';
import { NOTIFY_DELIVER_JOB, type NotifyDeliverPayload } from './notifications/notify';
import { createReminderJob, ROUND_REMINDER_JOB, type RoundReminderPayload } from './judging/reminder.job';
import { CERTIFICATES_JOB, createCertificatesJob, type CertificatesPayload } from './certificates/certificate.job';
import { createLearningRemindJob, LEARNING_REMIND_JOB, type LearningRemindPayload } from './learning/learning.job';
import { createPackJob, PACK_JOB, type PackPayload } from './newmedia/newmedia.job';
import { cjkFontPath } from './platform/documents/fonts';
import { createMediaRunner, mediaCapabilities, resolveMediaBinaries, type MediaCapabilities } from './platform/media';
import type { JobHandlersFor } from './platform/queue/job-handler';
import type { JobQueue } from './platform/queue/queue';
import type { WorkerProcessDeps } from './platform/queue/worker-process';

/**
 * Every job type and its payload (compare Immich's JobItem, PeerTube's CreateJobArgument): `enqueue`
 * accepts only these pairs and each handler receives its own payload type — no casts anywhere.
 */
export interface JobPayloads {
  [BROADCAST_JOB]: BroadcastPayload;
  [INGEST_JOB]: IngestPayload;
  [DEADLINE_REMIND_JOB]: DeadlineRemindPayload;
  [NOTIFY_DELIVER_JOB]: NotifyDeliverPayload;
  [ROUND_REMINDER_JOB]: RoundReminderPayload;
  [RETENTION_JOB]: RetentionPayload;
  [LEARNING_REMIND_JOB]: LearningRemindPayload;
  [CERTIFICATES_JOB]: CertificatesPayload;
  [PACK_JOB]: PackPayload;
}

/** The application's queue: typed by JobPayloads. */
export type AppJobQueue = JobQueue<JobPayloads>;

/** What job handlers are built from (the composition root and the worker process supply it). */
export type JobHandlerDeps = WorkerProcessDeps;

/**
 * The job handler registry: one handler per job type, keyed by the type string that
 * `queue.enqueue({ type })` uses. Both the separate worker process (workers/main.ts) and the
 * in-process worker of the embedded default build their worker from this one map; createWorker
 * checks it at start-up.
 */
export function buildJobHandlers(deps: JobHandlerDeps): JobHandlersFor<JobPayloads> {
  const binaries = resolveMediaBinaries(deps.config.media);
  const runner = createMediaRunner(binaries);
  let caps: Promise<MediaCapabilities> | undefined;
  const capabilities = () => (caps ??= mediaCapabilities(binaries));
  const tmpDir = deps.config.uploads.tmpDir;
  return {
    [BROADCAST_JOB]: createBroadcastJob({ db: deps.db, store: deps.store, runner, capabilities, tmpDir, logger: deps.logger.child({ job: BROADCAST_JOB }) }),
    [INGEST_JOB]: createIngestJob({
      db: deps.db,
      store: deps.store,
      runner,
      capabilities,
      tmpDir,
      limits: { maxDurationS: deps.config.media.maxDurationS },
      logger: deps.logger.child({ job: INGEST_JOB }),
    }),
    [NOTIFY_DELIVER_JOB]: createDeliveryJob({ db: deps.db, config: deps.config.notifications, logger: deps.logger.child({ job: NOTIFY_DELIVER_JOB }) }),
    [ROUND_REMINDER_JOB]: createReminderJob({ db: deps.db }),
    [DEADLINE_REMIND_JOB]: createDeadlineRemindJob({ db: deps.db, logger: deps.logger.child({ job: DEADLINE_REMIND_JOB }) }),
    [RETENTION_JOB]: createRetentionJob({ db: deps.db, store: deps.store, logger: deps.logger.child({ job: RETENTION_JOB }) }),
    [CERTIFICATES_JOB]: createCertificatesJob({ db: deps.db, store: deps.store, logger: deps.logger.child({ job: CERTIFICATES_JOB }) }),
    [LEARNING_REMIND_JOB]: createLearningRemindJob({ db: deps.db, logger: deps.logger.child({ job: LEARNING_REMIND_JOB }) }),
    [PACK_JOB]: createPackJob({
      db: deps.db,
      store: deps.store,
      runner,
      capabilities,
      fonts: () => ({ regular: cjkFontPath('regular'), bold: cjkFontPath('bold') }),
      tmpDir,
      logger: deps.logger.child({ job: PACK_JOB }),
    }),
  };
}
