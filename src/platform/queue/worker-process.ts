import { loadConfig, type Config } from '../../config';
import { openDatabase, type Database } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { createLogger } from '../logger';
import { createObjectStore } from '../storage';
import { sweepStaleTemp } from '../temp-files';
import type { JobHandlers } from './job-handler';
import { createJobQueue, type BackoffPolicy } from './queue';
import type { Db } from '../db/database';
import type { Logger } from '../logger';
import type { ObjectStore } from '../storage/object-store';
import type { JobRunQueue } from './queue';
import { consoleLogger, createWorker, type Worker, type WorkerLogger } from './worker';

/** What a worker process gives the handler registry to build its handlers from. */
export interface WorkerProcessDeps {
  readonly config: Config;
  readonly db: Db;
  readonly queue: JobRunQueue;
  readonly store: ObjectStore;
  readonly logger: Logger;
}

export interface WorkerProcessOptions {
  env?: Record<string, string | undefined>;
  logger?: WorkerLogger;
  workerId?: string;
  leaseMs?: number;
  pollMs?: number;
  backoff?: BackoffPolicy;
  /** On SIGTERM/SIGINT, how long the running jobs may take to finish before they are released. */
  graceMs?: number;
  /** Exit the process after a signal-triggered stop (default true; tests of the runtime pass false). */
  exitOnStop?: boolean;
}

export interface WorkerProcess {
  readonly config: Config;
  readonly database: Database;
  readonly worker: Worker;
  /** Stops the worker (graceful) and closes the database. */
  shutdown(graceMs?: number): Promise<void>;
}

/** 25 s: inside the usual 30 s between SIGTERM and SIGKILL of container runtimes. */
export const DEFAULT_GRACE_MS = 25_000;

/**
 * A worker in its own process: config → database → migrations → handlers → claim loop.
 * SIGTERM/SIGINT stop it gracefully and exit 0; a second signal exits at once with 1
 * (leases then expire and other workers reclaim the jobs).
 */
export async function runWorkerProcess(buildHandlers: (deps: WorkerProcessDeps) => JobHandlers, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const logger = options.logger ?? consoleLogger();
  const config = loadConfig(options.env);
  if (config.database.kind === 'pglite') {
    // Embedded PGlite is one process's database directory: a second process opening it next to
    // the web server would corrupt it. In the embedded default the web server runs the worker.
    throw new Error('a separate worker process needs PostgreSQL (set DATABASE_URL); with embedded PGlite the web server runs its worker in-process');
  }
  // Work directories of workers that died (kill -9, power loss): source + partial outputs, removed.
  const swept = await sweepStaleTemp(config.uploads.tmpDir);
  if (swept.length) logger.info('removed work files of stopped processes', { count: swept.length, names: swept.slice(0, 20) });
  const database = await openDatabase(config.database);
  await migrateToLatest(database.db);
  const queue = createJobQueue(database.db, {
    leaseMs: options.leaseMs ?? config.worker.leaseMs,
    backoff: options.backoff,
    infraRetryMs: config.worker.infraRetryHours * 3600_000,
  });
  const worker = createWorker({
    queue,
    handlers: buildHandlers({ config, db: database.db, queue, store: createObjectStore(config.storage), logger: createLogger() }),
    concurrency: config.worker.concurrency,
    pollMs: options.pollMs,
    workerId: options.workerId,
    logger,
  });

  // Stay alive until told to stop, even with an empty registry or between polls.
  const keepAlive = setInterval(() => undefined, 60_000);
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (graceMs = options.graceMs ?? config.shutdownGraceMs ?? DEFAULT_GRACE_MS) =>
    (shuttingDown ??= (async () => {
      await worker.stop({ graceMs });
      clearInterval(keepAlive);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await database.close();
    })());

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    logger.info('signal received: stopping gracefully', { signal });
    shutdown().then(
      () => {
        if (options.exitOnStop ?? true) process.exit(0);
      },
      (err: unknown) => {
        logger.error('graceful stop failed', { err: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  worker.start();
  return { config, database, worker, shutdown };
}
