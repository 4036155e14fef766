import fs from 'node:fs';
import { buildApp } from './app';
import { loadConfig } from './config';
import { createContainer } from './container';
import { generatePassword } from './accounts/password';

/** Entry: config → container → listen (+ the in-process worker in the embedded default). */
async function main(): Promise<void> {
  const config = loadConfig();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const container = await createContainer(config);
  const { logger } = container;

  const password = config.adminPassword ?? generatePassword();
  if (await container.users.ensureFirstAdmin(password)) {
    if (config.adminPassword) logger.info('created the first admin account "admin" with ADMIN_PASSWORD');
    else console.log(`\n  首个管理员账号已创建 / first admin account created\n    用户名 username: admin\n    密码   password: ${password}\n  (shown once; change it after logging in)\n`);
  }

  if (config.worker.inProcess) container.startWorker();
  const app = buildApp(container);
  const server = app.listen(config.port, () => {
    logger.info('唱响 is listening', { url: `http://localhost:${config.port}`, database: config.database.kind, storage: config.storage.kind });
  });
  // Slow senders: the headers must arrive within 60 s (SECURITY 10), but a legitimate upload body
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

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal });
    clearInterval(sweep);
    clearInterval(tusSweep);
    server.close();
    await container.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
