import type { Page } from 'playwright-core';
import { browserSuite, describeBrowser, logIn, see, confirmDialog, clickMenu } from '../support/browser';
import { attachReadyVideo } from '../support/factories';

/**
 * In a real chromium: a school submits → the county returns it with a reason → the school fixes
 * it and submits again → the county forwards it to the city. The school's page shows each state
 * and the reason. (The video is attached as processed: its pipeline has its own browser test.)
 */
describeBrowser('county review in a browser', () => {
  const suite = browserSuite();

  async function login(username: string): Promise<Page> {
    const context = await suite.browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await logIn(page, suite.baseUrl, username);
    return page;
  }

  test('when the county returns an entry and the school resubmits, then the county can forward it and the school sees each state', async () => {
    const school = await suite.t.createUser('school', { countyId: 'c-xiaoyi' });
    const reviewer = await suite.t.createUser('county', { countyId: 'c-xiaoyi' });

    // The school creates its entry.
    const teacher = await login(school.username);
    await teacher.getByRole('link', { name: '作品', exact: true }).click();
    await teacher.getByRole('link', { name: '新建作品' }).click();
    await teacher.getByLabel('作品名称').fill('五年级合唱');
    await teacher.getByLabel('演唱歌曲').selectOption({ label: '《吕梁颂》' });
    await teacher.getByLabel('表演形式').selectOption({ label: '合唱' });
    await teacher.getByLabel('学段').selectOption({ label: '小学' });
    await teacher.getByLabel('参演人数').fill('45');
    await teacher.getByRole('button', { name: '保存' }).click();
    await see(teacher.locator('.flash')).toContainText('作品已创建');
    const entryUrl = teacher.url().split('?')[0];
    const entryId = entryUrl.split('/').pop()!;
    await attachReadyVideo(suite.t, entryId);
    await teacher.goto(entryUrl);
    await teacher.getByRole('button', { name: '提交到县区教育局' }).click();
    await confirmDialog(teacher);
    await see(teacher.locator('.page-head .badge')).toHaveText('已提交，待县区审核');

    // The county returns it with a reason.
    const county = await login(reviewer.username);
    await clickMenu(county, '审核与报送');
    await county.getByRole('link', { name: '五年级合唱' }).click();
    await county.getByLabel('退回原因（学校会看到）').fill('开头两秒黑屏，请剪掉后重新上传');
    await county.getByRole('button', { name: '退回学校' }).click();
    await see(county.locator('.flash')).toContainText('作品已退回学校');

    // The school sees the reason, fixes and resubmits.
    await teacher.goto(entryUrl);
    await see(teacher.locator('.page-head .badge')).toHaveText('已退回，待修改');
    await see(teacher.locator('.alert-error')).toContainText('开头两秒黑屏，请剪掉后重新上传');
    await teacher.getByRole('link', { name: '修改信息' }).click();
    await teacher.getByLabel('参演人数').fill('44');
    await teacher.getByRole('button', { name: '保存' }).click();
    await teacher.getByRole('button', { name: '提交到县区教育局' }).click();
    await confirmDialog(teacher);
    await see(teacher.locator('.page-head .badge')).toHaveText('已提交，待县区审核');

    // The county forwards it; the quota shows the use.
    await county.goto(entryUrl);
    await see(county.locator('#review-panel')).toContainText('本期已报送 0 / 10');
    await county.getByRole('button', { name: '报送市教育局' }).click();
    await confirmDialog(county, '报送后占用名额 1/10');
    await see(county.locator('.flash')).toContainText('作品已报送市教育局');
    await county.goto(`${suite.baseUrl}/review?tab=forwarded`);
    await see(county.locator('main')).toContainText('已报送 1 / 10');

    await teacher.goto(entryUrl);
    await see(teacher.locator('.page-head .badge')).toHaveText('已报送市教育局');
    await see(teacher.locator('.timeline')).toContainText('退回');
    await see(teacher.locator('.timeline')).toContainText('开头两秒黑屏');
  });
});
