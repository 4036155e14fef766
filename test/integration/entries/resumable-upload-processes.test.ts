import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../../src/app';
import { createContainer, type Container } from '../../../src/container';
import { openDatabase } from '../../../src/platform/db/database';
import { createLogger } from '../../../src/platform/logger';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip } from '../../support/clips';
import { createEntry, currentVideo, drainQueue, listen, schoolWithToken, sleep, storedOriginal, type SchoolAccount } from '../../support/entries';
import { rawPatch, sha256, tusCreate, tusHead, tusOffset, tusPatch } from '../../support/tus';

/**
 * Several web processes behind a load balancer serve the same resumable upload: both see the
 * same TUS_DIR (a shared volume) and the same database. Each "process" here is a container and
 * app of its own — its own tus server and locker, and on PostgreSQL its own connection pool — in
 * the test's process; nothing is shared between them but the database and the directory.
 */
jest.setTimeout(120_000);

describe('resumable uploads served by two web processes', () => {
  let t: TestApp;
  let other: Container;
  let appB: TestApp['app'];
  let clips: string;
  let school: SchoolAccount;

  beforeAll(async () => {
    clips = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-tus2-'));
    t = await createTestApp({ env: { MAX_VIDEO_BYTES: String(64 * 1024 ** 2), SCHOOL_UPLOAD_CAP_BYTES: String(100 * 1024 ** 2) } });
    // PostgreSQL: a second pool, as a second process has. PGlite is one process's database by nature.
    const database = t.testDb.config.kind === 'postgres' ? await openDatabase(t.testDb.config) : t.testDb.database;
    other = await createContainer(t.config, { database, logger: createLogger('silent') });
    appB = buildApp(other);
    school = await schoolWithToken(t);
  });
  afterAll(async () => {
    if (t?.testDb.config.kind === 'postgres') await other?.database.close();
    await t?.close();
    fs.rmSync(clips, { recursive: true, force: true });
  });

  test('when the same bytes range arrives at both processes at once, then one writes and the other gets 409: the file is never a mix', async () => {
    const size = 8 * 1024 ** 2;
    const fromA = Buffer.alloc(size, 0xaa);
    const fromB = Buffer.alloc(size, 0xbb);
    const entry = await createEntry(t, school.token);
    // one byte longer than sent: the upload stays unfinished, so its bytes can be read back
    const location = (await tusCreate(t.app, school.token, entry.id, size + 1).expect(201)).headers.location as string;
    const [a, b] = await Promise.all([listen(t), listen({ app: appB })]);
    try {
      const piece = 256 * 1024;
      const trickle = async (baseUrl: string, bytes: Buffer) => {
        const p = rawPatch(baseUrl, school.token, location, 0, bytes.length);
        for (let at = 0; at < bytes.length; at += piece) {
          if (!(await p.write(bytes.subarray(at, at + piece)))) break;
          await sleep(10);
        }
        return p.done;
      };
      const statuses = await Promise.all([trickle(a.baseUrl, fromA), trickle(b.baseUrl, fromB)]);
      // one request wrote; the other found the offset moved once it got the lock (or was stopped by it)
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s !== 204).every((s) => s === 409 || s === 0)).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const stored = fs.readFileSync(path.join(t.config.uploads.tusDir, location.split('/').pop()!));
    expect(stored.length).toBe(size);
    expect([sha256(fromA), sha256(fromB)]).toContain(sha256(stored));
    expect(await tusOffset(appB, school.token, location)).toBe(size);
    // no lock is left behind
    expect(await t.container.db.selectFrom('upload_locks').selectAll().execute()).toEqual([]);
  });

  test("when both processes start an upload for the same school at once, then the school's cap still holds", async () => {
    const capped = await schoolWithToken(t);
    const entry = await createEntry(t, capped.token);
    const size = 60 * 1024 ** 2; // two of these exceed the 100 MiB cap
    for (let round = 0; round < 3; round++) {
      const statuses = (await Promise.all([tusCreate(t.app, capped.token, entry.id, size), tusCreate(appB, capped.token, entry.id, size)])).map(
        (r) => r.status,
      );
      expect(statuses.sort()).toEqual(round === 0 ? [201, 413] : [413, 413]);
    }
    expect(await t.container.resumableUploads.reservedBytes(capped.schoolId)).toBe(size);
  });

  test('when a PATCH stalls on one process and the teacher resumes on the other, then the stalled one is stopped and the upload completes byte-identical', async () => {
    const clip = fs.readFileSync(await makeClip('landscape', clips));
    const entry = await createEntry(t, school.token);
    const location = (await tusCreate(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    const a = await listen(t);
    let stalled: ReturnType<typeof rawPatch> | undefined;
    try {
      // process A receives 40 % and then nothing more: a half-open connection that holds A's lock
      const sent = Math.floor(clip.length * 0.4);
      stalled = rawPatch(a.baseUrl, school.token, location, 0, clip.length);
      await stalled.write(clip.subarray(0, sent));
      const id = location.split('/').pop()!;
      const tusFile = path.join(t.config.uploads.tusDir, id);
      for (let i = 0; i < 100 && (!fs.existsSync(tusFile) || fs.statSync(tusFile).size < sent); i++) await sleep(50);
      const held = await t.container.db.selectFrom('upload_locks').selectAll().where('upload_id', '=', id).executeTakeFirst();
      expect(held).toBeDefined();

      // the page reconnects through the load balancer and lands on B: HEAD waits for A to let go
      const started = Date.now();
      const offset = await tusOffset(appB, school.token, location);
      const waited = Date.now() - started;
      expect(offset).toBe(sent);
      expect(waited).toBeLessThan(30_000);
      // A's stalled request has been ended by the server, not left hanging
      expect(await Promise.race([stalled.done.then(() => 'ended'), sleep(5000).then(() => 'hanging')])).toBe('ended');

      const done = await tusPatch(appB, school.token, location, offset, clip.subarray(offset)).expect(204);
      expect(Number(done.headers['upload-offset'])).toBe(clip.length);
    } finally {
      stalled?.cut();
      await a.close();
    }
    await tusHead(t.app, school.token, location).expect(404);
    await drainQueue(t, { timeoutMs: 60_000 });
    expect((await currentVideo(t, entry.id))!.status).toBe('ready');
    expect(sha256(await storedOriginal(t, entry.id))).toBe(sha256(clip));
  });
});

describe('an upload whose lock another process keeps', () => {
  let t: TestApp;
  let school: SchoolAccount;

  beforeAll(async () => {
    // A short wait for the lock instead of the production 30 s.
    t = await createTestApp({ uploadLocks: { acquireTimeoutMs: 800 } });
    school = await schoolWithToken(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  test('when the holder never lets go, then the PATCH answers 503 in Chinese and writes nothing; once the lock is free the same PATCH succeeds', async () => {
    const bytes = Buffer.alloc(4096, 0x5a);
    const entry = await createEntry(t, school.token);
    const location = (await tusCreate(t.app, school.token, entry.id, bytes.length + 1).expect(201)).headers.location as string;
    const id = location.split('/').pop()!;
    // A holder in another process whose lease runs for an hour and who never answers release requests.
    await t.container.db
      .insertInto('upload_locks')
      .values({ upload_id: id, holder: 'another-process', expires_at: new Date(Date.now() + 3600_000) })
      .execute();

    const busy = await tusPatch(t.app, school.token, location, 0, bytes);
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.text).toContain('这个上传正由另一个连接写入，请稍后重试');
    // the waiter asked the holder to let go, and left its row alone
    expect(await t.container.db.selectFrom('upload_locks').select(['holder', 'release_requested']).where('upload_id', '=', id).execute()).toEqual([
      { holder: 'another-process', release_requested: true },
    ]);
    await t.container.db.deleteFrom('upload_locks').where('upload_id', '=', id).execute();
    expect(await tusOffset(t.app, school.token, location)).toBe(0);

    await tusPatch(t.app, school.token, location, 0, bytes).expect(204);
    expect(await tusOffset(t.app, school.token, location)).toBe(bytes.length);
  });
});
