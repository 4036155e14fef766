import type { Page } from 'playwright-core';
import { TEST_PASSWORD } from '../support/app';
import { browserSuite, describeBrowser, logIn, see, clickMenu } from '../support/browser';

/**
 * 人人会唱 in a real chromium: a school reports its learning progress on a phone (390 px wide),
 * and the city's coverage page shows it. Screenshots go to /tmp for a person to look at.
 */
const PHONE = { width: 390, height: 844 };

const widths = (page: Page) =>
  page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');

describeBrowser('人人会唱 in a browser', () => {
  const suite = browserSuite();

  test('when a school reports on its phone, then the city coverage page shows its figures and the school that has not reported', async () => {
    const school = await suite.t.createSchool({ name: '离石区会唱小学', countyId: 'c-lishi' });
    await suite.t.createSchool({ name: '孝义市未报小学', countyId: 'c-xiaoyi' });
    const account = await suite.t.createUser('school', { schoolId: school.id, displayName: '音乐组张老师' });

    const phone = await suite.browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
    const page = await phone.newPage();
    try {
      await logIn(page, suite.baseUrl, account.username, TEST_PASSWORD);
      await page.getByRole('link', { name: '人人会唱' }).click();
      await see(page.locator('h1')).toHaveText('人人会唱 · 学唱进度');
      await see(page.locator('.alert-warn')).toHaveText('本校尚未上报学唱进度。');

      await page.getByLabel('教师总数').fill('60');
      await page.getByLabel('班级总数').fill('24');
      const songs = page.locator('fieldset.learning-song');
      expect(await songs.count()).toBe(5);
      // One slip first: more teachers than the school has.
      for (let i = 0; i < 5; i++) {
        await songs
          .nth(i)
          .getByLabel('会唱的教师数')
          .fill(i === 0 ? '61' : String(58 - i));
        await songs.nth(i).getByLabel('课前一歌的班级数').fill('20');
      }
      await page.getByRole('button', { name: '上报' }).click();
      await see(songs.nth(0).locator('.field-error')).toHaveText('《党啊，亲爱的妈妈》会唱教师数（61）不能多于教师总数（60）');
      await see(page.getByLabel('教师总数')).toHaveValue('60');
      await songs.nth(0).getByLabel('会唱的教师数').fill('58');
      await page.getByLabel('说明（可选）').fill('每周二音乐课教唱');
      await page.getByRole('button', { name: '上报' }).click();
      await see(page.locator('.flash')).toHaveText('学唱进度已上报。之后可以随时更新，以最近一次上报为准。');
      await see(page.locator('table').first()).toContainText('58/60（96.7%）');
      const { scrollWidth, innerWidth } = await widths(page);
      expect(Math.max(0, scrollWidth - innerWidth)).toBe(0);
      await page.screenshot({ path: '/tmp/changxiang-learning-school-phone.png', fullPage: true });
    } finally {
      await phone.close();
    }

    const desk = await suite.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const city = await desk.newPage();
    try {
      await logIn(city, suite.baseUrl, 'admin', TEST_PASSWORD);
      await clickMenu(city, '人人会唱');
      await see(city.locator('h1')).toHaveText('人人会唱 · 学唱覆盖');
      const row = city.locator('table.learning-schools tr', { hasText: '离石区会唱小学' });
      await see(row).toContainText('60 / 24');
      await see(row).toContainText('96.7% · 83.3%');
      await see(city.locator('table.learning-schools tr', { hasText: '孝义市未报小学' })).toContainText('未上报');
      await see(city.locator('tr', { hasText: '离石区' }).first()).toContainText('1/1');
      expect(await city.locator('svg[aria-label="教师会唱比例"] text').allTextContents()).toContain('96.7%');
      await city.screenshot({ path: '/tmp/changxiang-learning-city.png', fullPage: true });
      await city.setViewportSize(PHONE);
      await city.reload();
      await city.screenshot({ path: '/tmp/changxiang-learning-city-phone.png', fullPage: true });
    } finally {
      await desk.close();
    }
  });
});
