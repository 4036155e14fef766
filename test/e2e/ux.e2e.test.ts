import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { BrowserContext, Page } from 'playwright-core';
import { browserSuite, clickMenu, confirmDialog, describeBrowser, logIn, see } from '../support/browser';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

/**
 * Issue 17 (part B) as a person on a phone would meet it: one-way actions ask first — in a dialog
 * with JavaScript, on a confirm page without; the menu folds; no page is wider than a 390 px
 * screen; and axe-core finds no serious or critical accessibility problem on any page of any role.
 */
const PHONE = { width: 390, height: 844 };
const SHOTS = process.env.UX_SHOTS_DIR ?? '';
const AXE_SOURCE = fs.readFileSync(path.join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

describeBrowser('confirmations, phones and accessibility', () => {
  const suite = browserSuite({ timeoutMs: 120_000 });
  const users: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const api = (token: string) => ({
    post: (url: string, body: object = {}) => request(suite.t.app).post(`/api/v1${url}`).set('Authorization', `Bearer ${token}`).send(body),
  });

  beforeAll(async () => {
    const t = suite.t;
    const db = t.container.database.db;
    const periodId = (await t.container.campaign.listPeriods())[0].id;
    const school = await schoolWithToken(t, 'c-lishi');
    const county = await t.createUser('county', { countyId: 'c-lishi', displayName: '离石区教育局审核员' });
    const judge = await t.createUser('judge', { countyId: null, displayName: '评委王老师' });
    const tv = await t.createUser('tv', { displayName: '电视台编辑' });
    const supervisor = await t.createUser('supervisor');
    const newmedia = await t.createUser('newmedia');
    Object.assign(users, {
      school: school.username,
      county: county.username,
      judge: judge.username,
      tv: tv.username,
      supervisor: supervisor.username,
      newmedia: newmedia.username,
      admin: 'admin',
    });
    const countyToken = await t.token(county.username);
    const adminToken = await t.token('admin');

    const make = async (title: string) => {
      const e = await createEntry(t, school.token, { title, level: 'junior' });
      await attachReadyVideo(t, e.id);
      return e.id;
    };
    ids.draft = await make('初二合唱《吕梁颂》');
    ids.noJs = await make('没有脚本也能提交');
    ids.submitted = await make('已提交的作品');
    ids.returned = await make('被退回的作品');
    ids.forwarded = await make('已报送的作品');
    ids.awarded = await make('获奖作品');
    ids.awaiting = await make('待选送的二等奖作品');
    ids.noVideo = (await createEntry(t, school.token, { title: '还没有视频' })).id;
    for (const id of [ids.submitted, ids.returned, ids.forwarded, ids.awarded, ids.awaiting]) await api(school.token).post(`/entries/${id}/submit`).expect(200);
    await api(countyToken).post(`/entries/${ids.returned}/return`, { reason: '声音太小，请重新录制' }).expect(200);
    await api(countyToken).post(`/entries/${ids.forwarded}/forward`, { periodId }).expect(200);
    await api(countyToken).post(`/entries/${ids.awarded}/forward`, { periodId }).expect(200);
    await db.updateTable('entries').set({ status: 'broadcast_selected', award: 'first' }).where('id', '=', ids.awarded).execute();
    await db.updateTable('entries').set({ status: 'awarded', award: 'second' }).where('id', '=', ids.awaiting).execute();
    await db
      .insertInto('masters')
      .values({
        entry_id: ids.awarded,
        video_id: (await db.selectFrom('entries').select('video_id').where('id', '=', ids.awarded).executeTakeFirstOrThrow()).video_id!,
        profile: 'xdcam-hd422',
        pillarbox: 'black',
        status: 'processing',
        progress: 10,
      })
      .execute();

    // A round open for scoring, so the judge has a queue and a score page.
    const roundId = (await api(adminToken).post('/rounds', { name: '初评', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body.id;
    ids.round = roundId;
    await api(adminToken)
      .post(`/rounds/${roundId}/entries`, { entryIds: [ids.forwarded] })
      .expect(200);
    await api(adminToken)
      .post(`/rounds/${roundId}/judges`, { userIds: [judge.id] })
      .expect(200);
    await api(adminToken).post(`/rounds/${roundId}/assign`).expect(200);
    await api(adminToken).post(`/rounds/${roundId}/open`).expect(200);
    ids.assignment = (await db.selectFrom('assignments').select('id').where('round_id', '=', roundId).executeTakeFirstOrThrow()).id;
    ids.schoolAccount = school.id;
  }, 180_000);

  const contexts: BrowserContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
  });

  async function open(username: string | null, opts: { phone?: boolean; javaScript?: boolean } = {}): Promise<Page> {
    const context = await suite.browser.newContext({
      locale: 'zh-CN',
      // axe is injected as a script; the app's CSP (script-src 'self') would refuse it.
      bypassCSP: true,
      javaScriptEnabled: opts.javaScript ?? true,
      ...(opts.phone && { viewport: PHONE, isMobile: true, hasTouch: true }),
    });
    contexts.push(context);
    const page = await context.newPage();
    if (username) await logIn(page, suite.baseUrl, username);
    return page;
  }

  test('when a school presses 提交, then a dialog says what happens; 取消 changes nothing, 确认提交 submits', async () => {
    const page = await open(users.school);
    await page.goto(`${suite.baseUrl}/entries/${ids.draft}`);
    await page.getByRole('button', { name: '提交到县区教育局' }).click();
    const dialog = page.getByRole('dialog', { name: '确认提交到县区教育局' });
    await see(dialog).toContainText('提交后作品交离石区教育局审核');
    // The confirm button has the focus: Enter would confirm, Esc or 取消 leaves things as they were.
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('确认提交');
    await dialog.getByRole('button', { name: '取消' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await see(page.locator('.page-head .badge')).toHaveText('草稿');
    await page.getByRole('button', { name: '提交到县区教育局' }).click();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.reload();
    await see(page.locator('.page-head .badge')).toHaveText('草稿');

    await page.getByRole('button', { name: '提交到县区教育局' }).click();
    await confirmDialog(page, '县区处理前可以撤回');
    await see(page.locator('.flash')).toContainText('作品已提交');
    await see(page.locator('.page-head .badge')).toHaveText('已提交，待县区审核');
  });

  test('when JavaScript is off, then 提交 shows a confirm page first, and 确认提交 there submits', async () => {
    const page = await open(users.school, { javaScript: false, phone: true });
    await page.goto(`${suite.baseUrl}/entries/${ids.noJs}`);
    await page.getByRole('button', { name: '提交到县区教育局' }).click();
    await see(page.locator('h1')).toHaveText('确认提交到县区教育局');
    await see(page.locator('main')).toContainText('审核期间不能修改信息或更换视频');
    await page.getByRole('link', { name: '取消' }).click();
    await see(page.locator('.page-head .badge')).toHaveText('草稿');
    await page.getByRole('button', { name: '提交到县区教育局' }).click();
    await page.getByRole('button', { name: '确认提交' }).click();
    await see(page.locator('.flash')).toContainText('作品已提交');
  });

  test('when the county forwards without JavaScript, then the confirm page states the quota it spends; with JS the dialog says the same', async () => {
    const page = await open(users.county, { javaScript: false });
    await page.goto(`${suite.baseUrl}/entries/${ids.submitted}`);
    await page.getByRole('button', { name: '报送市教育局' }).click();
    await see(page.locator('main')).toContainText('报送后占用名额 4/10');
    await page.getByRole('link', { name: '取消' }).click();
    await see(page.locator('.page-head .badge')).toHaveText('已提交，待县区审核');

    const js = await open(users.county);
    await js.goto(`${suite.baseUrl}/entries/${ids.submitted}`);
    await js.getByRole('button', { name: '报送市教育局' }).click();
    await confirmDialog(js, '报送后占用名额 4/10');
    await see(js.locator('.flash')).toContainText('作品已报送市教育局');
    // …and takes it back before the deadline: the place is free again.
    await js.getByLabel('撤回报送的原因（会记入办理记录）').fill('换报另一件作品');
    await js.getByRole('button', { name: '撤回报送' }).click();
    await see(js.locator('.flash')).toContainText('名额已释放');
    await see(js.locator('#review-panel')).toContainText('本期已报送 3 / 10');
    // History names people, not usernames.
    await see(js.locator('.timeline')).toContainText('离石区教育局审核员：县区撤回报送');
  });

  test('when the phone menu is folded, then 菜单 opens it, also without JavaScript', async () => {
    for (const javaScript of [true, false]) {
      const page = await open(users.county, { phone: true, javaScript });
      await page.goto(`${suite.baseUrl}/entries`);
      expect(await page.locator('nav.nav').isVisible()).toBe(false);
      const header = await page.locator('header.topbar').boundingBox();
      expect(header!.height).toBeLessThan(PHONE.height * 0.12);
      await clickMenu(page, '审核与报送');
      await page.waitForURL(/\/review/);
      // The worklist's filters fold away too.
      expect(await page.locator('select[name=songId]').isVisible()).toBe(false);
      await page.locator('details.filter-fold > summary').click();
      expect(await page.locator('select[name=songId]').isVisible()).toBe(true);
    }
  });

  test('when a master is in production, then the TV desk shows its progress live and offers the download once it is ready', async () => {
    const db = suite.t.container.database.db;
    const page = await open(users.tv);
    await page.goto(`${suite.baseUrl}/broadcast`);
    const bar = page.locator(`.master-progress[data-entry-id="${ids.awarded}"] progress`);
    expect(await bar.getAttribute('value')).toBe('10');
    await db.updateTable('masters').set({ progress: 60 }).where('entry_id', '=', ids.awarded).execute();
    await page.waitForFunction(`document.querySelector('.master-progress progress').value === 60`, undefined, { timeout: 10_000 });
    await see(page.locator('.master-percent')).toHaveText('60');
    await db
      .updateTable('masters')
      .set({ status: 'ready', progress: 100, object_key: 'masters/none.mxf', size_bytes: 1000 })
      .where('entry_id', '=', ids.awarded)
      .execute();
    await page.getByRole('link', { name: /下载母版/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.master-progress').count()).toBe(0);
  });

  test('when a school uploads a file that is not a video, then the refusal is an alert, not small grey text', async () => {
    const page = await open(users.school);
    await page.goto(`${suite.baseUrl}/entries/${ids.noVideo}`);
    await page
      .getByLabel(/上传视频/)
      .setInputFiles({ name: 'clip.mp4', mimeType: 'video/mp4', buffer: Buffer.from('这不是视频文件，只是一段文字。'.repeat(20)) });
    await page.getByRole('button', { name: '上传', exact: true }).click();
    const alert = page.locator('#upload-text.alert-error[role=alert]');
    await alert.waitFor({ timeout: 15_000 });
    expect((await alert.innerText()).length).toBeGreaterThan(4);
  });

  const PAGES: Record<string, () => string[]> = {
    anonymous: () => ['/login', '/results'],
    school: () => [
      '/',
      '/campaign',
      '/entries',
      '/entries/new',
      `/entries/${ids.draft}`,
      `/entries/${ids.returned}`,
      `/entries/${ids.returned}/edit`,
      `/entries/${ids.awarded}`,
      '/account/password',
    ],
    county: () => [
      '/',
      '/campaign',
      '/entries',
      '/review',
      '/review?tab=forwarded',
      '/review?tab=returned',
      '/stats',
      '/org/schools',
      '/org/schools/new',
      '/accounts',
      '/accounts/new',
      `/accounts/${ids.schoolAccount}`,
      `/entries/${ids.forwarded}`,
      `/entries/${ids.returned}`,
    ],
    judge: () => ['/', '/campaign', '/judging', `/judging/${ids.assignment}`],
    tv: () => ['/', '/campaign', '/broadcast'],
    supervisor: () => ['/'],
    newmedia: () => ['/'],
    admin: () => [
      '/',
      '/campaign',
      '/entries',
      '/review',
      '/stats',
      '/broadcast',
      '/org/counties',
      '/org/schools',
      '/org/schools/import',
      '/accounts',
      '/accounts/new',
      '/rounds',
      `/rounds/${ids.round}`,
      `/rounds/${ids.round}/edit`,
      '/audit',
      `/entries/${ids.awarded}`,
    ],
  };

  /** Opens each page of each role; reports HTTP errors, pages wider than the screen, and axe's serious or critical findings. */
  async function sweep(phone: boolean): Promise<string[]> {
    const problems: string[] = [];
    for (const [role, paths] of Object.entries(PAGES)) {
      const page = await open(role === 'anonymous' ? null : users[role], { phone });
      for (const p of paths()) {
        const res = await page.goto(`${suite.baseUrl}${p}`);
        const label = `${phone ? '390' : '1280'} ${role} ${p}`;
        if (!res || res.status() >= 400) problems.push(`${label}: HTTP ${res?.status()}`);
        const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
          '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
        );
        if (scrollWidth > innerWidth) problems.push(`${label}: ${scrollWidth} px wide on a ${innerWidth} px screen`);
        await page.addScriptTag({ content: AXE_SOURCE });
        const violations = await page.evaluate<AxeViolation[]>(
          "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))",
        );
        for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical'))
          problems.push(`${label}: axe ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
        if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${phone ? '390' : '1280'}-${role}${p.replace(/[/?=&]/g, '_')}.png`), fullPage: true });
      }
      await page.context().close();
    }
    return problems;
  }

  test('when every page of every role is opened on a 390×844 phone, then none is wider than the screen and axe finds no serious or critical problem', async () => {
    expect(await sweep(true)).toEqual([]);
  }, 300_000);

  test('when every page of every role is opened at 1280 px, then axe finds no serious or critical problem there either', async () => {
    expect(await sweep(false)).toEqual([]);
  }, 300_000);
});
