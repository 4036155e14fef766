import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Page } from 'playwright-core';
import { packTexts } from '../../src/newmedia/newmedia.post';
import { objectKeys } from '../../src/platform/storage/object-keys';
import { browserSuite, describeBrowser, logIn, see } from '../support/browser';
import { attachReadyVideo, createEntry } from '../support/factories';

/**
 * In a real chromium: the 新媒体编辑 logs in, finds the desk in the menu, sees awarded entries with
 * their pack status and progress, starts a pack (flash, job queued), reads the post draft and
 * downloads a ready pack under its Chinese name. A failed pack shows its reason and a 重试 button.
 * Packs are made without ffmpeg here (a row + bytes in the store; real packs: test/integration/newmedia).
 * PACK_SCREENSHOTS=<dir> saves the desk at 1280 and 390 px wide.
 */
describeBrowser('new-media desk in a browser', () => {
  const suite = browserSuite();
  const ids = { ready: '', failed: '', none: '' };
  const codes = { ready: '', failed: '', none: '' };

  beforeAll(async () => {
    const db = suite.t.container.database.db;
    const school = await suite.t.createSchool({ name: 'XX小学', countyId: 'c-lishi' });
    const teacher = await suite.t.createUser('school', { schoolId: school.id });
    const token = await suite.t.token(teacher.username);
    const texts = packTexts({
      campaignTitle: '学习党的二十大精神 唱响青春主旋律',
      songTitle: '吕梁颂',
      schoolName: 'XX小学',
      countyName: '离石区',
      formLabel: '合唱',
      teachers: '王晓燕、李明',
      performerCount: 42,
      awardLabel: '一等奖',
    });
    for (const k of ['ready', 'failed', 'none'] as const) {
      const e = await createEntry(suite.t, token, { title: { ready: '童声唱吕梁', failed: '山里的歌声', none: '老师窗前' }[k] });
      const videoId = await attachReadyVideo(suite.t, e.id);
      await db.updateTable('entries').set({ status: 'awarded', award: 'first' }).where('id', '=', e.id).execute();
      ids[k] = e.id;
      codes[k] = e.code;
      if (k === 'none') continue;
      const { id } = await db
        .insertInto('media_packs')
        .values({
          campaign_id: 'main',
          entry_id: e.id,
          video_id: videoId,
          texts: JSON.stringify(texts),
          max_bytes: 200 * 1024 * 1024,
          status: k,
          progress: k === 'ready' ? 100 : 0,
          error: k === 'failed' ? '源视频音量过低（−50.2 LUFS），需要提升 34.2 dB，超过上限 25 dB，请人工处理或要求学校重新录制' : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (k === 'ready') {
        const outputs: Record<string, { key: string; sizeBytes: number }> = {};
        for (const [kind, file] of [
          ['oa', 'oa.mp4'],
          ['vertical', 'vertical.mp4'],
          ['coverWide', 'cover-wide.jpg'],
          ['coverSquare', 'cover-square.jpg'],
        ] as const) {
          const key = objectKeys.packFile(id, file);
          await suite.t.container.store.putStream(key, Readable.from([Buffer.alloc(50_000, 1)]), { contentType: 'application/octet-stream' });
          outputs[kind] = { key, sizeBytes: 50_000 };
        }
        await db
          .updateTable('media_packs')
          .set({ outputs: JSON.stringify(outputs), ready_at: new Date() })
          .where('id', '=', id)
          .execute();
      }
    }
  });

  async function editorPage(width = 1280): Promise<Page> {
    const editor = await suite.t.createUser('newmedia');
    const context = await suite.browser.newContext({ locale: 'zh-CN', acceptDownloads: true, viewport: { width, height: 900 } });
    const page = await context.newPage();
    await logIn(page, suite.baseUrl, editor.username);
    return page;
  }

  test('when the editor opens the desk, then it starts a pack, reads the post draft and downloads a ready pack under its Chinese name', async () => {
    const page = await editorPage();
    await page.getByRole('link', { name: '新媒体展播' }).first().click();
    await see(page.locator('h1')).toHaveText('新媒体展播');

    const ready = page.locator('section.desk-item', { hasText: codes.ready });
    await see(ready).toContainText('可下载');
    await see(ready).toContainText('公众号视频.mp4');
    await ready.getByText('推文草稿').click();
    await see(ready).toContainText('指导教师：王晓燕、李明');
    const failed = page.locator('section.desk-item', { hasText: codes.failed });
    await see(failed).toContainText('制作失败');
    await see(failed).toContainText('音量过低（−50.2 LUFS）');
    expect(await failed.getByRole('button', { name: '重试' }).count()).toBe(1);

    const dir = process.env.PACK_SCREENSHOTS;
    if (dir) await page.screenshot({ path: `${dir}/newmedia-1280.png`, fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), ready.getByRole('link', { name: /下载 .*\.zip/ }).click()]);
    expect(download.suggestedFilename()).toBe('吕梁颂_离石区XX小学_合唱.zip');
    const zip = await readFile((await download.path())!);
    expect(zip.subarray(0, 2).toString()).toBe('PK');

    const none = page.locator('section.desk-item', { hasText: codes.none });
    await none.getByRole('button', { name: '制作新媒体包' }).click();
    await see(page.locator('.flash')).toContainText('新媒体包已开始制作');
    await see(page.locator('section.desk-item', { hasText: codes.none })).toContainText('排队中');
    const job = await suite.t.container.database.db.selectFrom('jobs').select('payload').where('type', '=', 'newmedia.pack').executeTakeFirstOrThrow();
    expect((job.payload as { entryId: string }).entryId).toBe(ids.none);

    const log = await suite.t.container.database.db.selectFrom('downloads').select(['kind', 'entry_id']).execute();
    expect(log).toEqual([{ kind: 'media_pack', entry_id: ids.ready }]);
  });

  test('when the desk is opened on a phone (390 px), then nothing overflows the screen', async () => {
    const page = await editorPage(390);
    await page.goto(`${suite.baseUrl}/newmedia`);
    await see(page.locator('h1')).toHaveText('新媒体展播');
    const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
      '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
    );
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    const dir = process.env.PACK_SCREENSHOTS;
    if (dir) await page.screenshot({ path: `${dir}/newmedia-390.png`, fullPage: true });
  });
});
