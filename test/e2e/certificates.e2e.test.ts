import type { Page } from 'playwright-core';
import { TEST_PASSWORD } from '../support/app';
import { browserSuite, describeBrowser, logIn, see } from '../support/browser';
import { drainQueue } from '../support/entries';

/**
 * 获奖证书 in a real chromium: the city makes a round's certificates, and anyone checks one on the
 * public verify page on a phone. Screenshots go to /tmp for a person to look at.
 */
const PHONE = { width: 390, height: 844 };
const widths = (page: Page) =>
  page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');

describeBrowser('获奖证书 in a browser', () => {
  const suite = browserSuite();

  test('when the city makes the certificates, then they are listed as ready and the verify page shows the award on a phone', async () => {
    const db = suite.t.container.db;
    const school = await suite.t.createSchool({ name: '离石区浏览器小学', countyId: 'c-lishi' });
    const round = await db
      .insertInto('rounds')
      .values({ campaign_id: 'main', name: '市级评审', judges_per_entry: 1, blind: true, aggregation: 'mean', rubric: '[]', awards_confirmed_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const song = await db.selectFrom('songs').select('id').where('title', '=', '长大后我就成了你').executeTakeFirstOrThrow();
    const entry = await db
      .insertInto('entries')
      .values({
        code: 'CX-E2E01',
        campaign_id: 'main',
        school_id: school.id,
        county_id: 'c-lishi',
        title: '长大后我就成了你（合唱）',
        song_id: song.id,
        form: 'chorus',
        level: 'primary',
        performer_count: 30,
        director_name: '刘芳',
        status: 'awarded',
        award: 'first',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('round_entries').values({ round_id: round.id, entry_id: entry.id, shortlisted: true, award: 'first', label: 'A-001' }).execute();

    const desk = await suite.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await desk.newPage();
    try {
      await logIn(page, suite.baseUrl, 'admin', TEST_PASSWORD);
      await page.goto(`${suite.baseUrl}/rounds/${round.id}/certificates`);
      await see(page.locator('h1')).toHaveText('获奖证书 · 市级评审');
      await page.getByLabel('离石区').check();
      await page.getByRole('button', { name: '制作 / 更新证书' }).click();
      await see(page.locator('.flash')).toHaveText('证书已制作，正在生成 PDF，稍后刷新即可下载。');
      await drainQueue(suite.t, { timeoutMs: 60_000 });
      await page.reload();
      await see(page.locator('tr', { hasText: 'LISHI-00001' })).toContainText('已生成');
      await see(page.locator('tr', { hasText: 'LISHI-00002' })).toContainText('刘芳');
      await see(page.locator('tr', { hasText: 'LISHI-00003' })).toContainText('优秀组织奖');
      await see(page.getByRole('link', { name: /打印版 PDF（3 页）/ })).toContainText('打印版');
      await page.screenshot({ path: '/tmp/changxiang-certificates-round.png', fullPage: true });
    } finally {
      await desk.close();
    }

    const phone = await suite.browser.newContext({ viewport: PHONE, isMobile: true, locale: 'zh-CN' });
    const anyone = await phone.newPage();
    try {
      await anyone.goto(`${suite.baseUrl}/verify/LISHI-00001`);
      await see(anyone.locator('h1')).toHaveText('证书验证');
      await see(anyone.locator('.verify')).toContainText('有效');
      await see(anyone.locator('dl.facts')).toContainText('一等奖');
      await see(anyone.locator('dl.facts')).toContainText('离石区浏览器小学');
      const { scrollWidth, innerWidth } = await widths(anyone);
      expect(Math.max(0, scrollWidth - innerWidth)).toBe(0);
      await anyone.screenshot({ path: '/tmp/changxiang-verify-phone.png', fullPage: true });
    } finally {
      await phone.close();
    }
  });
});
