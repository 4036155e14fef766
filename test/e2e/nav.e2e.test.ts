import type { BrowserContext, Page } from 'playwright-core';
import { browserSuite, clickMenu, describeBrowser, logIn, see } from '../support/browser';

/**
 * The top menu in a real chromium: the city's ~18 pages and a county's ~11 fold into groups, so
 * the bar is one row on a 1280 px desk and the 菜单 toggle on a 390 px phone shows the groups
 * stacked. Screenshots go to /tmp/nav-*.png for a person to look at (not asserted).
 */
const DESK = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describeBrowser('the grouped top menu', () => {
  const suite = browserSuite({ timeoutMs: 120_000 });
  const users: Record<string, string> = { admin: 'admin' };
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    users.county = (await suite.t.createUser('county', { countyId: 'c-lishi', displayName: '离石区教育局审核员' })).username;
    for (const role of ['school', 'judge', 'tv', 'supervisor', 'newmedia'] as const) users[role] = (await suite.t.createUser(role)).username;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
  });

  async function open(username: string, viewport: { width: number; height: number }, javaScript = true): Promise<Page> {
    const phone = viewport.width < 720;
    const context = await suite.browser.newContext({
      locale: 'zh-CN',
      viewport,
      javaScriptEnabled: javaScript,
      ...(phone && { isMobile: true, hasTouch: true }),
    });
    contexts.push(context);
    const page = await context.newPage();
    await logIn(page, suite.baseUrl, username);
    return page;
  }

  /** The bar's height and the distinct tops of the menu's top-level entries (one row: one top). */
  async function measure(page: Page): Promise<{ header: number; tops: number[] }> {
    const header = (await page.locator('header.topbar').boundingBox())!.height;
    const tops = await page.locator('nav.nav > *').evaluateAll((els) => els.map((el) => (el as unknown as { offsetTop: number }).offsetTop));
    return { header, tops: [...new Set(tops)] };
  }

  test.each(['admin', 'county', 'school', 'judge', 'tv', 'supervisor', 'newmedia'])(
    'when %s opens a page at 1280 px, then the menu is one row',
    async (role) => {
      const page = await open(users[role], DESK);
      // The city and the counties on a page inside a group (报送 shows it holds the current page).
      if (role === 'admin' || role === 'county') await page.goto(`${suite.baseUrl}/entries`);
      const { header, tops } = await measure(page);
      console.log(`nav at 1280 px, ${role}: header ${header} px, ${tops.length} row(s)`);
      await page.screenshot({ path: `/tmp/nav-${role}-1280.png` });
      expect(tops).toHaveLength(1);
      expect(header).toBeLessThanOrEqual(64);
    },
  );

  test('when the admin opens a group at 1280 px, then it drops down, its link navigates and the group shows it holds the current page', async () => {
    const page = await open(users.admin, DESK);
    const group = page.locator('nav.nav details', { has: page.locator('summary', { hasText: '评审' }) });
    await group.locator('summary').click();
    const link = group.getByRole('link', { name: '评审轮次', exact: true });
    await link.waitFor({ state: 'visible' });
    // The panel floats over the page: the bar keeps its height.
    expect((await measure(page)).header).toBeLessThanOrEqual(64);
    await page.screenshot({ path: '/tmp/nav-admin-1280-open.png' });

    // Opening another group closes the first; a click outside closes it too.
    await page.locator('nav.nav summary', { hasText: '组织' }).click();
    expect(await group.getAttribute('open')).toBeNull();
    await page.locator('main h1').click();
    expect(await page.locator('nav.nav details[open]').count()).toBe(0);

    await group.locator('summary').click();
    await Promise.all([page.waitForURL(/\/rounds$/), link.click()]);
    await see(page.locator('nav.nav details.active > summary')).toHaveText('评审');
    expect(await page.locator('nav.nav [aria-current="page"]').getAttribute('href')).toBe('/rounds');
    // After the page loads, the group is shut again (the dropdown does not cover the page).
    expect(await page.locator('nav.nav details[open]').count()).toBe(0);
  });

  test('when the admin uses the keyboard, then Enter opens a group, Tab reaches its links and Escape closes it', async () => {
    const page = await open(users.admin, DESK);
    const summary = page.locator('nav.nav summary', { hasText: '设置' });
    await summary.focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement && document.activeElement.textContent')).toBe('活动管理');
    await page.keyboard.press('Escape');
    expect(await page.locator('nav.nav details[open]').count()).toBe(0);
    expect(await page.evaluate<string>('document.activeElement && document.activeElement.textContent')).toBe('设置');
  });

  test.each(['admin', 'county'])(
    'when %s opens the 菜单 on a 390 px phone, then the groups stack, a group link navigates and nothing scrolls sideways',
    async (role) => {
      for (const javaScript of [true, false]) {
        const page = await open(users[role], PHONE, javaScript);
        expect(await page.locator('nav.nav').isVisible()).toBe(false);
        await page.locator('.nav-toggle-label').click();
        await page.locator('nav.nav summary', { hasText: '组织' }).click();
        await page.getByRole('link', { name: '账号', exact: true }).waitFor({ state: 'visible' });
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
        if (javaScript) await page.screenshot({ path: `/tmp/nav-${role}-390.png` });
        await Promise.all([page.waitForURL(/\/accounts$/), page.getByRole('link', { name: '账号', exact: true }).click()]);
        // The shared helper finds a link inside a group, too.
        await clickMenu(page, '审核与报送');
        await page.waitForURL(/\/review/);
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      }
    },
  );
});
