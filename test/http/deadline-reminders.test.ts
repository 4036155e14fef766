import request from 'supertest';
import { createDeadlineRemindJob, DEADLINE_REMIND_JOB, remindDeadlines, scheduleDeadlineReminder } from '../../src/entries/deadline.job';
import { formatDateTime } from '../../src/platform/format';
import { createLogger } from '../../src/platform/logger';
import { createTestApp, type TestApp } from '../support/app';
import { createEntry, schoolWithToken } from '../support/factories';

/**
 * Reminders before the deadlines (消息): a school with entries it has not submitted hears of the next
 * 学校提交截止, a county with entries it has not reviewed hears of its period's 县区报送截止 — once
 * per deadline, when it is three days or less away; a deadline moved is reminded again.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const DAY = 86_400_000;

let t: TestApp;
let periodId: string;
let campaignId: string;
const people: Record<string, { id: string; token: string }> = {};

const messages = async (who: string, kind: string): Promise<Json[]> =>
  ((await request(t.app).get('/api/v1/notifications').set('Authorization', `Bearer ${people[who].token}`).expect(200)).body.items as Json[]).filter(
    (m) => m.kind === kind,
  );

async function setDeadlines(submitBy: Date, forwardBy: Date) {
  const db = t.container.database.db;
  await db.updateTable('periods').set({ submit_by: submitBy, forward_by: forwardBy }).where('id', '=', periodId).execute();
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.container.database.db;
  const campaign = await db.selectFrom('campaigns').select('id').where('status', '=', 'open').executeTakeFirstOrThrow();
  campaignId = campaign.id;
  const periods = await db.selectFrom('periods').select('id').where('campaign_id', '=', campaignId).orderBy('sort').execute();
  periodId = periods[0].id;
  // Every other period far away: only this one's deadlines are near in the tests that move them.
  await db
    .updateTable('periods')
    .set({ submit_by: new Date(Date.now() + 60 * DAY), forward_by: new Date(Date.now() + 61 * DAY) })
    .where('campaign_id', '=', campaignId)
    .execute();
  await setDeadlines(new Date(Date.now() + 5 * DAY), new Date(Date.now() + 6 * DAY));

  // School A: two drafts. School B: one returned. School C: everything submitted. All in 离石区.
  const a = await schoolWithToken(t);
  const b = await schoolWithToken(t);
  const c = await schoolWithToken(t);
  await createEntry(t, a.token, { title: '草稿一' });
  await createEntry(t, a.token, { title: '草稿二' });
  const returned = await createEntry(t, b.token, { title: '被退回的' });
  const submitted = await createEntry(t, c.token, { title: '已提交的' });
  await db.updateTable('entries').set({ status: 'returned' }).where('id', '=', returned.id).execute();
  await db.updateTable('entries').set({ status: 'submitted', period_id: periodId }).where('id', '=', submitted.id).execute();
  const county = await t.createUser('county', { countyId: 'c-lishi' });
  const otherCounty = await t.createUser('county', { countyId: 'c-xiaoyi' });
  for (const [name, u] of Object.entries({ a, b, c, county, otherCounty }))
    people[name] = { id: u.id, token: 'token' in u ? (u.token as string) : await t.token(u.username) };
});

afterAll(async () => {
  await t?.close();
});

test('when the deadlines are five days away, then nobody is reminded yet', async () => {
  expect(await remindDeadlines(t.container.db, new Date())).toEqual({ schools: 0, counties: 0, notified: 0 });
});

test('when the school deadline is two days away, then each school with unsubmitted entries hears how many and when, once', async () => {
  const submitBy = new Date(Date.now() + 2 * DAY);
  await setDeadlines(submitBy, new Date(Date.now() + 6 * DAY));
  const first = await remindDeadlines(t.container.db, new Date());
  expect(first).toMatchObject({ schools: 2, counties: 0 });
  expect(first.notified).toBeGreaterThanOrEqual(2);
  const [toA] = await messages('a', 'entries.submit_due');
  expect(toA).toMatchObject({ kindLabel: '提交截止提醒', title: `本校还有 2 件作品未提交，${formatDateTime(submitBy)} 截止`, link: '/entries?status=draft' });
  expect(toA.body).toContain('截止后不能再提交');
  expect((await messages('b', 'entries.submit_due')).map((m) => m.title)).toEqual([`本校还有 1 件作品未提交，${formatDateTime(submitBy)} 截止`]);
  expect(await messages('c', 'entries.submit_due')).toEqual([]);
  expect(await messages('county', 'entries.forward_due')).toEqual([]);

  // The job runs again (another hour, another process): nothing new.
  expect((await remindDeadlines(t.container.db, new Date())).notified).toBe(0);
  expect(await messages('a', 'entries.submit_due')).toHaveLength(1);
});

test('when the city moves the school deadline, then the schools are reminded of the new one', async () => {
  const later = new Date(Date.now() + 2.5 * DAY);
  await setDeadlines(later, new Date(Date.now() + 6 * DAY));
  await remindDeadlines(t.container.db, new Date());
  expect((await messages('a', 'entries.submit_due')).map((m) => m.title)).toEqual([
    `本校还有 2 件作品未提交，${formatDateTime(later)} 截止`,
    expect.stringContaining('本校还有 2 件作品未提交'),
  ]);
});

test('when the county deadline is a day away, then a county with entries to review hears how many, and another county nothing', async () => {
  const forwardBy = new Date(Date.now() + 1 * DAY);
  await setDeadlines(new Date(Date.now() + 0.5 * DAY), forwardBy);
  // Through the job handler, as the worker runs it.
  const handler = createDeadlineRemindJob({ db: t.container.db, logger: createLogger('silent') });
  await handler.run({ id: 1, type: DEADLINE_REMIND_JOB, payload: { day: '2026-12-06' }, attempt: 1, maxAttempts: 3, leaseToken: 'x' }, {} as never);
  expect((await messages('county', 'entries.forward_due')).map((m) => [m.title, m.link])).toEqual([
    [`还有 1 件作品待审核，${formatDateTime(forwardBy)} 截止报送市教育局`, '/review'],
  ]);
  expect(await messages('otherCounty', 'entries.forward_due')).toEqual([]);
  expect(await messages('c', 'entries.forward_due')).toEqual([]);
});

test('when the web process schedules the run every hour, then one job per Beijing day is queued, for 09:00', async () => {
  const db = t.container.db;
  const first = await scheduleDeadlineReminder(t.container.queue, db, new Date('2031-03-02T00:30:00Z')); // 08:30 Beijing
  const again = await scheduleDeadlineReminder(t.container.queue, db, new Date('2031-03-02T01:30:00Z'));
  const late = await scheduleDeadlineReminder(t.container.queue, db, new Date('2031-03-03T05:00:00Z')); // the next day, 13:00
  expect(first.created).toBe(true);
  expect(again).toEqual({ id: first.id, created: false });
  const jobs = await db.selectFrom('jobs').select(['id', 'type', 'run_at']).where('id', 'in', [first.id, late.id]).orderBy('id').execute();
  expect(jobs.map((j) => [j.type, new Date(j.run_at).toISOString()])).toEqual([
    [DEADLINE_REMIND_JOB, '2031-03-02T01:00:00.000Z'],
    [DEADLINE_REMIND_JOB, '2031-03-03T05:00:00.000Z'],
  ]);
});

test('when no campaign is open for submissions, then nobody is reminded', async () => {
  const db = t.container.database.db;
  await db.updateTable('campaigns').set({ status: 'running' }).where('id', '=', campaignId).execute();
  await setDeadlines(new Date(Date.now() + 1.5 * DAY), new Date(Date.now() + 2 * DAY));
  expect(await remindDeadlines(t.container.db, new Date())).toEqual({ schools: 0, counties: 0, notified: 0 });
});
