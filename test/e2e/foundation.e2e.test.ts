import type { Page } from 'playwright-core';
import { TEST_PASSWORD } from '../support/app';
import { browserSuite, describeBrowser, logIn, see, clickMenu } from '../support/browser';

/**
 * In a real chromium: the city admin sets up a school and its account, and the school logs in.
 * A phone-sized screenshot is written to /tmp for a person to look at (not asserted).
 */
const PHONE = { width: 390, height: 844 };
const SCREENSHOT = '/tmp/changxiang-school-home-phone.png';

describeBrowser('foundation in a browser', () => {
  const suite = browserSuite();

  async function login(page: Page, username: string, password: string) {
    await logIn(page, suite.baseUrl, username, password);
  }

  test('when the admin creates a school in 离石区 and an account for it, then that school can log in and sees its home page', async () => {
    const context = await suite.browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    try {
      await login(page, 'admin', TEST_PASSWORD);
      await see(page.locator('h1')).toHaveText('学习党的二十大精神、唱响青春主旋律');
      await see(page.locator('.lead')).toHaveText('欢迎，市教育局管理员。');

      // A school in 离石区, from the counties page.
      await clickMenu(page, '县区');
      await page.locator('tr', { hasText: '离石区' }).getByRole('link', { name: '新建学校' }).click();
      await see(page.getByLabel('所属县区')).toHaveValue('c-lishi');
      await page.getByLabel('学校名称').fill('离石区浏览器测试小学');
      await page.getByLabel('学段').selectOption({ label: '小学' });
      await page.getByRole('button', { name: '保存' }).click();
      await see(page.locator('.flash')).toHaveText('学校已创建。');
      const row = page.locator('tr', { hasText: '离石区浏览器测试小学' });
      await see(row).toContainText('离石区');

      // Its account, from the school's row.
      await row.getByRole('link', { name: '创建账号' }).click();
      await see(page.getByLabel('角色')).toHaveValue('school');
      await page.getByLabel('用户名').fill('lishi-browser');
      await page.getByLabel('姓名或名称').fill('王老师');
      await page.getByLabel('初始密码').fill('browser-pass-1');
      await page.getByRole('button', { name: '创建账号' }).click();
      await see(page.locator('.flash')).toHaveText('账号已创建。');
      await see(page.locator('h1')).toHaveText('账号：lishi-browser');
      await see(page.locator('dl.facts')).toContainText('离石区浏览器测试小学（离石区）');

      await page.getByRole('button', { name: '退出' }).click();
      await see(page.locator('.flash')).toHaveText('您已退出登录。');

      // The initial password was typed by the admin: the first sign-in asks for the teacher's own.
      await page.goto(`${suite.baseUrl}/login`);
      await page.locator('input[name=username]').fill('lishi-browser');
      await page.locator('input[name=password]').fill('browser-pass-1');
      await Promise.all([page.waitForURL(/\/account\/password/), page.getByRole('button', { name: '登录' }).click()]);
      await see(page.locator('main')).toContainText('请先设置您自己的密码');
      await page.locator('input[name=currentPassword]').fill('browser-pass-1');
      await page.locator('input[name=newPassword]').fill('wang-own-pass-2');
      await page.locator('input[name=confirmPassword]').fill('wang-own-pass-2');
      await page.getByRole('button', { name: '修改密码' }).click();
      await see(page.locator('.flash')).toHaveText('密码已修改。');
      await see(page.locator('.lead')).toHaveText('欢迎，王老师。');
      await see(page.locator('.who')).toContainText('学校');
      await see(page.locator('nav.nav')).not.toContainText('账号');
      await see(page.locator('nav.nav')).not.toContainText('县区');
      // A school that types an admin address gets a Chinese refusal, not the page.
      await page.goto(`${suite.baseUrl}/org/counties`);
      await see(page.locator('h1')).toHaveText('没有权限');
    } finally {
      await context.close();
    }
  });

  test('when a school uses a phone-sized screen, then the pages fit the width (no horizontal scrolling)', async () => {
    const context = await suite.browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
    const page = await context.newPage();
    try {
      const school = await suite.t.createUser('school', { displayName: '手机上的李老师' });
      await login(page, school.username, TEST_PASSWORD);
      for (const path of ['/', '/campaign']) {
        await page.goto(`${suite.baseUrl}${path}`);
        const { scrollWidth, innerWidth } = await widths(page);
        expect(innerWidth).toBe(PHONE.width);
        expect({ path, fits: scrollWidth <= innerWidth }).toEqual({ path, fits: true });
      }
      await page.goto(`${suite.baseUrl}/`);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`phone screenshot for a person to look at: ${SCREENSHOT}`);
    } finally {
      await context.close();
    }
  });

  test('when the admin uses a phone-sized screen, then the school and account lists fit the width', async () => {
    const context = await suite.browser.newContext({ viewport: PHONE, isMobile: true, locale: 'zh-CN' });
    const page = await context.newPage();
    try {
      await login(page, 'admin', TEST_PASSWORD);
      for (const path of ['/org/counties', '/org/schools', '/accounts', '/accounts/new']) {
        await page.goto(`${suite.baseUrl}${path}`);
        const { scrollWidth, innerWidth } = await widths(page);
        const overflow = scrollWidth - innerWidth;
        expect({ path, overflow: Math.max(0, overflow) }).toEqual({ path, overflow: 0 });
      }
    } finally {
      await context.close();
    }
  });
});

/** The page's full width and the viewport width (evaluated in the page; a string, as tsconfig has no DOM lib). */
const widths = (page: Page) =>
  page.evaluate<{ scrollWidth: number; innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })');

/** Waits up to 5 s for a locator's text or value (playwright's web-first assertions without @playwright/test). */
