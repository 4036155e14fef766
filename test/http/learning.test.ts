import { sql } from 'kysely';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { downloadBinary, readXlsx } from '../support/xlsx';
import { todoItems } from '../../src/learning/learning.todo';
import { createLearningService, defaultDeadline } from '../../src/learning/learning.service';
import { toCurrentUser } from '../../src/accounts/user.repository';
import { createLearningRemindJob, LEARNING_REMIND_JOB, scheduleLearningReminder } from '../../src/learning/learning.job';
import { createLogger } from '../../src/platform/logger';

/** 人人会唱 (issue 20): reports, validation, history, scoping, coverage against the database, XLSX, reminders. */
describe('learning progress (人人会唱)', () => {
  let t: TestApp;
  let songs: Array<{ id: string; title: string }>;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const body = (teachers: number, classes: number, per: (i: number) => [number, number], note?: string) => ({
    teachers,
    classes,
    songs: songs.map((s, i) => ({ songId: s.id, teachersLearned: per(i)[0], classesSinging: per(i)[1] })),
    ...(note !== undefined && { note }),
  });
  const put = (who: string, schoolId: string, b: object) =>
    request(t.app).put(`/api/v1/schools/${schoolId}/learning`).set('Authorization', `Bearer ${tokens[who]}`).send(b);
  const get = (who: string, path: string) => request(t.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${tokens[who]}`);

  beforeAll(async () => {
    t = await createTestApp();
    const db = t.container.db;
    songs = await db.selectFrom('songs').select(['id', 'title']).where('designated', '=', true).orderBy('sort').execute();
    // 离石区: A (reports twice), B (reports at 100 %), C (never reports); 孝义市: D (reports); 市直: E (never).
    const a = await t.createSchool({ name: '离石区甲小学', countyId: 'c-lishi' });
    const b = await t.createSchool({ name: '离石区乙小学', countyId: 'c-lishi' });
    const c = await t.createSchool({ name: '离石区丙小学', countyId: 'c-lishi' });
    const d = await t.createSchool({ name: '孝义市丁中学', countyId: 'c-xiaoyi' });
    const e = await t.createSchool({ name: '市直戊中学', countyId: null });
    Object.assign(ids, { a: a.id, b: b.id, c: c.id, d: d.id, e: e.id });
    const users = {
      a: await t.createUser('school', { schoolId: a.id }),
      b: await t.createUser('school', { schoolId: b.id }),
      c: await t.createUser('school', { schoolId: c.id }),
      d: await t.createUser('school', { schoolId: d.id }),
      county: await t.createUser('county', { countyId: 'c-lishi' }),
      otherCounty: await t.createUser('county', { countyId: 'c-xiaoyi' }),
      judge: await t.createUser('judge'),
      tv: await t.createUser('tv'),
    };
    for (const [k, u] of Object.entries(users)) {
      tokens[k] = await t.token(u.username);
      ids[`user_${k}`] = u.id;
    }
    tokens.admin = await t.token('admin');
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  test('when a school reports twice, then GET answers the latest and both stay in the history', async () => {
    const first = await put(
      'a',
      ids.a,
      body(60, 24, () => [30, 10], '第一周'),
    ).expect(200);
    expect(first.body.latest).toMatchObject({ teachers: 60, classes: 24, note: '第一周' });
    const second = await put(
      'a',
      ids.a,
      body(60, 24, (i) => [58 - i, 20]),
    ).expect(200);
    expect(second.body.latest.songs[0]).toMatchObject({ songId: songs[0].id, teachersLearned: 58, classesSinging: 20, teacherShare: 96.7, classShare: 83.3 });

    const read = await get('a', `/schools/${ids.a}/learning`).expect(200);
    expect(read.body.historyTotal).toBe(2);
    expect(read.body.history.map((h: { teachers: number; note: string }) => h.note)).toEqual(['', '第一周']);
    expect(read.body.latest.songs.map((s: { teachersLearned: number }) => s.teachersLearned)).toEqual([58, 57, 56, 55, 54]);
    const rows = await t.container.db.selectFrom('learning_reports').select(['is_latest']).where('school_id', '=', ids.a).execute();
    expect(rows.filter((r) => r.is_latest)).toHaveLength(1);
    expect(rows).toHaveLength(2);
  });

  test('when the numbers do not add up, then 400 names each problem in Chinese and nothing is stored', async () => {
    const before = await t.container.db
      .selectFrom('learning_reports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const tooMany = await put(
      'b',
      ids.b,
      body(10, 5, (i) => (i === 1 ? [11, 6] : [5, 5])),
    ).expect(400);
    expect(tooMany.body.code).toBe('validation_failed');
    expect(tooMany.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'songs[1].teachersLearned', message: `《${songs[1].title}》会唱教师数（11）不能多于教师总数（10）` },
        { field: 'songs[1].classesSinging', message: `《${songs[1].title}》课前一歌班级数（6）不能多于班级总数（5）` },
      ]),
    );

    const fractional = await put('b', ids.b, { ...body(10, 5, () => [1, 1]), teachers: 10.5 }).expect(400);
    expect(fractional.body.errors).toContainEqual({ field: 'teachers', message: '教师总数必须是整数' });

    const missing = await put('b', ids.b, { teachers: 10, classes: 5, songs: [{ songId: songs[0].id, teachersLearned: 1, classesSinging: 1 }] }).expect(400);
    expect(missing.body.errors).toContainEqual({ field: 'songs', message: `请填写《${songs[4].title}》的学唱情况` });

    const negative = await put(
      'b',
      ids.b,
      body(10, 5, () => [-1, 0]),
    ).expect(400);
    expect(negative.body.errors[0].message).toBe('会唱教师数不能小于 0');

    const unknown = await put('b', ids.b, {
      ...body(10, 5, () => [1, 1]),
      songs: [...body(10, 5, () => [1, 1]).songs, { songId: 'nope', teachersLearned: 1, classesSinging: 1 }],
    }).expect(400);
    expect(unknown.body.errors).toContainEqual({ field: 'songs[5].songId', message: '不是本次活动的指定歌曲' });

    const after = await t.container.db
      .selectFrom('learning_reports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  test('when others touch a school, then only the school reports; its county reads; another county, judges and TV cannot', async () => {
    await put(
      'b',
      ids.b,
      body(40, 12, () => [40, 12]),
    ).expect(200);
    await put(
      'd',
      ids.d,
      body(30, 10, () => [15, 5]),
    ).expect(200);

    expect(
      (
        await put(
          'a',
          ids.b,
          body(1, 1, () => [1, 1]),
        )
      ).status,
    ).toBe(404);
    expect(
      (
        await put(
          'county',
          ids.b,
          body(1, 1, () => [1, 1]),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await put(
          'admin',
          ids.b,
          body(1, 1, () => [1, 1]),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await put(
          'judge',
          ids.b,
          body(1, 1, () => [1, 1]),
        )
      ).status,
    ).toBe(403);

    expect((await get('a', `/schools/${ids.b}/learning`)).status).toBe(404);
    expect((await get('county', `/schools/${ids.b}/learning`)).status).toBe(200);
    expect((await get('otherCounty', `/schools/${ids.b}/learning`)).status).toBe(404);
    expect((await get('admin', `/schools/${ids.b}/learning`)).status).toBe(200);
    expect((await get('judge', `/schools/${ids.b}/learning`)).status).toBe(403);
    expect((await get('tv', `/schools/${ids.b}/learning`)).status).toBe(403);
    expect((await get('a', '/stats/learning')).status).toBe(403);
    expect((await get('judge', '/stats/learning')).status).toBe(403);
    expect((await get('tv', '/exports/learning.xlsx')).status).toBe(403);
  });

  test('when the city reads coverage, then every figure equals a direct count and schools that never reported are null, not 0 %', async () => {
    const res = await get('admin', '/stats/learning?pageSize=200').expect(200);
    const s = res.body;
    // Direct from the database: the latest reports and their songs.
    const direct = await sql<{ county_id: string | null; song_id: string; tl: number; cs: number; teachers: number; classes: number }>`
      SELECT s.county_id, ls.song_id, sum(ls.teachers_learned)::int AS tl, sum(ls.classes_singing)::int AS cs,
             (SELECT sum(r2.teachers)::int FROM learning_reports r2 JOIN schools s2 ON s2.id = r2.school_id WHERE r2.is_latest AND s2.county_id IS NOT DISTINCT FROM s.county_id) AS teachers,
             (SELECT sum(r2.classes)::int FROM learning_reports r2 JOIN schools s2 ON s2.id = r2.school_id WHERE r2.is_latest AND s2.county_id IS NOT DISTINCT FROM s.county_id) AS classes
      FROM learning_reports r JOIN schools s ON s.id = r.school_id JOIN learning_report_songs ls ON ls.report_id = r.id
      WHERE r.is_latest GROUP BY s.county_id, ls.song_id`.execute(t.container.db);
    const schoolCount = await t.container.db
      .selectFrom('schools')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(s.totals.schools).toBe(Number(schoolCount.n));
    expect(s.totals.reported).toBe(3);
    expect(s.totals.notReported).toBe(Number(schoolCount.n) - 3);

    const lishi = s.counties.find((c: { countyId: string }) => c.countyId === 'c-lishi');
    expect(lishi).toMatchObject({ schools: 3, reported: 2, notReported: 1, teachers: 100, classes: 36 });
    for (const row of direct.rows.filter((r) => r.county_id === 'c-lishi')) {
      const song = lishi.songs.find((x: { songId: string }) => x.songId === row.song_id);
      expect(song.teachersLearned).toBe(row.tl);
      expect(song.classesSinging).toBe(row.cs);
      expect(song.teacherShare).toBe(Math.round((row.tl / row.teachers) * 1000) / 10);
      expect(song.classShare).toBe(Math.round((row.cs / row.classes) * 1000) / 10);
    }
    // 《党啊，亲爱的妈妈》 in 离石区: (58 + 40) / (60 + 40) teachers.
    expect(lishi.songs[0].teacherShare).toBe(98);
    const cityDirect = s.counties.find((c: { countyId: string | null }) => c.countyId === null);
    expect(cityDirect).toMatchObject({ schools: 1, reported: 0, notReported: 1 });
    expect(cityDirect.songs[0].teacherShare).toBeNull();

    const never = s.schools.items.find((x: { schoolId: string }) => x.schoolId === ids.c);
    expect(never).toMatchObject({ reported: false, teachers: null, reportedAt: null });
    expect(never.songs.every((x: { teacherShare: unknown; classShare: unknown }) => x.teacherShare === null && x.classShare === null)).toBe(true);
    const full = s.schools.items.find((x: { schoolId: string }) => x.schoolId === ids.b);
    expect(full.songs.every((x: { teacherShare: number }) => x.teacherShare === 100)).toBe(true);

    const onlyMissing = await get('admin', '/stats/learning?notReported=1&pageSize=200').expect(200);
    expect(onlyMissing.body.schools.items.map((x: { name: string }) => x.name).sort()).toEqual(['市直戊中学', '离石区丙小学'].sort());
  });

  test('when a county reads coverage, then it sees its own county and schools only', async () => {
    const res = await get('county', '/stats/learning?countyId=c-xiaoyi').expect(200);
    expect(res.body.scope.countyId).toBe('c-lishi');
    expect(res.body.counties.map((c: { countyId: string }) => c.countyId)).toEqual(['c-lishi']);
    expect(res.body.totals).toMatchObject({ schools: 3, reported: 2 });
    expect(res.body.schools.items.map((x: { countyId: string }) => x.countyId)).toEqual(['c-lishi', 'c-lishi', 'c-lishi']);
  });

  test('when reports were made on different days, then the trend has one point per day with the coverage as of that day', async () => {
    // The first report of school A moves three days back: that day only A had reported (30 of 60 teachers, every song).
    const first = await t.container.db
      .selectFrom('learning_reports')
      .select('id')
      .where('school_id', '=', ids.a)
      .where('is_latest', '=', false)
      .executeTakeFirstOrThrow();
    await t.container.db
      .updateTable('learning_reports')
      .set({ reported_at: new Date(Date.now() - 3 * 86_400_000) })
      .where('id', '=', first.id)
      .execute();
    const res = await get('admin', '/stats/learning').expect(200);
    const trend = res.body.trend;
    expect(trend).toHaveLength(2);
    expect(trend[0]).toMatchObject({ schools: 1, teacherShare: 50, classShare: Math.round((10 / 24) * 1000) / 10 });
    expect(trend[1].schools).toBe(3);
    const teachersLearned = res.body.totals.songs.reduce((a: number, x: { teachersLearned: number }) => a + x.teachersLearned, 0);
    expect(trend[1].teacherShare).toBe(Math.round((teachersLearned / (res.body.totals.teachers * songs.length)) * 1000) / 10);
  });

  test('when the city exports coverage, then the XLSX has one row per school, 未上报 for those that never reported, and the same shares', async () => {
    const res = await downloadBinary(get('admin', '/exports/learning.xlsx')).expect(200);
    expect(res.headers['content-disposition']).toContain('learning.xlsx');
    const rows = await readXlsx(res.body as Buffer);
    expect(rows[0].slice(0, 6)).toEqual(['县区', '学校', '上报状态', '最近上报时间', '教师总数', '班级总数']);
    expect(rows).toHaveLength(1 + 5);
    const c = rows.find((r) => r[1] === '离石区丙小学')!;
    expect(c[2]).toBe('未上报');
    expect(c[7]).toBeUndefined();
    const a = rows.find((r) => r[1] === '离石区甲小学')!;
    expect(a.slice(2, 10)).toEqual(['已上报', expect.any(String), 60, 24, 58, 96.7, 20, 83.3]);

    const county = await downloadBinary(get('county', '/exports/learning.xlsx')).expect(200);
    const countyRows = await readXlsx(county.body as Buffer);
    expect(countyRows.slice(1).map((r) => r[0])).toEqual(['离石区', '离石区', '离石区']);
  });

  test('when the deadline has passed, then a report is refused with 409 in Chinese; the city sets the deadline, 400 for a bad date', async () => {
    const bad = await request(t.app)
      .put('/api/v1/learning/deadline')
      .set('Authorization', `Bearer ${tokens.admin}`)
      .send({ deadline: '2027-02-30' })
      .expect(400);
    expect(bad.body.errors[0]).toEqual({ field: 'deadline', message: '上报截止日期格式应为 YYYY-MM-DD，例如 2027-06-30' });
    expect(
      (await request(t.app).put('/api/v1/learning/deadline').set('Authorization', `Bearer ${tokens.county}`).send({ deadline: '2027-06-30' })).status,
    ).toBe(403);

    await request(t.app).put('/api/v1/learning/deadline').set('Authorization', `Bearer ${tokens.admin}`).send({ deadline: '2020-06-30' }).expect(200);
    const late = await put(
      'c',
      ids.c,
      body(10, 5, () => [1, 1]),
    ).expect(409);
    expect(late.body.detail).toBe('学唱进度上报已于 2020-06-30 截止，如需补报请联系市教育局。');
    const dl = await get('c', '/learning/deadline').expect(200);
    expect(dl.body).toMatchObject({ deadline: '2020-06-30', isDefault: false });
    await request(t.app).put('/api/v1/learning/deadline').set('Authorization', `Bearer ${tokens.admin}`).send({ deadline: '2099-06-30' }).expect(200);
  });

  test('when nothing is set, then the deadline is 30 June of the campaign year', () => {
    expect(defaultDeadline(new Date('2026-03-01T00:00:00Z'))).toBe('2026-06-30');
    expect(defaultDeadline(new Date('2026-06-30T15:00:00Z'))).toBe('2026-06-30');
    expect(defaultDeadline(new Date('2026-06-30T16:30:00Z'))).toBe('2027-06-30'); // 1 July 00:30 Beijing
    expect(defaultDeadline(new Date('2026-12-05T00:00:00Z'))).toBe('2027-06-30');
  });

  test('when the deadline is near, then schools not reported or below 100 % are reminded once a day and see it on their to-do', async () => {
    const db = t.container.db;
    const learning = createLearningService(db);
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const inTenDays = new Date(Date.now() + 10 * 86_400_000 + 8 * 3600_000).toISOString().slice(0, 10);
    await learning.setDeadline(toCurrentUser(await db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow()), {
      deadline: '2099-06-30',
    });
    // Far from the deadline: nothing.
    expect(await learning.remind(new Date())).toEqual({ schools: 0, notified: 0 });
    await learning.setDeadline(toCurrentUser(await db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow()), {
      deadline: inTenDays,
    });
    const first = await learning.remind(new Date());
    // A (below 100 %), C (never reported), D (below), E (never, no account); B is at 100 %.
    expect(first.schools).toBe(4);
    expect(first.notified).toBe(3);
    const again = await learning.remind(new Date());
    expect(again.notified).toBe(0);
    const messages = await db
      .selectFrom('notifications')
      .select(['user_id', 'kind', 'title', 'link', 'dedupe_key'])
      .where('kind', 'like', 'learning.%')
      .execute();
    expect(messages.map((m) => [m.user_id, m.kind]).sort()).toEqual(
      [
        [ids.user_a, 'learning.below_full'],
        [ids.user_c, 'learning.not_reported'],
        [ids.user_d, 'learning.below_full'],
      ].sort(),
    );
    expect(messages.find((m) => m.user_id === ids.user_c)).toMatchObject({
      title: `请在 ${inTenDays} 前上报「人人会唱」学唱进度`,
      link: '/learning',
      dedupe_key: `learning.remind:${today}`,
    });
    // The next day: again.
    expect((await learning.remind(new Date(Date.now() + 86_400_000))).notified).toBe(3);

    const asUser = async (id: string) => toCurrentUser(await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    expect(await todoItems(db, await asUser(ids.user_c))).toEqual([expect.objectContaining({ key: 'learning.report', count: 1, href: '/learning' })]);
    expect(await todoItems(db, await asUser(ids.user_a))).toEqual([expect.objectContaining({ key: 'learning.below_full' })]);
    expect(await todoItems(db, await asUser(ids.user_b))).toEqual([]);
    expect(await todoItems(db, await asUser(ids.user_county))).toEqual([expect.objectContaining({ key: 'learning.not_reported', count: 1 })]);
    expect(await todoItems(db, await asUser(ids.user_judge))).toEqual([]);
    await learning.setDeadline(await asUser((await db.selectFrom('users').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow()).id), {
      deadline: '2099-06-30',
    });
  });

  test('when the web process schedules the reminder every hour, then one job per Beijing day is queued for 09:00 and its run notifies', async () => {
    const db = t.container.db;
    const morning = new Date('2031-06-20T00:30:00Z'); // 08:30 Beijing
    const first = await scheduleLearningReminder(t.container.queue, db, morning);
    const second = await scheduleLearningReminder(t.container.queue, db, new Date('2031-06-20T01:30:00Z'));
    expect(first.created).toBe(true);
    expect(second).toEqual({ id: first.id, created: false });
    const job = await db.selectFrom('jobs').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(job.type).toBe(LEARNING_REMIND_JOB);
    expect(new Date(job.run_at).toISOString()).toBe('2031-06-20T01:00:00.000Z');

    const admin = toCurrentUser(await db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow());
    const learning = createLearningService(db);
    await learning.setDeadline(admin, { deadline: new Date(Date.now() + 3 * 86_400_000 + 8 * 3600_000).toISOString().slice(0, 10) });
    await db.deleteFrom('notifications').where('kind', 'like', 'learning.%').execute();
    const handler = createLearningRemindJob({ db, logger: createLogger('silent') });
    await handler.run({ id: 1, type: LEARNING_REMIND_JOB, payload: { day: '2031-06-20' }, attempt: 1, maxAttempts: 3, leaseToken: 'x' }, {} as never);
    const sent = await db.selectFrom('notifications').select('user_id').where('kind', 'like', 'learning.%').execute();
    expect(sent).toHaveLength(3);
    await learning.setDeadline(admin, { deadline: '2099-06-30' });
  });
});
