import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { buildApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createContainer, type Container } from '../../src/container';
import type { Role } from '../../src/accounts/account.types';
import { toCurrentUser } from '../../src/accounts/user.repository';
import { createLogger } from '../../src/platform/logger';
import type { ObjectStore } from '../../src/platform/storage/object-store';
import type { UploadLockerOptions } from '../../src/entries/upload-locker';
import { createTestDatabase, type TestDatabase } from './db';

/**
 * The whole app on a fresh database (PostgreSQL when DATABASE_URL is set, else PGlite) and a
 * local object store in a temp dir. Factories create users with a known password.
 */
export const TEST_PASSWORD = 'test-password-1';

export interface TestApp {
  app: Express;
  container: Container;
  config: Config;
  dataDir: string;
  testDb: TestDatabase;
  /** An account with TEST_PASSWORD (the school/county is created when not given). */
  createUser(
    role: Role,
    opts?: { username?: string; countyId?: string | null; schoolId?: string; displayName?: string },
  ): Promise<{ id: string; username: string; schoolId: string | null; countyId: string | null }>;
  createSchool(opts?: { name?: string; countyId?: string | null }): Promise<{ id: string; name: string; countyId: string | null }>;
  /** A bearer token for the user. */
  token(username: string): Promise<string>;
  /** A logged-in browser-like agent plus its CSRF token. */
  browser(username: string): Promise<{ agent: ReturnType<typeof request.agent>; csrf: string }>;
  close(): Promise<void>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}${process.pid}x${Date.now().toString(36)}x${++counter}`;

export async function createTestApp(opts: { env?: Record<string, string>; store?: ObjectStore; uploadLocks?: UploadLockerOptions } = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-test-'));
  const testDb = await createTestDatabase();
  const config = loadConfig({ DATA_DIR: dataDir, SCRYPT_LOG_N: '14', IN_PROCESS_WORKER: 'false', ...opts.env });
  const container = await createContainer(config, {
    database: testDb.database,
    store: opts.store,
    logger: createLogger('silent'),
    uploadLocks: opts.uploadLocks,
  });
  const app = buildApp(container);
  const admin = container.users;
  await container.users.ensureFirstAdmin(TEST_PASSWORD);
  const adminRow = await container.database.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
  /** The seeded first admin ("admin" / TEST_PASSWORD) acts for the factories. */
  const system = toCurrentUser(adminRow);

  const t: TestApp = {
    app,
    container,
    config,
    dataDir,
    testDb,
    async createSchool(o = {}) {
      const countyId = o.countyId === undefined ? 'c-lishi' : o.countyId;
      const s = await container.schools.create(system, { name: o.name ?? unique('学校'), countyId });
      return { id: s.id, name: s.name, countyId: s.countyId };
    },
    async createUser(role, o = {}) {
      const username = o.username ?? unique(role);
      let schoolId = o.schoolId ?? null;
      let countyId = o.countyId ?? null;
      if (role === 'school' && !schoolId) schoolId = (await t.createSchool({ countyId: o.countyId === undefined ? 'c-lishi' : o.countyId })).id;
      if (role === 'county' && !countyId) countyId = 'c-lishi';
      const u = await admin.create(system, { username, password: TEST_PASSWORD, displayName: o.displayName ?? username, role, countyId, schoolId });
      // Test accounts stand for people who have already replaced their initial password (migration 0022).
      await container.database.db.updateTable('users').set({ must_change_password: false }).where('id', '=', u.id).execute();
      const school = u.schoolId
        ? await container.database.db.selectFrom('schools').select('county_id').where('id', '=', u.schoolId).executeTakeFirst()
        : undefined;
      return { id: u.id, username, schoolId: u.schoolId, countyId: u.countyId ?? school?.county_id ?? null };
    },
    async token(username) {
      const res = await request(app).post('/api/v1/auth/token').send({ username, password: TEST_PASSWORD }).expect(200);
      return res.body.token as string;
    },
    async browser(username) {
      const agent = request.agent(app);
      const page = await agent.get('/login').expect(200);
      const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
      await agent.post('/login').type('form').send({ _csrf: loginCsrf, username, password: TEST_PASSWORD, next: '/' }).expect(303);
      const home = await agent.get('/').expect(200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(home.text)![1];
      return { agent, csrf };
    },
    async close() {
      await container.close();
      await testDb.drop().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
