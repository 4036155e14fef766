/**
 * Issue 18 in a real chromium: a parent objects on the public 公示 page (with a screenshot), gets a
 * receipt; the city accepts, reviews and concludes it on its pages; 监督 reads the round's page.
 * With SCREENSHOT_DIR set, the pages are saved at 1280 and 390 px wide for a person to look at.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, describeBrowser, logIn, see } from '../support/browser';
import { scoredRound, type ScoredRound } from '../support/results';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 1)]);

async function shoot(page: Page, name: string) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

describeBrowser('公示, objections and 监督 in a browser', () => {
  const s = browserSuite({ timeoutMs: 300_000 });
  let r: ScoredRound;
  let supervisor: string;

  beforeAll(async () => {
    r = await scoredRound(s.t, { counties: ['c-lishi', 'c-fenyang', null], judges: 3, totals: (e, j) => [90, 80, 70][e] + j });
    supervisor = (await s.t.createUser('supervisor', { displayName: '纪检监督员' })).username;
    const auth = { Authorization: `Bearer ${r.admin}` };
    const post = (url: string, body: object) =>
      fetch(`${s.baseUrl}${url}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect(
      (
        await post(`/api/v1/rounds/${r.roundId}/awards`, {
          tiers: [
            { award: 'first', count: 1 },
            { award: 'second', count: 1 },
          ],
        })
      ).status,
    ).toBe(200);
    expect((await post(`/api/v1/rounds/${r.roundId}/publish`, { objectionContact: '市教育局体卫艺科 0358-8220000' })).status).toBe(200);
  }, 300_000);

  test('when a parent objects on the 公示 page, then a receipt; the city concludes it step by step; 监督 sees it, read only', async () => {
    const anon = await s.browser.newPage();
    anon.setDefaultTimeout(15_000);
    await anon.goto(`${s.baseUrl}/results`);
    await see(anon.locator('.results-round')).toContainText('市教育局体卫艺科 0358-8220000');
    await see(anon.locator('.results-round')).toContainText('结果校验码（SHA-256）');
    await shoot(anon, 'results');
    await anon.getByText('对公示结果有异议？请实名提交').click();
    await anon.getByLabel('作品编号').fill(r.entries[0].code);
    await anon.getByLabel('真实姓名').fill('王建国');
    await anon.getByLabel('联系电话').fill('13912345678');
    await anon.getByLabel('与作品的关系').fill('学生家长');
    await anon.getByLabel('异议理由').fill('该作品演唱部分疑似使用了原唱伴唱，请复核。');
    await anon.getByLabel('证明材料').setInputFiles({ name: '截图.png', mimeType: 'image/png', buffer: PNG });
    await anon.getByRole('button', { name: '提交异议' }).click();
    await see(anon.locator('main')).toContainText('回执编号');
    const receipt = (await anon.locator('.receipt').innerText()).trim();
    expect(receipt).toMatch(/^YY\d{8}-[2-9A-HJ-NP-Z]{6}$/);
    await shoot(anon, 'objection-receipt');
    await anon.goto(`${s.baseUrl}/results`);
    await see(anon.locator('.results-round')).toContainText('1 份');
    await see(anon.locator('body')).not.toContainText('13912345678');
    await anon.close();

    const admin = await s.browser.newPage();
    admin.setDefaultTimeout(15_000);
    await logIn(admin, s.baseUrl, 'admin');
    await admin.goto(`${s.baseUrl}/objections`);
    await admin.getByRole('link', { name: receipt }).click();
    await see(admin.locator('main')).toContainText('13912345678');
    await admin.getByRole('button', { name: '受理' }).click();
    await see(admin.locator('main')).toContainText('异议处理进度已保存。');
    await admin.getByRole('button', { name: '开始复核' }).click();
    // Only a reason, no outcome: the server's page says what is missing (the browser checks the reason itself).
    await admin.getByLabel('结论理由').fill('理由');
    await admin.getByRole('button', { name: '作出结论' }).click();
    await see(admin.locator('.alert-error')).toContainText('请选择复核结论');
    await admin.getByLabel('异议不成立').check();
    await admin.getByLabel('结论理由').fill('经复核原始视频，伴唱为现场演唱。');
    await admin.getByRole('button', { name: '作出结论' }).click();
    await see(admin.locator('main')).toContainText('已有结论');
    await shoot(admin, 'objection-admin');
    await admin.close();

    const sup = await s.browser.newPage();
    sup.setDefaultTimeout(15_000);
    await logIn(sup, s.baseUrl, supervisor);
    await see(sup.locator('nav')).toContainText('监督');
    await sup.goto(`${s.baseUrl}/supervision/rounds/${r.roundId}`);
    await see(sup.locator('main')).toContainText(receipt);
    await see(sup.locator('main')).toContainText('对公示异议作出结论');
    await see(sup.locator('main')).toContainText('冻结了公示结果');
    expect(await sup.locator('main form[method="post"]').count()).toBe(0);
    await shoot(sup, 'supervision-round');
    await sup.goto(`${s.baseUrl}/objections`);
    await shoot(sup, 'objections-supervisor');
    await sup.goto(`${s.baseUrl}/reports`);
    await see(sup.locator('main')).toContainText('评委签字表');
    await shoot(sup, 'reports');
    await sup.close();
  }, 240_000);
});
