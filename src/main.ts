import fs from 'node:fs';
import { buildApp } from './app';
import { loadConfig } from './config';
import { createContainer } from './container';
import { generatePassword } from './accounts/password';
import { outageOf } from './platform/outage';
import { removeOwnTemp, sweepStaleTemp } from './platform/temp-files';
import { drainOnShutdown } from './web/graceful';
import { scheduleDeadlineReminder } from './entries/deadline.job';
import { scheduleLearningReminder } from './learning/learning.job';

/** Entry: config → container → listen (+ the in-process worker in the embedded default). */
async function main(): Promise<void> {
  const config = loadConfig();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const container = await createContainer(config);
  const { logger } = container;
  // Belt and braces: a promise rejected by an outage that some code path forgot to await must not
  // end the process (every known path answers 503 or defers its job). Anything else still crashes.
  process.on('unhandledRejection', (reason) => {
    if (!outageOf(reason)) throw reason;
    logger.error('unhandled rejection during an outage; kept running', { err: String(reason) });
  });
  const swept = await sweepStaleTemp(config.uploads.tmpDir);
  if (swept.length) logger.info('removed work files of stopped processes', { count: swept.length, names: swept.slice(0, 20) });

  const password = config.adminPassword ?? generatePassword();
  if (await container.users.ensureFirstAdmin(password)) {
    if (config.adminPassword) logger.info('created the first admin account "admin" with ADMIN_PASSWORD');
    else
      console.log(
        `\n  首个管理员账号已创建 / first admin account created\n    用户名 username: admin\n    密码   password: ${password}\n  (shown once; change it after logging in)\n`,
      );
  }

  if (config.worker.inProcess) container.startWorker();
  const app = buildApp(container);
  const onListening = () => {
    logger.info('唱响 is listening', {
      url: `http://${config.host ?? 'localhost'}:${config.port}`,
      database: config.database.kind,
      storage: config.storage.kind,
    });
  };
  // HOST unset: every interface (Node's default), as before; e.g. HOST=127.0.0.1 behind a local proxy.
  const server = config.host ? app.listen(config.port, config.host, onListening) : app.listen(config.port, onListening);
  const drain = drainOnShutdown(server);
  // Slow senders: the headers must arrive within 60 s (docs/security.md 10), but a legitimate upload body
  // may take hours on a 1 Mbit/s uplink (2 GB ≈ 4.5 h), so there is no whole-request limit; a
  // connection that sends nothing at all for 10 minutes is dropped instead.
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  server.timeout = 10 * 60_000;

  const sweep = setInterval(() => {
    void Promise.all([container.sessions.sweep(), container.auth.sweep()]).catch((err) => logger.warn('sweep failed', { err }));
  }, 10 * 60_000);
  sweep.unref();
  // Unfinished resumable uploads older than UPLOAD_EXPIRY_HOURS: bytes and JSON removed.
  const tusSweep = setInterval(() => {
    container.resumableUploads
      .sweep()
      .then((n) => n > 0 && logger.info('expired resumable uploads removed', { count: n }))
      .catch((err) => logger.warn('resumable upload sweep failed', { err }));
  }, 15 * 60_000);
  tusSweep.unref();
  // Multipart uploads to S3 left incomplete by a process that died mid-upload (their parts cost
  // storage and are invisible in listings): aborted once a day old.
  const multipartSweep = setInterval(() => {
    container.store
      .abortIncompleteUploads?.(new Date(Date.now() - 24 * 3600_000))
      .then((n) => n > 0 && logger.info('stale multipart uploads aborted', { count: n }))
      .catch((err) => logger.warn('multipart upload sweep failed', { err: err instanceof Error ? err.message : String(err) }));
  }, 6 * 3600_000);
  multipartSweep.unref();
  // 人人会唱 and deadline reminders: one job each per Beijing day (its dedupeKey), run by whichever worker claims it.
  const scheduleReminder = () => {
    void scheduleLearningReminder(container.queue, container.db).catch((err) => logger.warn('scheduling the learning reminder failed', { err: String(err) }));
    void scheduleDeadlineReminder(container.queue, container.db).catch((err) => logger.warn('scheduling the deadline reminder failed', { err: String(err) }));
  };
  scheduleReminder();
  const reminderTimer = setInterval(scheduleReminder, 3600_000);
  reminderTimer.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down: draining requests in flight', { signal, graceMs: config.shutdownGraceMs });
    clearInterval(sweep);
    clearInterval(tusSweep);
    clearInterval(multipartSweep);
    clearInterval(reminderTimer);
    // Stop accepting; let requests in flight finish (a tus PATCH keeps what arrived even when cut at
    // the end of the grace period); then the worker, the database, our spool files; exit 0.
    const { cut } = await drain(config.shutdownGraceMs);
    await container.resumableUploads.drained(5_000);
    await container.close().catch((err) => logger.warn('closing the container failed', { err: err instanceof Error ? err.message : String(err) }));
    await removeOwnTemp(config.uploads.tmpDir);
    logger.info('stopped', { signal, cutRequests: cut });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
