import type { Config } from './config';
import type { Db } from './platform/db/database';
import type { JobHandlers } from './platform/queue/job-handler';
import type { JobQueue } from './platform/queue/queue';

/** What job handlers are built from. The composition root adds object store, media runner, … as handlers need them. */
export interface JobHandlerDeps {
  readonly config: Config;
  readonly db: Db;
  readonly queue: JobQueue;
}

/**
 * The job handler registry: one handler per job type, keyed by the type string that
 * `queue.enqueue({ type })` uses. Job handlers register here (e.g. `ingest`, `broadcast`), and
 * both the separate worker process (workers/main.ts) and the in-process worker of the embedded
 * default build their worker from this one map; createWorker checks it at start-up.
 */
export function buildJobHandlers(_deps: JobHandlerDeps): JobHandlers {
  return {};
}
