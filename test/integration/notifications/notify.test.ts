import { notify } from '../../../src/notifications/notify';
import { countUnread, listForUser, markRead } from '../../../src/notifications/notification.repository';
import { createTestApp, type TestApp } from '../../support/app';

describe('notify(): the in-app message centre every component writes to', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const db = () => t.container.db;

  it('when a school is told something, then each of its active accounts gets it once and another school hears nothing', async () => {
    const school = await t.createSchool({ countyId: 'c-lishi' });
    const other = await t.createSchool({ countyId: 'c-lishi' });
    const a = await t.createUser('school', { schoolId: school.id });
    const b = await t.createUser('school', { schoolId: school.id });
    const stranger = await t.createUser('school', { schoolId: other.id });
    const event = { kind: 'entry.returned', recipients: { schoolId: school.id }, title: '作品被退回', link: '/entries/x', dedupeKey: 'returned:x:1' };

    expect(await notify(db(), event)).toBe(2);
    expect(await notify(db(), event)).toBe(0); // a retried cause is not a second message

    for (const user of [a, b]) {
      const [message] = await listForUser(db(), user.id, { limit: 10 });
      expect(message).toMatchObject({ kind: 'entry.returned', title: '作品被退回', link: '/entries/x', read_at: null });
      expect(await countUnread(db(), user.id)).toBe(1);
    }
    expect(await countUnread(db(), stranger.id)).toBe(0);
  });

  it('when the change that caused a message rolls back, then nobody has the message', async () => {
    const admin = await t.createUser('admin');
    await expect(
      db()
        .transaction()
        .execute(async (trx) => {
          await notify(trx, { kind: 'round.opened', recipients: { userIds: [admin.id] }, title: '评审轮次已开始' });
          throw new Error('the change failed');
        }),
    ).rejects.toThrow('the change failed');
    expect(await countUnread(db(), admin.id)).toBe(0);
  });

  it('when messages are marked read, then only that person’s unread count drops, and city roles are reached by role', async () => {
    const tv = await t.createUser('tv');
    const tv2 = await t.createUser('tv');
    await notify(db(), { kind: 'master.ready', recipients: { roles: ['tv'] }, title: '播出母版已生成' });
    await notify(db(), { kind: 'master.ready', recipients: { roles: ['tv'] }, title: '又一个播出母版已生成' });
    expect(await countUnread(db(), tv.id)).toBeGreaterThanOrEqual(2);

    const [newest] = await listForUser(db(), tv.id, { limit: 1 });
    expect(await markRead(db(), tv.id, [newest.id])).toBe(1);
    const before = await countUnread(db(), tv2.id);
    await markRead(db(), tv.id, null);
    expect(await countUnread(db(), tv.id)).toBe(0);
    expect(await countUnread(db(), tv2.id)).toBe(before);
  });
});
