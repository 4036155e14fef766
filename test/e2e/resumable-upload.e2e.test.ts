import crypto from 'node:crypto';
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../support/app';
import { describeBrowser, launchBrowser, logIn, see } from '../support/browser';
import { makeClip } from '../support/clips';
import { createEntry, currentVideo, drainQueue, listFiles, storedOriginal } from '../support/entries';

/**
 * In chromium: the network drops mid-upload (PATCHes aborted by route interception after a few
 * chunks), the teacher reloads the page, picks the same file again and the upload continues from
 * the server's offset — a HEAD, then PATCHes starting past zero, no second upload created — and the
 * stored original is byte-identical to the file.
 */
jest.setTimeout(120_000);

describeBrowser('resumable upload in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let clips: string;
  let server: http.Server;
  let baseUrl: string;
  const seen: Array<{ method: string; url: string; offset: number | null }> = [];

  beforeAll(async () => {
    clips = await mkdtemp(path.join(tmpdir(), 'cx-e2e-tus-'));
    t = await createTestApp({ env: { UPLOAD_CHUNK_BYTES: String(16 * 1024) } });
    // What the server saw of the tus protocol (method + Upload-Offset).
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/uploads'))
        seen.push({ method: req.method!, url: req.url, offset: req.headers['upload-offset'] ? Number(req.headers['upload-offset']) : null });
      t.app(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await t?.close();
    await rm(clips, { recursive: true, force: true });
  });

  test('a dropped connection, a reload and the same file again: the upload continues from the saved offset', async () => {
    const user = await t.createUser('school');
    const entry = await createEntry(t, await t.token(user.username));
    const file = await makeClip('landscape', clips);
    const size = (await stat(file)).size;
    expect(size).toBeGreaterThan(8 * 16 * 1024);

    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await logIn(page, baseUrl, user.username);
      await page.goto(`${baseUrl}/entries/${entry.id}`);

      // the uplink dies after 4 chunks
      let patches = 0;
      await page.route('**/api/v1/uploads/*', (route) => {
        if (route.request().method() === 'PATCH' && ++patches > 4) return route.abort('internetdisconnected');
        return route.continue();
      });
      // nothing to pause or resume before an upload starts
      expect(await page.locator('#upload-pause').isVisible()).toBe(false);
      expect(await page.locator('#upload-resume').isVisible()).toBe(false);
      await page.locator('#upload-form input[type=file]').setInputFiles(file);
      await page.getByRole('button', { name: '上传', exact: true }).click();
      await see(page.locator('#upload-text')).toContainText('上传中');
      // the upload URL saved for resuming (polled from here: a string predicate in waitForFunction
      // would be eval'ed in the page, which its CSP refuses)
      const savedKeys = () =>
        page.evaluate(() => Object.keys((globalThis as unknown as { localStorage: object }).localStorage).filter((k) => k.startsWith('tus::cx-')));
      for (let i = 0; i < 200 && (await savedKeys()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await savedKeys()).toHaveLength(1);
      const deadline = Date.now() + 20_000;
      while (patches <= 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(patches).toBeGreaterThan(4);
      // pause is offered while running
      expect(await page.locator('#upload-pause').isVisible()).toBe(true);

      // the teacher reloads (the tab is closed and reopened); the network is back
      await page.unroute('**/api/v1/uploads/*');
      const beforeReload = seen.length;
      await page.reload();
      await see(page.locator('#upload-resume-note')).toContainText('从中断处继续');
      expect(await page.locator('#upload-pause').isVisible()).toBe(false);
      await page.locator('#upload-form input[type=file]').setInputFiles(file);
      await page.getByRole('button', { name: '上传', exact: true }).click();
      await page.waitForURL(/msg=video_uploaded/, { timeout: 60_000 });

      const after = seen.slice(beforeReload);
      expect(after.filter((r) => r.method === 'POST')).toEqual([]);
      expect(after.some((r) => r.method === 'HEAD')).toBe(true);
      const resumed = after.filter((r) => r.method === 'PATCH');
      expect(resumed.length).toBeGreaterThan(0);
      expect(resumed[0]!.offset).toBeGreaterThanOrEqual(4 * 16 * 1024);
      expect(resumed[resumed.length - 1]!.offset).toBeGreaterThan(0);
      expect(seen.filter((r) => r.method === 'POST')).toHaveLength(1);

      // the same ingest path; byte-identical original; tus dir empty; the saved offset forgotten
      const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
      expect(sha(await storedOriginal(t, entry.id))).toBe(sha(await readFile(file)));
      expect(await listFiles(t.config.uploads.tusDir)).toEqual([]);
      expect(await savedKeys()).toEqual([]);
      await drainQueue(t, { timeoutMs: 60_000 });
      expect((await currentVideo(t, entry.id))!.status).toBe('ready');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
