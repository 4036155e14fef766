import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip } from '../../support/clips';
import { createEntry, drainQueue, schoolWithToken, storedObjects, uploadFile, type SchoolAccount } from '../../support/entries';

/**
 * Replacing a ready video: the ready one stays the entry's video (playable, submittable) until the
 * replacement is ready; a replacement that fails leaves it in place, with the reason shown.
 */
jest.setTimeout(180_000);

describe('replacing a ready video', () => {
  let t: TestApp;
  let school: SchoolAccount;
  let clips: string;

  beforeAll(async () => {
    clips = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-replace-'));
    t = await createTestApp();
    school = await schoolWithToken(t);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(clips, { recursive: true, force: true });
  });

  const getEntry = async (id: string) => (await request(t.app).get(`/api/v1/entries/${id}`).set(school.auth).expect(200)).body;

  test('when a ready video is replaced, then it stays playable until the new one is ready, submitting waits, and then the old files go', async () => {
    const entry = await createEntry(t, school.token);
    await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips)).expect(202);
    await drainQueue(t, { timeoutMs: 60_000 });
    const first = (await getEntry(entry.id)).video;
    expect(first.status).toBe('ready');

    const accepted = await uploadFile(t, school.token, entry.id, await makeClip('portrait', clips), '新版本.mp4').expect(202);
    expect(accepted.body.video).toMatchObject({ id: first.id, status: 'ready' });
    expect(accepted.body.replacement).toMatchObject({ status: 'processing', originalName: '新版本.mp4', error: null });

    // the page shows both: the ready video and the replacement's progress; no submit button yet
    const { agent } = await t.browser(school.username);
    const page = await agent.get(`/entries/${entry.id}`).expect(200);
    expect(page.text).toContain('id="preview-player"');
    expect(page.text).toContain('新上传的视频（新版本.mp4）正在处理');
    expect(page.text).not.toContain('提交到县区教育局</button>');
    const early = await request(t.app).post(`/api/v1/entries/${entry.id}/submit`).set(school.auth).expect(409);
    expect(early.body.detail).toContain('更换的视频还在处理中');

    await drainQueue(t, { timeoutMs: 60_000 });
    const after = await getEntry(entry.id);
    expect(after.video).toMatchObject({ status: 'ready', originalName: '新版本.mp4' });
    expect(after.video.id).not.toBe(first.id);
    expect(after.replacement).toBeNull();
    const objects = await storedObjects(t);
    expect(objects.filter((k) => k.includes(first.id))).toEqual([]);
    expect(objects).toEqual(expect.arrayContaining([`originals/${entry.id}/${after.video.id}`, `previews/${after.video.id}.mp4`]));
  });

  test('when the replacement cannot be processed, then the ready video stays, the reason is shown, and the entry can still be submitted', async () => {
    const entry = await createEntry(t, school.token);
    await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips)).expect(202);
    await drainQueue(t, { timeoutMs: 60_000 });
    const ready = (await getEntry(entry.id)).video;

    await uploadFile(t, school.token, entry.id, await makeClip('truncated', clips), '坏文件.mp4').expect(202);
    await drainQueue(t, { timeoutMs: 60_000 });
    const after = await getEntry(entry.id);
    expect(after.video).toMatchObject({ id: ready.id, status: 'ready' });
    expect(after.replacement).toMatchObject({ status: 'failed', originalName: '坏文件.mp4' });
    expect(after.replacement.error).toBeTruthy();

    const { agent } = await t.browser(school.username);
    const page = await agent.get(`/entries/${entry.id}`).expect(200);
    expect(page.text).toContain('新上传的视频（坏文件.mp4）处理失败');
    expect(page.text).toContain('id="preview-player"');
    const submitted = await request(t.app).post(`/api/v1/entries/${entry.id}/submit`).set(school.auth).expect(200);
    expect(submitted.body).toMatchObject({ status: 'submitted', video: { id: ready.id } });
  });

  test('when the first video is still processing and another is uploaded, then the newer one takes its place at once (nothing ready to keep)', async () => {
    const entry = await createEntry(t, school.token);
    const a = await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips), 'a.mp4').expect(202);
    const b = await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips), 'b.mp4').expect(202);
    expect(b.body.video.id).not.toBe(a.body.video.id);
    expect(b.body.video).toMatchObject({ status: 'processing', originalName: 'b.mp4' });
    expect(b.body.replacement).toBeNull();
    await drainQueue(t, { timeoutMs: 60_000 });
    expect((await getEntry(entry.id)).video).toMatchObject({ id: b.body.video.id, status: 'ready' });
  });
});
