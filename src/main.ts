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
  server.headersTimeout = 60_000;

  const sweep = setInterval(() => {
    void Promise.all([container.sessions.sweep(), container.auth.sweep()]).catch((err) => logger.warn('sweep failed', { err }));
  }, 10 * 60_000);
  sweep.unref();

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal });
    clearInterval(sweep);
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
