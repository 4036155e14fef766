import type { Config } from './config';
import { createBroadcastJob } from './broadcast/broadcast.job';
import { BROADCAST_JOB } from './broadcast/broadcast.job';
import { createIngestJob, INGEST_JOB } from './entries/ingest.job';
import type { Db } from './platform/db/database';
import type { Logger } from './platform/logger';
import { createMediaRunner, mediaCapabilities, resolveMediaBinaries, type MediaCapabilities } from './platform/media';
import type { JobHandlers } from './platform/queue/job-handler';
import type { JobQueue } from './platform/queue/queue';
import type { ObjectStore } from './platform/storage/object-store';

/** What job handlers are built from (the composition root and workers/process.ts supply it). */
export interface JobHandlerDeps {
  readonly config: Config;
  readonly db: Db;
  readonly queue: JobQueue;
  readonly store: ObjectStore;
  readonly logger: Logger;
}

/**
 * The job handler registry: one handler per job type, keyed by the type string that
 * `queue.enqueue({ type })` uses. Both the separate worker process (workers/main.ts) and the
 * in-process worker of the embedded default build their worker from this one map; createWorker
 * checks it at start-up.
 */
export function buildJobHandlers(deps: JobHandlerDeps): JobHandlers {
  const binaries = resolveMediaBinaries(deps.config.media);
  const runner = createMediaRunner(binaries);
  let caps: Promise<MediaCapabilities> | undefined;
  const capabilities = () => (caps ??= mediaCapabilities(binaries));
  const tmpDir = deps.config.uploads.tmpDir;
  // Each handler is typed by its payload; the registry holds them as JobHandler<unknown>.
  return {
    [BROADCAST_JOB]: createBroadcastJob({ db: deps.db, store: deps.store, runner, capabilities, tmpDir, logger: deps.logger.child({ job: BROADCAST_JOB }) }) as JobHandlers[string],
    [INGEST_JOB]: createIngestJob({
      db: deps.db,
      store: deps.store,
      runner,
      capabilities,
      tmpDir,
      limits: { maxDurationS: deps.config.media.maxDurationS },
      logger: deps.logger.child({ job: INGEST_JOB }),
    }) as JobHandlers[string],
  };
}
