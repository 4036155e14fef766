import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserSuite, describeBrowser, logIn, see, confirmDialog } from '../support/browser';
import { makeClip } from '../support/clips';

/**
 * In a real chromium, the whole school journey: log in, create an entry, upload a generated clip
 * with the page's file input (progress bar), watch it being processed by the in-process worker,
 * play the preview, submit, and see the new status.
 */
jest.setTimeout(120_000);

/** The part of HTMLVideoElement the test reads (the project compiles without DOM types). */
interface MediaElement {
  muted: boolean;
  readyState: number;
  duration: number;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  error: { code: number } | null;
  play(): Promise<void>;
  addEventListener(type: string, listener: (event?: unknown) => void, options?: { once?: boolean }): void;
}

describeBrowser('a school submits an entry with its video, in a browser', () => {
  const suite = browserSuite();
  let clips: string;
  let username: string;

  beforeAll(async () => {
    clips = await mkdtemp(path.join(tmpdir(), 'cx-e2e-entries-'));
    username = (await suite.t.createUser('school', { displayName: '离石区实验小学' })).username;
    await makeClip('landscape', clips);
  });
  afterAll(async () => {
    await rm(clips, { recursive: true, force: true });
  });

  async function login(page: Page) {
    await logIn(page, suite.baseUrl, username);
  }

  test('when a teacher creates an entry, uploads the video and waits, then the preview plays and the entry can be submitted (已提交)', async () => {
    const context = await suite.browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await login(page);

      // the entry
      await page.goto(`${suite.baseUrl}/entries/new`);
      await page.getByLabel('作品名称').fill('六一合唱《吕梁颂》');
      await page.getByLabel('演唱歌曲').selectOption({ label: '《吕梁颂》' });
      await page.getByLabel('表演形式').selectOption({ label: '合唱' });
      await page.getByLabel('学段').selectOption({ label: '小学' });
      await page.getByLabel('参演人数').fill('42');
      await page.getByLabel('指导教师（选填）').fill('王老师');
      await page.getByRole('button', { name: '保存' }).click();
      await see(page.locator('.flash')).toContainText('作品已创建');
      await see(page.locator('h1')).toHaveText('六一合唱《吕梁颂》');
      await see(page.locator('.page-head')).toContainText('草稿');
      const entryId = /\/entries\/([^/?]+)/.exec(page.url())![1]!;

      // the upload, slowed down so the progress bar can be seen moving
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
      await page.locator('#upload-form input[type=file]').setInputFiles(await makeClip('landscape', clips));
      await page.getByRole('button', { name: '上传', exact: true }).click();
      await page.locator('#upload-progress').waitFor({ state: 'visible' });
      await see(page.locator('#upload-text')).toContainText('上传中');
      // Polled from here: a string predicate in waitForFunction is evaluated with eval in the page,
      // which the page's CSP (script-src 'self') refuses once it has to poll.
      const progress = () => page.locator('#upload-progress').evaluate((el) => Number((el as unknown as { value: number }).value));
      for (let i = 0; i < 400 && (await progress()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await progress()).toBeGreaterThan(0);
      await page.waitForURL(/msg=video_uploaded/, { timeout: 60_000 });
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

      // processing: the worker is started only now, so the page is sure to show this state first
      await see(page.locator('.flash')).toContainText('视频已上传，正在处理');
      await see(page.locator('#video-status')).toContainText('处理中');
      await page.locator('#processing-bar').waitFor({ state: 'visible' });
      suite.t.container.startWorker();

      // the page polls and reloads itself when the video is ready
      const player = page.locator('#preview-player');
      await player.waitFor({ state: 'visible', timeout: 60_000 });
      await see(page.locator('#video-status')).toContainText('可预览');
      await see(page.locator('main')).toContainText('技术检查');
      const played = await player.evaluate(async (el) => {
        const video = el as unknown as MediaElement;
        video.muted = true;
        if (video.readyState < 1)
          await new Promise((resolve, reject) => {
            video.addEventListener('loadedmetadata', resolve, { once: true });
            video.addEventListener('error', () => reject(new Error(`media error ${video.error?.code}`)), { once: true });
          });
        await video.play();
        await new Promise((resolve) => setTimeout(resolve, 500));
        return { duration: video.duration, readyState: video.readyState, currentTime: video.currentTime, width: video.videoWidth, height: video.videoHeight };
      });
      expect(Number.isFinite(played.duration)).toBe(true);
      expect(played.duration).toBeGreaterThan(2);
      expect(played.readyState).toBeGreaterThanOrEqual(1);
      expect(played.currentTime).toBeGreaterThan(0);
      expect(played.width).toBeGreaterThan(played.height);

      // submit
      await page.getByRole('button', { name: '提交到县区教育局' }).click();
      await confirmDialog(page);
      await see(page.locator('.flash')).toContainText('作品已提交');
      await see(page.locator('.page-head')).toContainText('已提交');
      expect(await page.locator('#upload-form').count()).toBe(0);
      await see(page.locator('main')).toContainText('撤回');

      const entry = await suite.t.container.database.db.selectFrom('entries').select('status').where('id', '=', entryId).executeTakeFirstOrThrow();
      expect(entry.status).toBe('submitted');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
