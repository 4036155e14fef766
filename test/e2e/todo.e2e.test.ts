import crypto from 'node:crypto';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { remindJudgesBehind } from '../../src/judging/reminder.job';
import { browserSuite, describeBrowser, logIn, see } from '../support/browser';
import { attachReadyVideo, createEntry } from '../support/factories';

const SHOTS = process.env.TODO_SCREENSHOTS; // a folder: save each home at 1280 and 390 px to look at

/**
 * Each role's to-do home in chromium after the events that feed it: a school's returned entry
 * (with the reason), its draft without video and its warned video; the county's entries to review
 * and quota; the city's forwarded entries and open round; the judge's entries to score and the
 * reminder; the TV desk's ready master. And the message centre: badge, list, open, read.
 */
describeBrowser('to-do homes and the message centre in a browser', () => {
  const suite = browserSuite({ timeoutMs: 120_000 });

  const api = (token: string) => ({
    post: (url: string, body: object = {}) => request(suite.t.app).post(`/api/v1${url}`).set('Authorization', `Bearer ${token}`).send(body),
    get: (url: string) => request(suite.t.app).get(`/api/v1${url}`).set('Authorization', `Bearer ${token}`),
  });

  async function login(username: string, width = 1280): Promise<Page> {
    const context = await suite.browser.newContext({ locale: 'zh-CN', viewport: { width, height: width > 500 ? 900 : 844 } });
    const page = await context.newPage();
    await logIn(page, suite.baseUrl, username);
    return page;
  }
  const count = (page: Page, key: string) => page.locator(`.todo li[data-key="${key}"] .count`);

  /** The home at 390 px: nothing wider than the screen; screenshots when asked for. */
  async function checkNarrow(username: string, name: string, paths: string[] = ['/']) {
    const phone = await login(username, 390);
    for (const path of paths) {
      await phone.goto(`${suite.baseUrl}${path}`);
      const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect({ path, overflow: Math.max(0, overflow) }).toEqual({ path, overflow: 0 });
      if (SHOTS) await phone.screenshot({ path: `${SHOTS}/${name}${path.replace(/\//g, '-')}-390.png`, fullPage: true });
    }
    await phone.context().close();
  }

  test('when entries are returned, forwarded, judged and mastered, then each role’s home counts them and links there, and messages arrive once', async () => {
    const t = suite.t;
    const adminToken = await t.token('admin');
    const school = await t.createUser('school', { countyId: 'c-fangshan', displayName: '方山县实验小学' });
    const reviewer = await t.createUser('county', { countyId: 'c-fangshan' });
    const judge = await t.createUser('judge', { displayName: '王评委' });
    const tv = await t.createUser('tv');
    const schoolToken = await t.token(school.username);
    const countyToken = await t.token(reviewer.username);

    // The school: one returned (with reason), one forwarded, one draft without video, one draft with a warned video.
    const returned = await createEntry(t, schoolToken, { title: '退回的合唱' });
    const forwarded = await createEntry(t, schoolToken, { title: '报送的合唱' });
    await createEntry(t, schoolToken, { title: '没有视频的草稿' });
    const warned = await createEntry(t, schoolToken, { title: '有提醒的草稿' });
    await attachReadyVideo(t, returned.id);
    await attachReadyVideo(t, forwarded.id);
    await attachReadyVideo(t, warned.id, 'warn');
    await api(schoolToken).post(`/entries/${returned.id}/submit`).expect(200);
    await api(schoolToken).post(`/entries/${forwarded.id}/submit`).expect(200);

    // The county sees two to review, returns one with a reason and forwards the other.
    const countyHome = await login(reviewer.username);
    await see(count(countyHome, 'review.submitted')).toHaveText('2');
    await countyHome.goto(`${suite.baseUrl}/review`);
    await see(countyHome.locator('.tabs a.active')).toContainText('待审核2');
    await api(countyToken).post(`/entries/${returned.id}/return`, { reason: '开头两秒黑屏，请剪掉后重新上传' }).expect(200);
    await api(countyToken).post(`/entries/${forwarded.id}/forward`, {}).expect(200);
    await countyHome.goto(`${suite.baseUrl}/`);
    await see(count(countyHome, 'review.submitted')).toHaveText('0');
    await see(countyHome.locator('.todo li[data-key^="review.quota."] .label')).toContainText('已用 1 /');
    if (SHOTS) await countyHome.screenshot({ path: `${SHOTS}/county-1280.png`, fullPage: true });
    await checkNarrow(reviewer.username, 'county');

    // The school's home: returned with the reason, the draft without video, the warned video; two unread messages.
    const teacher = await login(school.username);
    await see(count(teacher, 'entries.returned')).toHaveText('1');
    await see(teacher.locator('.card', { hasText: '被退回的作品' })).toContainText('开头两秒黑屏，请剪掉后重新上传');
    await see(count(teacher, 'entries.no_video')).toHaveText('1');
    await see(count(teacher, 'entries.video_warn')).toHaveText('1');
    await see(teacher.locator('.nav a[href="/notifications"] .nav-badge')).toContainText('2');
    if (SHOTS) await teacher.screenshot({ path: `${SHOTS}/school-1280.png`, fullPage: true });
    await checkNarrow(school.username, 'school', ['/', '/notifications']);

    // The message centre: both messages; opening the returned one goes to the entry and reads it.
    await teacher.getByRole('link', { name: /消息/ }).first().click();
    await see(teacher.locator('.message.unread', { hasText: '被退回' })).toContainText('《退回的合唱》被退回，请修改后重新提交');
    await see(teacher.locator('.messages')).toContainText('《报送的合唱》已报送市教育局');
    await teacher.locator('.message', { hasText: '《退回的合唱》被退回' }).getByRole('button', { name: '查看并处理' }).click();
    await teacher.waitForURL(`${suite.baseUrl}/entries/${returned.id}`);
    await see(teacher.locator('.nav a[href="/notifications"] .nav-badge')).toContainText('1');
    await teacher.goto(`${suite.baseUrl}/notifications`);
    await teacher.getByRole('button', { name: '全部标为已读' }).click();
    expect(await teacher.locator('.nav a[href="/notifications"] .nav-badge').count()).toBe(0);
    if (SHOTS) await teacher.screenshot({ path: `${SHOTS}/messages-1280.png`, fullPage: true });

    // The city: one forwarded entry to put in a round; it opens a round with the judge.
    const city = await login('admin');
    await see(count(city, 'review.forwarded')).toHaveText('1');
    const closesAt = new Date(Date.now() + 3 * 24 * 3600_000).toISOString();
    const round = (await api(adminToken).post('/rounds', { name: '初评', judgesPerEntry: 1, blind: true, aggregation: 'mean', closesAt }).expect(201)).body;
    await api(adminToken)
      .post(`/rounds/${round.id}/entries`, { entryIds: [forwarded.id] })
      .expect(200);
    await api(adminToken)
      .post(`/rounds/${round.id}/judges`, { userIds: [judge.id] })
      .expect(200);
    await api(adminToken).post(`/rounds/${round.id}/assign`).expect(200);
    await api(adminToken).post(`/rounds/${round.id}/open`).expect(200);
    const reminder = await t.container.db.selectFrom('jobs').select('run_at').where('type', '=', 'judging.round-reminder').executeTakeFirstOrThrow();
    expect(reminder.run_at.getTime()).toBe(new Date(closesAt).getTime() - 24 * 3600_000); // scheduled a day before it closes
    await city.reload();
    await see(count(city, 'judging.judges_behind')).toHaveText('1');
    if (SHOTS) await city.screenshot({ path: `${SHOTS}/admin-1280.png`, fullPage: true });
    const adminRow = await t.container.db.selectFrom('users').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow();
    await t.container.notifications.addRobot(
      { id: adminRow.id, username: 'admin', displayName: 'admin', role: 'admin', countyId: null, schoolId: null },
      {
        name: '方山县教育局工作群',
        kind: 'dingtalk',
        countyId: 'c-fangshan',
        url: 'https://oapi.dingtalk.com/robot/send?access_token=abcdef',
        secret: 'SEC123',
        enabled: true,
      },
    );
    await checkNarrow('admin', 'admin', ['/', '/notifications', '/notifications/robots', '/notifications/settings', '/review']);

    // The judge: one to score, the round's closing time, the opening message and (once) the reminder.
    expect(await remindJudgesBehind(t.container.db, { roundId: round.id, closesAt })).toBe(1);
    expect(await remindJudgesBehind(t.container.db, { roundId: round.id, closesAt })).toBe(0);
    const judgePage = await login(judge.username);
    await see(count(judgePage, 'judging.pending')).toHaveText('1');
    await see(judgePage.locator('.todo li[data-key="judging.pending"] .due')).toContainText('还剩 2 天');
    const judgeMessages = (
      await api(await t.token(judge.username))
        .get('/notifications')
        .expect(200)
    ).body;
    expect(judgeMessages.items.map((m: { title: string }) => m.title)).toEqual([
      '评审「初评」即将截止：您还有 1 件未提交',
      '评审「初评」已开始：您有 1 件作品待评',
    ]);
    const todo = (
      await api(await t.token(judge.username))
        .get('/todo')
        .expect(200)
    ).body;
    expect(todo.items.find((i: { key: string }) => i.key === 'judging.pending')).toMatchObject({ count: 1, href: '/judging', due: closesAt });
    await checkNarrow(judge.username, 'judge');

    // The TV desk: a master ready and not yet aired.
    const db = t.container.db;
    await db.updateTable('entries').set({ status: 'broadcast_selected', award: 'first' }).where('id', '=', forwarded.id).execute();
    const video = await db.selectFrom('entries').select('video_id').where('id', '=', forwarded.id).executeTakeFirstOrThrow();
    await db
      .insertInto('masters')
      .values({
        id: crypto.randomUUID(),
        entry_id: forwarded.id,
        video_id: video.video_id!,
        profile: 'h264-1080p25',
        pillarbox: 'black',
        status: 'ready',
        ready_at: new Date(),
      })
      .execute();
    const desk = await login(tv.username);
    await see(count(desk, 'broadcast.ready')).toHaveText('1');
    await desk.locator('.todo li[data-key="broadcast.ready"] a').click();
    await desk.waitForURL(`${suite.baseUrl}/broadcast`);
    await checkNarrow(tv.username, 'tv');
  }, 180_000);
});
