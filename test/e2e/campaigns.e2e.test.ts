import type { Page } from 'playwright-core';
import { browserSuite, describeBrowser, logIn, see, clickMenu } from '../support/browser';
import { createEntry, schoolWithToken } from '../support/factories';

/**
 * In a real chromium: the city creates next year's campaign from this one on 活动管理, opens it for
 * submissions, switches back to last year's in the top bar (the entry list follows), and closes
 * last year's; at 1280 px and on a phone (390 px) nothing overflows (screenshots in /tmp).
 */
const PHONE = { width: 390, height: 844 };
const widths = (page: Page) =>
  page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');

describeBrowser('campaigns in a browser', () => {
  const suite = browserSuite({ timeoutMs: 120_000 });

  async function login(username: string, viewport?: { width: number; height: number }): Promise<Page> {
    const context = await suite.browser.newContext({
      locale: 'zh-CN',
      ...(viewport ? { viewport, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 900 } }),
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await logIn(page, suite.baseUrl, username);
    return page;
  }

  it("when the city makes next year's campaign, opens it, switches back and closes last year's, then every page shows the chosen campaign", async () => {
    const school = await schoolWithToken(suite.t, 'c-lishi');
    const old = await createEntry(suite.t, school.token, { title: '去年的作品' });
    const page = await login('admin');
    await clickMenu(page, '活动管理');
    await page.getByLabel('活动名称').fill('2027年吕梁市中小学校园歌曲展播');
    const year = Number(await page.getByRole('spinbutton', { name: '年度' }).inputValue());
    await page.getByRole('button', { name: '创建活动' }).click();
    await see(page.locator('.flash')).toContainText('新活动已创建');
    await see(page.locator('h1')).toContainText('筹备中');
    await page.screenshot({ path: '/tmp/changxiang-campaign-detail-1280.png', fullPage: true });
    await page.getByLabel('改为').selectOption({ label: '报送中' });
    await page.getByRole('button', { name: '保存状态' }).click();
    await see(page.locator('h1')).toContainText(`${year} · 报送中`);

    // The switcher now starts on the open campaign; last year's entry is not in its list.
    await page.goto(`${suite.baseUrl}/entries`);
    await see(page.locator('main')).not.toContainText(old.code);
    await page.locator('.campaign-switch select').selectOption({ value: 'main' });
    await page.locator('.campaign-switch').getByRole('button', { name: '切换' }).click();
    await page.waitForURL(`${suite.baseUrl}/entries`);
    await see(page.locator('main')).toContainText(old.code);
    // A long title is cut in the top bar; the whole one shows on hover.
    expect(await page.locator('.campaign-switch select').getAttribute('title')).toMatch(/^\d{4} · .+（.+）$/);
    await page.screenshot({ path: '/tmp/changxiang-campaign-switch-1280.png', fullPage: false });
    let w = await widths(page);
    expect(w.scrollWidth).toBeLessThanOrEqual(w.innerWidth);

    // Close last year's: read-only from now on.
    await page.goto(`${suite.baseUrl}/campaigns/main`);
    await page.getByLabel('我确认关闭').check();
    await page.getByRole('button', { name: '关闭活动' }).click();
    await see(page.locator('.flash')).toContainText('活动已关闭');
    await see(page.locator('main')).toContainText('预演清理');
    await page.getByLabel('关闭后保留天数').fill('0');
    await page.getByRole('button', { name: '保存保留期限' }).click();
    await page.getByRole('button', { name: '预演清理（不删除任何文件）' }).click();
    await see(page.locator('#retention-report')).toContainText('作品 0 件');
    await page.screenshot({ path: '/tmp/changxiang-campaign-closed-1280.png', fullPage: true });

    // On a phone: the list, the detail page and the top bar fit.
    const phone = await login('admin', PHONE);
    for (const path of ['/campaigns', '/campaigns/main', '/entries']) {
      await phone.goto(`${suite.baseUrl}${path}`);
      w = await widths(phone);
      expect({ path, ...w }).toEqual({ path, scrollWidth: w.innerWidth, innerWidth: PHONE.width });
      await phone.screenshot({ path: `/tmp/changxiang-campaign${path.replace(/\//g, '-')}-390.png`, fullPage: true });
    }
    // A school sees the campaign's name, not a switcher.
    const schoolPage = await login(school.username, PHONE);
    await see(schoolPage.locator('.campaign-name')).toContainText(`${year} · 报送中`);
    expect(await schoolPage.locator('.campaign-switch').count()).toBe(0);
  });
});
