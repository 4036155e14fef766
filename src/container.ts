import type { Config } from './config';
import { createAuthService } from './accounts/auth.service';
import { createSessionService } from './accounts/session.service';
import { createUserService } from './accounts/user.service';
import { createCampaignService } from './campaign/campaign.service';
import { createRetentionService } from './campaign/retention.service';
import { createSchoolImportService } from './org/school-import';
import { createSchoolService } from './org/school.service';
import { openDatabase, type Database } from './platform/db/database';
import { migrateToLatest } from './platform/db/migrate';
import { createLogger, type Logger } from './platform/logger';
import { createObjectStore } from './platform/storage';
import { createJobQueue } from './platform/queue/queue';
import type { JobPayloads } from './jobs';
import { createEntryService } from './entries/entry.service';
import { createVideoUploadService } from './entries/video-upload';
import { createFileTusStorage, createResumableUploads } from './entries/resumable-upload';
import { createBucketTusStorage } from './entries/bucket-tus-store';
import { createUploadLocker, type UploadLockerOptions } from './entries/upload-locker';
import { createUploadReservations } from './entries/upload-reservations';
import { buildJobHandlers } from './jobs';
import { createReviewService } from './review/review.service';
import { createRoundService } from './judging/round.service';
import { createScoringService } from './judging/scoring.service';
import { createResultsService } from './judging/results.service';
import { createObjectionService } from './judging/objection.service';
import { createFeedbackService } from './judging/feedback.service';
import { createReportService } from './judging/report.service';
import { createBroadcastService } from './broadcast/broadcast.service';
import { createNewMediaService } from './newmedia/newmedia.service';
import { createStatsService } from './review/stats.service';
import { createNotificationService } from './notifications/notification.service';
import { createTodoService } from './todo/todo.service';
import { createConsentService } from './consent/consent.service';
import { createLearningService } from './learning/learning.service';
import { createCertificateService } from './certificates/certificate.service';
import { createWorker, type Worker } from './platform/queue/worker';
import type { ObjectStore } from './platform/storage/object-store';

/**
 * The composition root: every module is constructed here, by hand, from the Config.
 * No module-level singletons anywhere else.
 */
export interface ContainerOverrides {
  database?: Database;
  store?: ObjectStore;
  logger?: Logger;
  /** Lease and wait times of the upload locks (tests shorten the 30 s wait for a busy upload). */
  uploadLocks?: UploadLockerOptions;
}

export async function createContainer(config: Config, overrides: ContainerOverrides = {}) {
  const logger = overrides.logger ?? createLogger();
  const database = overrides.database ?? (await openDatabase(config.database));
  await migrateToLatest(database.db);
  const store = overrides.store ?? createObjectStore(config.storage);
  const db = database.db;

  const sessions = createSessionService(db, {
    idleMinutes: config.security.sessionIdleMinutes,
    absoluteHours: config.security.sessionAbsoluteHours,
    apiTokenDays: config.security.apiTokenDays,
  });
  const auth = createAuthService(db, {
    scryptLogN: config.security.scryptLogN,
    maxFailures: config.security.loginMaxFailures,
    windowMinutes: config.security.loginWindowMinutes,
  });
  const users = createUserService(db, { scryptLogN: config.security.scryptLogN, sessions });
  const schools = createSchoolService(db);
  const schoolImport = createSchoolImportService(db);
  const campaign = createCampaignService(db);
  const queue = createJobQueue<JobPayloads>(db, { leaseMs: config.worker.leaseMs, infraRetryMs: config.worker.infraRetryHours * 3600_000 });
  const entries = createEntryService(db);
  const review = createReviewService(db, { entries });
  const stats = createStatsService(db);
  const learning = createLearningService(db);
  const rounds = createRoundService(db);
  const scoring = createScoringService(db);
  const results = createResultsService(db);
  const notifications = createNotificationService(db, { emailEnabled: Boolean(config.notifications.smtp) });
  const todo = createTodoService(db);
  const objections = createObjectionService(db, { store });
  const feedback = createFeedbackService(db);
  const reports = createReportService(db, { results });
  let worker: Worker | null = null;
  const broadcast = createBroadcastService(db, { store, queue, entries, campaign: (id) => campaign.get(id), onEnqueued: () => worker?.nudge() });
  const retention = createRetentionService(db, { store, queue, onEnqueued: () => worker?.nudge() });
  const consent = createConsentService({ db, store, entries, campaign: (id) => campaign.get(id) });
  const certificates = createCertificateService(db, { store, queue, onEnqueued: () => worker?.nudge() });
  const newMedia = createNewMediaService(db, {
    store,
    queue,
    entries,
    campaign: (id) => campaign.get(id),
    maxBytes: config.media.packMaxBytes,
    onEnqueued: () => worker?.nudge(),
  });
  const uploads = createVideoUploadService({ db, store, queue, entries, onEnqueued: () => worker?.nudge() });
  // Unfinished uploads' bytes: in the bucket when the object store is S3 (production), else in TUS_DIR.
  const tusStorage =
    store.kind === 's3'
      ? await createBucketTusStorage({ db, store, tmpDir: config.uploads.tmpDir, expiryHours: config.uploads.expiryHours })
      : await createFileTusStorage(config.uploads.tusDir, config.uploads.expiryHours);
  const resumableUploads = await createResumableUploads({
    storage: tusStorage,
    maxBytes: config.uploads.maxVideoBytes,
    expiryHours: config.uploads.expiryHours,
    schoolCapBytes: config.uploads.schoolCapBytes,
    allowedOrigins: config.uploads.allowedOrigins,
    entries,
    uploads,
    locker: createUploadLocker(db, logger.child({ component: 'tus-lock' }), overrides.uploadLocks),
    reservations: createUploadReservations(db, config.uploads.expiryHours),
    logger: logger.child({ component: 'tus' }),
  });

  return {
    config,
    logger,
    database,
    store,
    sessions,
    auth,
    users,
    schools,
    schoolImport,
    campaign,
    retention,
    queue,
    entries,
    uploads,
    resumableUploads,
    review,
    stats,
    learning,
    certificates,
    rounds,
    scoring,
    results,
    objections,
    feedback,
    reports,
    broadcast,
    notifications,
    todo,
    consent,
    newMedia,
    db,
    /** The in-process worker of the embedded default (separate processes run workers/main.ts). */
    startWorker(): Worker {
      worker ??= createWorker({
        queue,
        handlers: buildJobHandlers({ config, db, queue, store, logger }),
        concurrency: config.worker.concurrency,
        logger: logger.child({ component: 'worker' }),
      });
      worker.start();
      return worker;
    },
    async close(): Promise<void> {
      await worker?.stop({ graceMs: 5000 });
      await database.close();
    },
  };
}

export type Container = Awaited<ReturnType<typeof createContainer>>;
