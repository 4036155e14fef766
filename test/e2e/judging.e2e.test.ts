import type { Page } from 'playwright-core';
import request from 'supertest';
import type { TestApp } from '../support/app';
import { browserSuite, describeBrowser, logIn, see, confirmDialog, clickMenu } from '../support/browser';
import { attachReadyVideo, createEntry } from '../support/factories';

/**
 * In a real chromium, a blind round with 5 judges end to end: the city creates the round
 * (trimmed mean, default rubric, 3 judges per entry), adds the period's forwarded entries, picks
 * the panel (two judges with a county, so conflicts are in play), assigns automatically and opens
 * it; two judges score in the browser with 提交并评下一件 (the other three through the API); the
 * city closes the round, reads the ranking, shortlists the top 3, awards 一/二/三等奖 through the
 * preview, publishes; the public 公示 page, logged out, lists the awards without scores. The
 * judge's pages never carry the school, county or director names.
 */
const PHONE = { width: 390, height: 844 };
const COUNTIES = [
  { id: 'c-lishi', name: '离石区' },
  { id: 'c-xiaoyi', name: '孝义市' },
  { id: 'c-fenyang', name: '汾阳市' },
  { id: 'c-wenshui', name: '文水县' },
  { id: 'c-jiaocheng', name: '交城县' },
  { id: 'c-liulin', name: '柳林县' },
];
/** Per entry, a clear total so the ranking is known: entry 0 best. */
const TOTALS = [92, 86, 80, 74, 68, 62];

function scoresFor(total: number, jitter: number) {
  const t = total + jitter;
  const singing = Math.round(t * 0.5 * 10) / 10;
  const artistry = Math.round(t * 0.25 * 10) / 10;
  const spirit = Math.round(t * 0.15 * 10) / 10;
  const costume = Math.round((t - singing - artistry - spirit) * 10) / 10;
  return { singing, artistry, spirit, costume };
}

const widths = (page: Page) =>
  page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');

describeBrowser('judging in a browser', () => {
  const suite = browserSuite({ timeoutMs: 120_000 });

  async function login(username: string, viewport?: { width: number; height: number }): Promise<Page> {
    const context = await suite.browser.newContext({ locale: 'zh-CN', ...(viewport && { viewport, isMobile: true, hasTouch: true }) });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await logIn(page, suite.baseUrl, username);
    return page;
  }

  /** Scores every assignment in the judge's queue with 提交并评下一件, as a judge on a phone would. */
  async function scoreAllInBrowser(page: Page, labelToTotal: Map<string, number>, secret: string[], jitter: number): Promise<number> {
    await clickMenu(page, '我的评审');
    await see(page.locator('.reminder')).toContainText('件作品未评分');
    await page.locator('table.queue a.button').first().click();
    let scored = 0;
    for (;;) {
      await page.waitForURL(/\/judging\/[^/?]+(\?.*)?$/);
      const html = await page.content();
      for (const s of secret) expect({ leaked: s, found: html.includes(s) }).toEqual({ leaked: s, found: false });
      const code = (await page.locator('.page-head h1 code').innerText()).trim();
      const total = labelToTotal.get(code)!;
      expect(total).toBeDefined();
      expect(await page.locator('video.player').getAttribute('src')).toMatch(/^\/api\/v1\/judging\/assignments\/[^/]+\/preview$/);
      if (scored === 0) {
        const w = await widths(page);
        expect(w.scrollWidth).toBeLessThanOrEqual(w.innerWidth);
        await page.screenshot({ path: `/tmp/changxiang-score-${w.innerWidth}.png`, fullPage: true });
      }
      const s = scoresFor(total, jitter);
      await page.getByLabel('演唱水平（0–50 分）').fill(String(s.singing));
      await page.getByLabel('艺术表现（0–25 分）').fill(String(s.artistry));
      await page.getByLabel('精神面貌（0–15 分）').fill(String(s.spirit));
      await page.getByLabel('服装形象（0–10 分）').fill(String(s.costume));
      await see(page.locator('#score-total')).toHaveText(String(Math.round((s.singing + s.artistry + s.spirit + s.costume) * 10) / 10));
      const before = page.url();
      await Promise.all([page.waitForURL((u) => u.toString() !== before), page.getByRole('button', { name: '提交并评下一件' }).click()]);
      scored++;
      if (new URL(page.url()).pathname === '/judging') break;
      await see(page.locator('.flash')).toContainText('这是下一件');
    }
    await see(page.locator('.flash')).toContainText('已全部评完');
    return scored;
  }

  test('when the city runs a blind round with 5 judges, then judges score blind, the city ranks, shortlists and awards, and 公示 lists the awards without scores', async () => {
    const started = Date.now();
    const db = suite.t.container.database.db;
    const periodId = (await suite.t.container.campaign.get()).periods[0].id;

    // Six forwarded entries from six counties, with distinctive school and director names.
    const schoolNames = COUNTIES.map((c, i) => `青松岭${c.name.slice(0, 2)}第${i + 1}实验学校`);
    const directors = COUNTIES.map((_c, i) => `指导者鹤${i + 1}号`);
    const codeToTotal = new Map<string, number>();
    const entries: Array<{ id: string; code: string; title: string; school: string }> = [];
    for (let i = 0; i < COUNTIES.length; i++) {
      const school = await suite.t.createSchool({ name: schoolNames[i], countyId: COUNTIES[i].id });
      const user = await suite.t.createUser('school', { schoolId: school.id });
      const token = await suite.t.token(user.username);
      const entry = await createEntry(suite.t, token, { title: `第${i + 1}号合唱作品`, directorName: directors[i] });
      await attachReadyVideo(suite.t, entry.id);
      // Submitted and forwarded by the county (their own flows have their own tests).
      await db
        .updateTable('entries')
        .set({ status: 'forwarded', period_id: periodId, submitted_at: new Date(), forwarded_at: new Date(), forward_rank: 1 })
        .where('id', '=', entry.id)
        .execute();
      codeToTotal.set(entry.code, TOTALS[i]);
      entries.push({ id: entry.id, code: entry.code, title: `第${i + 1}号合唱作品`, school: schoolNames[i] });
    }
    const judgeNames = ['评委甲', '评委乙', '评委丙', '评委丁', '评委戊'];
    const judges: Array<Awaited<ReturnType<TestApp['createUser']>>> = [];
    for (let i = 0; i < 5; i++) {
      judges.push(await suite.t.createUser('judge', { displayName: judgeNames[i], countyId: i === 0 ? 'c-lishi' : i === 1 ? 'c-xiaoyi' : null }));
    }

    // The city creates the round.
    const admin = await login('admin');
    await clickMenu(admin, '评审轮次');
    await admin.getByLabel('轮次名称').fill('市级初评');
    await admin.getByLabel('参评作品').selectOption({ label: '第一期报送全部已报送作品' });
    await admin.getByLabel('每件作品评委人数').fill('3');
    expect(await admin.getByRole('checkbox', { name: /匿名评审/ }).isChecked()).toBe(true);
    await admin.getByLabel('计分方法').selectOption({ label: '去掉一个最高分和一个最低分后取平均' });
    expect(await admin.getByLabel('第 1 项名称').inputValue()).toBe('演唱水平');
    await see(admin.locator('#rubric-sum')).toHaveText('100');
    await admin.getByRole('button', { name: '新建轮次' }).click();
    await see(admin.locator('.flash')).toContainText('评审轮次已创建');
    await see(admin.locator('.page-head h1')).toContainText('草稿');
    const roundUrl = admin.url().split('?')[0];

    // Step 1: the period's forwarded entries.
    await admin.getByRole('button', { name: '添加作品' }).click();
    await see(admin.locator('.flash')).toContainText('作品已添加到本轮');
    await see(admin.locator('#round-summary')).toContainText('6 件');

    // Step 2: the panel; the judges' counties are shown for conflict awareness.
    await see(admin.locator('#step-judges')).toContainText('（离石区）');
    for (const name of judgeNames) await admin.getByRole('checkbox', { name: new RegExp(name) }).check();
    await admin.getByRole('button', { name: '保存评委名单' }).click();
    await see(admin.locator('.flash')).toContainText('评委名单已保存');

    // Opening before assignment is refused with the reason.
    await admin.getByRole('button', { name: '开始评审' }).click();
    await confirmDialog(admin);
    await see(admin.locator('.alert-error')).toContainText('评委不足 3 位');

    // Step 3: automatic assignment, balanced (18 = 4+4+4+3+3), no judge on their own county.
    await admin.goto(roundUrl);
    await admin.getByRole('button', { name: '自动分配' }).click();
    await see(admin.locator('.flash')).toContainText('已自动分配');
    await see(admin.locator('#round-summary')).toContainText('18 条，每位评委 3–4 件');
    expect(await admin.locator('#assignments tbody tr').count()).toBe(18);
    const pairs = await db.selectFrom('assignments as a').innerJoin('entries as e', 'e.id', 'a.entry_id').select(['a.judge_id', 'e.county_id']).execute();
    expect(
      pairs.filter((p) => (p.judge_id === judges[0].id && p.county_id === 'c-lishi') || (p.judge_id === judges[1].id && p.county_id === 'c-xiaoyi')),
    ).toEqual([]);

    // Step 4: open.
    await admin.getByRole('button', { name: '开始评审' }).click();
    await confirmDialog(admin);
    await see(admin.locator('.flash')).toContainText('评审已开始');
    await see(admin.locator('.page-head h1')).toContainText('评审中');

    // Blind: judges know each entry by the round's label (never its code); the admin's ranking maps them.
    const adminToken = await suite.t.token('admin');
    const labelled = (
      await request(suite.t.app)
        .get(`/api/v1/rounds/${roundUrl.split('/').pop()}/ranking`)
        .set('Authorization', `Bearer ${adminToken}`)
        .expect(200)
    ).body as Array<{ code: string; label: string }>;
    const labelToTotal = new Map(labelled.map((r) => [r.label, codeToTotal.get(r.code)!]));

    // Two judges score in the browser (one on a phone), blind.
    const secret = [...schoolNames, ...directors, ...COUNTIES.map((c) => c.name), ...entries.map((e) => e.code)];
    const judgeA = await login(judges[0].username, PHONE);
    const { scrollWidth, innerWidth } = await widths(judgeA);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    const scoredA = await scoreAllInBrowser(judgeA, labelToTotal, secret, 0);
    const judgeB = await login(judges[1].username);
    const scoredB = await scoreAllInBrowser(judgeB, labelToTotal, secret, -1);
    expect(scoredA + scoredB).toBeGreaterThanOrEqual(6);

    // The judge's queue now shows everything submitted and no reminder.
    await see(judgeA.locator('main')).toContainText(`已提交 ${scoredA} / ${scoredA}`);
    expect(await judgeA.locator('.reminder').count()).toBe(0);
    expect(await judgeA.content()).not.toContain(schoolNames[0]);

    // The other three through the API.
    for (const [n, judge] of judges.slice(2).entries()) {
      const token = await suite.t.token(judge.username);
      const queue = await request(suite.t.app).get('/api/v1/judging/assignments').set('Authorization', `Bearer ${token}`).expect(200);
      for (const a of queue.body as Array<{ id: string; entry: { code: string } }>) {
        await request(suite.t.app)
          .put(`/api/v1/judging/assignments/${a.id}`)
          .set('Authorization', `Bearer ${token}`)
          .send({ scores: scoresFor(labelToTotal.get(a.entry.code)!, n - 1), submit: true })
          .expect(200);
      }
    }

    // The city sees the progress, closes the round, and reads the ranking.
    await admin.goto(roundUrl);
    await see(admin.locator('#progress')).toContainText('评委甲');
    expect(await admin.locator('#progress .badge-bad').count()).toBe(0);
    await admin.getByRole('button', { name: '结束评审' }).click();
    await confirmDialog(admin);
    await see(admin.locator('.flash')).toContainText('评审已结束');
    await see(admin.locator('.page-head h1')).toContainText('已结束');
    const firstRow = admin.locator('#ranking tbody tr').first();
    await see(firstRow).toContainText(entries[0].code);
    await see(firstRow).toContainText(entries[0].school);
    expect((await firstRow.locator('td[data-label="得分"]').innerText()).trim()).toMatch(/^\d+\.\d\d$/);
    expect(await admin.locator('#ranking tbody tr').count()).toBe(6);

    // Shortlist the top 3.
    await admin.getByLabel('入围前几名').fill('3');
    await admin.getByRole('button', { name: '确定入围' }).click();
    await see(admin.locator('.flash')).toContainText('入围名单已确定');
    expect(await admin.locator('#ranking .badge-ok', { hasText: '入围' }).count()).toBe(3);

    // Awards: 1 一等奖, 1 二等奖, 1 三等奖 — preview first, then confirm.
    await admin.getByLabel('一等奖（件）').fill('1');
    await admin.getByLabel('二等奖（件）').fill('1');
    await admin.getByLabel('三等奖（件）').fill('1');
    await admin.getByLabel('优秀奖（件）').fill('0');
    await admin.getByRole('button', { name: '预览' }).click();
    await see(admin.locator('.page-head h1')).toContainText('奖项预览');
    await see(admin.locator('.award-group').nth(0)).toContainText('一等奖（1 件）');
    await see(admin.locator('.award-group').nth(0)).toContainText(entries[0].code);
    await see(admin.locator('.award-group').nth(1)).toContainText(entries[1].code);
    await see(admin.locator('.award-group').nth(2)).toContainText(entries[2].code);
    expect(await db.selectFrom('round_entries').select('award').where('award', 'is not', null).execute()).toEqual([]);
    await admin.getByRole('button', { name: '确认评定' }).click();
    await confirmDialog(admin);
    await see(admin.locator('.flash')).toContainText('奖项已评定');

    // 公示.
    await admin.getByRole('button', { name: '公示获奖名单' }).click();
    await confirmDialog(admin);
    await see(admin.locator('.flash')).toContainText('获奖名单已公示');
    await see(admin.locator('#publish')).toContainText('已公示');

    // The round page and the judge's score page fit a phone (screenshots for a person to look at).
    await admin.setViewportSize(PHONE);
    for (const path of [roundUrl, `${suite.baseUrl}/rounds`]) {
      await admin.goto(path);
      const w = await widths(admin);
      expect({ path, overflow: Math.max(0, w.scrollWidth - w.innerWidth) }).toEqual({ path, overflow: 0 });
    }
    await admin.goto(roundUrl);
    await admin.screenshot({ path: '/tmp/changxiang-round-phone.png', fullPage: true });

    // The public page, logged out: tiers with code, title, school, county — no scores.
    const anonymous = await (await suite.browser.newContext({ locale: 'zh-CN', viewport: PHONE, isMobile: true })).newPage();
    await anonymous.goto(`${suite.baseUrl}/`);
    await anonymous.waitForURL(/\/login/);
    await anonymous.getByRole('link', { name: '获奖名单公示' }).click();
    await see(anonymous.locator('h1')).toHaveText('获奖名单公示');
    const results = anonymous.locator('.results-round');
    await see(results).toContainText('市级初评');
    const headings = await results.locator('h3').allInnerTexts();
    // The prize tiers, then the list of frozen revisions (issue 18: the first 公示 is its first line).
    expect(headings).toEqual(['一等奖（1 件）', '二等奖（1 件）', '三等奖（1 件）', '修订记录']);
    await see(results.locator('.revisions')).toContainText('首次公示');
    for (const [i, e] of entries.slice(0, 3).entries()) {
      await see(results.locator('table').nth(i)).toContainText(e.code);
      await see(results.locator('table').nth(i)).toContainText(e.title);
      await see(results.locator('table').nth(i)).toContainText(e.school);
      await see(results.locator('table').nth(i)).toContainText(COUNTIES[i].name);
    }
    const publicText = await anonymous.locator('main').innerText();
    expect(publicText).not.toMatch(/\d+\.\d\d/);
    expect(publicText).not.toContain('得分');
    expect(publicText).not.toContain(entries[3].code);
    const pub = await widths(anonymous);
    expect(pub.scrollWidth).toBeLessThanOrEqual(pub.innerWidth);

    console.log(`judging journey in chromium: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  test('when a rubric does not add up to 100, then the form shows why and keeps what was typed; when scoring has closed, then the judge sees the form read-only', async () => {
    const { agent, csrf } = await suite.t.browser('admin');
    const bad = await agent
      .post('/rounds')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(csrf)}&name=${encodeURIComponent('复评')}&source=&judgesPerEntry=2&blind=on&aggregation=mean&opensAt=&closesAt=` +
          ['演唱水平', '50', '艺术表现', '25', '精神面貌', '15', '服装形象', '5'].reduce(
            (q, v, i) => `${q}&${i % 2 ? 'rubricMax' : 'rubricLabel'}=${encodeURIComponent(v)}`,
            '',
          ),
      )
      .expect(400);
    expect(bad.text).toContain('各项满分之和必须是 100，现在是 95');
    expect(bad.text).toContain('value="复评"');
    expect(bad.text).toMatch(/name="rubricMax" value="5"/);

    // A round whose closing time has passed while it is still open.
    const school = await suite.t.createSchool({ name: '截止测试学校', countyId: 'c-lanxian' });
    const token = await suite.t.token((await suite.t.createUser('school', { schoolId: school.id })).username);
    const entry = await createEntry(suite.t, token, { title: '截止测试作品' });
    await attachReadyVideo(suite.t, entry.id);
    await suite.t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', entry.id).execute();
    const judge = await suite.t.createUser('judge', { displayName: '评委己' });
    const admin = await suite.t.token('admin');
    const api = (path: string, body: unknown) =>
      request(suite.t.app)
        .post(`/api/v1${path}`)
        .set('Authorization', `Bearer ${admin}`)
        .send(body as object);
    const round = (await api('/rounds', { name: '截止测试', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body as { id: string };
    await api(`/rounds/${round.id}/entries`, { entryIds: [entry.id] }).expect(200);
    await api(`/rounds/${round.id}/judges`, { userIds: [judge.id] }).expect(200);
    await api(`/rounds/${round.id}/assign`, {}).expect(200);
    await api(`/rounds/${round.id}/open`, {}).expect(200);
    await suite.t.container.database.db
      .updateTable('rounds')
      .set({ closes_at: new Date(Date.now() - 60_000) })
      .where('id', '=', round.id)
      .execute();
    const assignment = await suite.t.container.database.db.selectFrom('assignments').select('id').where('round_id', '=', round.id).executeTakeFirstOrThrow();

    const j = await suite.t.browser(judge.username);
    const page = await j.agent.get(`/judging/${assignment.id}`).expect(200);
    expect(page.text).toContain('本轮评分已截止，当前只能查看，不能修改。');
    expect(page.text).toContain('<fieldset class="criteria" disabled>');
    expect(page.text).not.toContain('截止测试学校');
    expect(page.text).not.toContain('声明回避');
    const post = await j.agent.post(`/judging/${assignment.id}`).type('form').send({ _csrf: j.csrf, score_singing: '40', action: 'submit' }).expect(409);
    expect(post.text).toContain('本轮评审已结束，不能再修改评分。');
  }, 120_000);
});
