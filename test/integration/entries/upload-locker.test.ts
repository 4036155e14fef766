import { sql } from 'kysely';
import { createUploadLocker, LOCK_TIMEOUT } from '../../../src/entries/upload-locker';
import { createLogger } from '../../../src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { sleep } from '../../support/entries';

/**
 * The tus locker's lease rows (upload_locks) on a real database: one holder at a time, a waiter
 * asks the holder to let go, a dead holder's lease is taken over, a waiter gives up in time.
 */
const ID = 'a'.repeat(32);
const never = new AbortController().signal;

describe('upload locker', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });
  afterEach(async () => {
    await t.database.db.deleteFrom('upload_locks').execute();
  });

  const locker = (opts: Parameters<typeof createUploadLocker>[2] = {}) => createUploadLocker(t.database.db, createLogger('silent'), opts);
  const rows = () => t.database.db.selectFrom('upload_locks').selectAll().execute();

  test('when a second request wants a held upload, then the holder is asked to release and the second gets it after unlock', async () => {
    const a = locker({ ttlMs: 400 }).newLock(ID);
    const b = locker({ ttlMs: 400 }).newLock(ID);
    let asked = 0;
    await a.lock(never, () => {
      asked++;
    });
    const order: string[] = [];
    const second = b.lock(never, () => undefined).then(() => order.push('b locked'));
    // the holder renews every ttl/4 and sees the request
    for (let i = 0; i < 40 && asked === 0; i++) await sleep(50);
    expect(asked).toBe(1);
    expect(order).toEqual([]);
    order.push('a unlocks');
    await a.unlock();
    await second;
    expect(order).toEqual(['a unlocks', 'b locked']);
    expect((await rows()).map((r) => r.release_requested)).toEqual([false]);
    await b.unlock();
    expect(await rows()).toEqual([]);
  });

  test('when the holder died (its lease expired), then the next request takes the upload over', async () => {
    await t.database.db
      .insertInto('upload_locks')
      .values({ upload_id: ID, holder: 'dead-process', expires_at: sql<Date>`now() - interval '1 second'` })
      .execute();
    const lock = locker().newLock(ID);
    const started = Date.now();
    await lock.lock(never, () => undefined);
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await rows())[0]!.holder).not.toBe('dead-process');
    await lock.unlock();
  });

  test('when the holder never lets go, then the waiter gives up with tus’s lock timeout, and leaves the row alone', async () => {
    const holder = locker().newLock(ID);
    await holder.lock(never, () => undefined); // ignores release requests
    const waiter = locker({ acquireTimeoutMs: 300 }).newLock(ID);
    await expect(waiter.lock(never, () => undefined)).rejects.toBe(LOCK_TIMEOUT);
    // the waiter's unlock (tus does not call it after a failed lock, but a stray one) removes nothing
    await waiter.unlock();
    expect(await rows()).toHaveLength(1);
    await holder.unlock();
  });

  test('when the waiting request is aborted, then lock() stops waiting at once', async () => {
    const holder = locker().newLock(ID);
    await holder.lock(never, () => undefined);
    const abort = new AbortController();
    const waiting = locker()
      .newLock(ID)
      .lock(abort.signal, () => undefined);
    await sleep(100);
    const started = Date.now();
    abort.abort();
    await expect(waiting).rejects.toBe(LOCK_TIMEOUT);
    expect(Date.now() - started).toBeLessThan(600);
    await holder.unlock();
  });

  test('when the sweep runs, then only expired leases are removed', async () => {
    await t.database.db
      .insertInto('upload_locks')
      .values([
        { upload_id: ID, holder: 'dead', expires_at: sql<Date>`now() - interval '1 minute'` },
        { upload_id: 'b'.repeat(32), holder: 'alive', expires_at: sql<Date>`now() + interval '1 minute'` },
      ])
      .execute();
    expect(await locker().sweep()).toBe(1);
    expect((await rows()).map((r) => r.holder)).toEqual(['alive']);
  });
});
