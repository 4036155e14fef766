import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';
import { makeClip } from '../support/clips';
import { createEntry, currentVideo, listen, schoolWithToken, uploadTempFiles, waitForEmptyTemp, type SchoolAccount } from '../support/entries';

/**
 * Issue 13 item 9: the CSRF token travels in a header or a form field, never in a URL. The no-JS
 * upload forms carry it as their first field; the server checks it when the file part begins —
 * before a byte of the file is stored — and a cross-site multipart POST without it gets 403.
 */
jest.setTimeout(60_000);

const sessionOf = (res: request.Response) => ((res.headers['set-cookie'] as unknown as string[]) ?? []).map((c) => c.split(';')[0]).join('; ');

describe('CSRF on multipart forms', () => {
  let t: TestApp;
  let school: SchoolAccount;
  let cookie: string;
  let csrf: string;
  let dir: string;
  let clip: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-mpcsrf-'));
    clip = fs.readFileSync(await makeClip('landscape', dir));
    school = await schoolWithToken(t);
    const login = await request(t.app).get('/login').expect(200);
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(login.text)![1];
    const done = await request(t.app)
      .post('/login')
      .set('Cookie', sessionOf(login))
      .type('form')
      .send({ _csrf: loginCsrf, username: school.username, password: TEST_PASSWORD })
      .expect(303);
    cookie = sessionOf(done);
    const home = await request(t.app).get('/').set('Cookie', cookie).expect(200);
    csrf = /name="_csrf" value="([^"]+)"/.exec(home.text)![1];
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const page = (url: string) => request(t.app).get(url).set('Cookie', cookie).expect(200);
  const post = (url: string) => request(t.app).post(url).set('Cookie', cookie).set('Accept', 'text/html');

  test('when the upload and import forms are shown, then their action carries no token and the token is their first field', async () => {
    const entry = await createEntry(t, school.token);
    const admin = await t.browser('admin');
    for (const html of [(await page(`/entries/${entry.id}`)).text, (await admin.agent.get('/org/schools/import').expect(200)).text]) {
      const form = /<form[^>]*enctype="multipart\/form-data"[^>]*>([\s\S]*?)<\/form>/.exec(html)!;
      expect(form[0]).not.toMatch(/_csrf=/);
      expect(/<input[^>]*>/.exec(form[1])![0]).toMatch(/type="hidden" name="_csrf" value="[^"]+"/);
    }
    expect((await page(`/entries/${entry.id}`)).text).not.toMatch(/\?_csrf=/);
  });

  test('when the no-JS form posts the token as its first field, then the video is taken', async () => {
    const entry = await createEntry(t, school.token);
    const res = await post(`/entries/${entry.id}/video`).field('_csrf', csrf).attach('video', clip, '合唱.mp4').expect(303);
    expect(res.headers.location).toBe(`/entries/${entry.id}?msg=video_uploaded`);
    expect((await currentVideo(t, entry.id))?.original_name).toBe('合唱.mp4');
  });

  test.each([
    ['no token at all', (r: request.Test) => r],
    ['the token only in the URL', (r: request.Test) => r],
    ['another session’s token', (r: request.Test) => r.field('_csrf', 'x'.repeat(43))],
  ])('when a cross-site multipart upload has %s, then 403 and no file is kept', async (what, withToken) => {
    const entry = await createEntry(t, school.token);
    const url = what.includes('URL') ? `/entries/${entry.id}/video?_csrf=${encodeURIComponent(csrf)}` : `/entries/${entry.id}/video`;
    const res = await withToken(post(url)).attach('video', clip, '合唱.mp4');
    expect(res.status).toBe(403);
    expect(res.text).toContain('页面已过期');
    expect(await currentVideo(t, entry.id)).toBeUndefined();
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });

  test('when the token field comes after the file, then 403 — the check is made when the file part begins', async () => {
    const entry = await createEntry(t, school.token);
    const res = await post(`/entries/${entry.id}/video`).attach('video', clip, '合唱.mp4').field('_csrf', csrf);
    expect(res.status).toBe(403);
    expect(await currentVideo(t, entry.id)).toBeUndefined();
  });

  /**
   * Streams a no-JS upload by hand: the `_csrf` field, then the file's first half; looks into the
   * upload temp dir while the second half has not been sent; then sends the rest.
   */
  async function halfwayUpload(entryId: string, token: string): Promise<{ fileOnDiskMidway: boolean; status: number }> {
    const server = await listen(t);
    try {
      const boundary = '----cxcsrf';
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const req = http.request(`${server.baseUrl}/entries/${entryId}/video`, {
        method: 'POST',
        headers: {
          Cookie: cookie,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': String(head.length + clip.length + tail.length),
        },
      });
      const answer = new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
      const half = Math.floor(clip.length / 2);
      req.write(Buffer.concat([head, clip.subarray(0, half)]));
      let fileOnDiskMidway = false;
      for (let i = 0; i < 20 && !fileOnDiskMidway; i++) {
        await new Promise((r) => setTimeout(r, 50));
        fileOnDiskMidway = (await uploadTempFiles(t)).length > 0;
      }
      req.end(Buffer.concat([clip.subarray(half), tail]));
      const res = await answer;
      res.resume();
      return { fileOnDiskMidway, status: res.statusCode! };
    } finally {
      await server.close();
    }
  }

  test('when a no-JS upload with a wrong token streams its file, then nothing is written while it streams and the answer is 403', async () => {
    // The probe sees a file being written when the token is right…
    const good = await createEntry(t, school.token);
    expect(await halfwayUpload(good.id, csrf)).toEqual({ fileOnDiskMidway: true, status: 303 });
    // …and none when it is wrong: the check came before the file part was stored.
    const bad = await createEntry(t, school.token);
    expect(await halfwayUpload(bad.id, 'not-the-token')).toEqual({ fileOnDiskMidway: false, status: 403 });
    expect(await currentVideo(t, bad.id)).toBeUndefined();
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });

  test('when a script sends the token in the X-CSRF-Token header, then the multipart upload is taken', async () => {
    const entry = await createEntry(t, school.token);
    const res = await request(t.app)
      .post(`/api/v1/entries/${entry.id}/video`)
      .set('Cookie', cookie)
      .set('X-CSRF-Token', csrf)
      .attach('video', clip, '合唱.mp4');
    expect(res.status).toBe(202);
  });

  test('when a multipart body carrying a valid _csrf field goes to a route that is not an upload form, then 403 (its fields are never read)', async () => {
    const entry = await createEntry(t, school.token);
    const res = await post(`/entries/${entry.id}/withdraw`).field('_csrf', csrf).field('x', '1');
    expect(res.status).toBe(403);
  });

  test('when the school import form posts the token as its first field, then the schools are imported; without it, 403 and none is', async () => {
    const { agent, csrf: adminCsrf } = await t.browser('admin');
    const csv = (name: string) => Buffer.from(`学校名称,所属县区\n${name},离石区\n`);
    await agent.post('/org/schools/import').attach('file', csv('令牌缺失小学'), 'a.csv').expect(403);
    await agent.post('/org/schools/import').field('_csrf', adminCsrf).attach('file', csv('令牌表单小学'), 'b.csv').expect(303);
    const names = (await t.container.database.db.selectFrom('schools').select('name').where('name', 'in', ['令牌缺失小学', '令牌表单小学']).execute()).map(
      (r) => r.name,
    );
    expect(names).toEqual(['令牌表单小学']);
  });
});
