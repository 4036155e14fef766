import crypto from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, describeBrowser, logIn, see, clickMenu } from '../support/browser';
import { attachReadyVideo, createEntry } from '../support/factories';
import { pdfText } from '../support/pdf';
import { readFile } from 'node:fs/promises';

/**
 * In a real chromium, at a desktop and a phone width: a school opens its entry, sees that no
 * authorisation is recorded, downloads the prefilled template, records the scopes with a signed
 * scan (a mistake first: nothing given → the form says what is missing), then withdraws one scope
 * with a reason. The city sets that scans are required and opens a school's personal-data page.
 * CONSENT_SHOTS=<dir> keeps screenshots of every page for a person to look at.
 */
const SHOTS = process.env.CONSENT_SHOTS;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crypto.randomBytes(300)]);

describeBrowser('guardian authorisation in a browser', () => {
  const suite = browserSuite();

  async function pageAs(username: string, width: number): Promise<Page> {
    const context = await suite.browser.newContext({ locale: 'zh-CN', acceptDownloads: true, viewport: { width, height: 900 } });
    const page = await context.newPage();
    await logIn(page, suite.baseUrl, username);
    return page;
  }
  const shot = async (page: Page, name: string) => {
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };

  test.each([1280, 390])('when a school records and withdraws an authorisation at %i px, then each step shows what happened', async (width) => {
    const school = await suite.t.createSchool({ name: `离石区授权小学${width}`, countyId: 'c-lishi' });
    const teacher = await suite.t.createUser('school', { schoolId: school.id });
    const entry = await createEntry(suite.t, await suite.t.token(teacher.username), { title: '童声唱吕梁' });
    await attachReadyVideo(suite.t, entry.id, 'pass', { consent: false });
    const page = await pageAs(teacher.username, width);

    await page.goto(`${suite.baseUrl}/entries/${entry.id}`);
    const panel = page.locator('#consent-panel');
    await see(panel).toContainText('未登记授权书');
    await shot(page, `entry-none-${width}`);

    const [template] = await Promise.all([page.waitForEvent('download'), panel.getByRole('link', { name: '下载授权书模板（PDF）' }).click()]);
    expect(template.suggestedFilename()).toBe(`授权书_${entry.code}.pdf`);
    const text = (await pdfText(await readFile((await template.path())!))).replace(/\s+/g, '');
    expect(text).toContain(entry.code);
    expect(text).toContain('童声唱吕梁');

    await panel.getByRole('link', { name: '登记授权' }).click();
    await see(page.locator('h1')).toHaveText('监护人授权');
    await page.getByRole('button', { name: '保存授权' }).click();
    await see(page.locator('.alert-error')).toContainText('请勾选学校声明并填写声明人，或上传签字的授权书扫描件');
    await shot(page, `consent-error-${width}`);

    await page.getByLabel('电视播出').check();
    await page.getByLabel('公示页面（仅作品名称和学校）').check();
    await page.getByLabel(/授权书扫描件/).setInputFiles({ name: '授权书.png', mimeType: 'image/png', buffer: PNG });
    await page.getByRole('button', { name: '保存授权' }).click();
    await see(page.locator('.flash')).toContainText('监护人授权已登记');
    await see(panel).toContainText('已授权：电视、公示');
    await see(panel).toContainText('下载授权书扫描件');
    await shot(page, `entry-granted-${width}`);

    await panel.getByRole('link', { name: '修改或撤回授权' }).click();
    const withdraw = page.locator('#consent-withdraw');
    await withdraw.getByLabel('电视播出').check();
    await withdraw.getByLabel('撤回原因').fill('家长来电要求不在电视上播出');
    await shot(page, `consent-form-${width}`);
    await withdraw.getByRole('button', { name: '撤回' }).click();
    await see(page.locator('.flash')).toContainText('授权已撤回');
    await see(page.locator('#consent-state')).toContainText('公示页面（仅作品名称和学校）');
    await see(page.locator('#consent-state')).not.toContainText('电视播出');

    await page.goto(`${suite.baseUrl}/my-data`);
    await see(page.locator('#export-link')).toContainText('导出本校数据');
    await shot(page, `my-data-${width}`);
    await page.context().close();
  });

  test('when the city requires scans and opens a school’s personal data, then the pages say so', async () => {
    const page = await pageAs('admin', 1280);
    await clickMenu(page, '授权书要求');
    await page.getByLabel('必须上传签字的授权书扫描件').check();
    await page.getByRole('button', { name: '保存' }).click();
    await see(page.locator('.flash')).toContainText('授权书要求已保存');
    await see(page.locator('#current-setting')).toHaveText('必须上传签字的授权书扫描件');
    await shot(page, 'settings-1280');

    const school = await suite.t.createSchool({ name: '离石区删除小学', countyId: 'c-lishi' });
    await page.goto(`${suite.baseUrl}/org/schools?q=${encodeURIComponent('删除小学')}`);
    await page.getByRole('link', { name: '个人信息' }).first().click();
    await see(page.locator('h1')).toContainText('离石区删除小学');
    await page.getByLabel('申请依据和原因').fill('学校书面申请删除');
    await page.getByRole('button', { name: '删除该校个人信息' }).click();
    await see(page.locator('.flash')).toContainText('该校的个人信息已删除');
    await shot(page, 'erase-1280');
    const audit = await suite.t.container.database.db.selectFrom('audit_log').select(['action', 'reason']).where('object_id', '=', school.id).execute();
    expect(audit).toContainEqual({ action: 'school.erase_personal_data', reason: '学校书面申请删除' });
    await page.context().close();
  });
});
