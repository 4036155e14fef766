/**
 * Camcorder files through the API and the entry page, as a teacher with a camcorder meets them
 * (issue 15): the AVCHD clip the old pipeline refused (「文件不是视频…」) is taken, its QC names
 * the interlace and the audio track chosen, the upload field offers the camera extensions, and a
 * format still refused (WMV) is named, with how to convert it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { makeCamcorderClip } from '../../support/camcorder-clips';
import { createEntry, currentVideo, schoolWithToken, uploadFile, waitForVideo, type SchoolAccount } from '../../support/entries';
import { TUS, tusMetadata, tusPatch } from '../../support/tus';

jest.setTimeout(90_000);

let t: TestApp;
let school: SchoolAccount;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-camcorder-upload-'));
  t = await createTestApp();
  school = await schoolWithToken(t);
  t.container.startWorker();
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('when a school uploads the AVCHD clip 00001.MTS from its camcorder', () => {
  test('then it is accepted, becomes ready, and the entry page shows the interlace check and offers camera file types', async () => {
    const entry = await createEntry(t, school.token, { title: '摄像机拍摄的合唱' });
    const file = await makeCamcorderClip('avchd-mts', path.join(dir, 'clips'));
    await uploadFile(t, school.token, entry.id, file, '00001.MTS').expect(202);
    const video = await waitForVideo(t, entry.id, { timeoutMs: 60_000 });
    expect(video.status).toBe('ready');
    const shown = await request(t.app).get(`/api/v1/entries/${entry.id}`).set(school.auth).expect(200);
    const checks = shown.body.video.qc.checks as Array<{ name: string; message: string }>;
    expect(checks.find((c) => c.name === 'scan')?.message).toContain('隔行扫描视频（50i，上场优先）');

    const { agent } = await t.browser(school.username);
    const page = await agent.get(`/entries/${entry.id}`).expect(200);
    expect(page.text).toContain('隔行扫描');
    expect(page.text).toMatch(/accept="[^"]*\.mts[^"]*\.mxf/);
    expect(page.text).toContain('MTS/M2TS');
    expect(page.text).not.toContain('（MP4/MOV，');
  });
});

describe('when the camcorder file comes through the resumable (tus) upload the page uses', () => {
  test('then an M2TS named 00000.M2TS (browsers give it no video/* type) is taken and becomes ready', async () => {
    const entry = await createEntry(t, school.token, { title: '断点续传的 M2TS' });
    const bytes = await readFile(await makeCamcorderClip('avchd-m2ts', path.join(dir, 'clips')));
    const created = await request(t.app)
      .post('/api/v1/uploads')
      .set(TUS)
      .set('Authorization', `Bearer ${school.token}`)
      .set('Upload-Length', String(bytes.length))
      .set('Upload-Metadata', tusMetadata({ entryId: entry.id, filename: '00000.M2TS', filetype: 'application/octet-stream' }))
      .expect(201);
    const half = Math.floor(bytes.length / 2);
    await tusPatch(t.app, school.token, created.headers.location as string, 0, bytes.subarray(0, half)).expect(204);
    await tusPatch(t.app, school.token, created.headers.location as string, half, bytes.subarray(half)).expect(204);
    const video = await waitForVideo(t, entry.id, { timeoutMs: 60_000 });
    expect(video.status).toBe('ready');
    expect(video.original_name).toBe('00000.M2TS');
  });
});

describe('when the camcorder file has a silent first audio track plus timecode and subtitles', () => {
  test('then the entry shows which audio track is used', async () => {
    const entry = await createEntry(t, school.token, { title: '多音轨' });
    await uploadFile(t, school.token, entry.id, await makeCamcorderClip('extra-tracks', path.join(dir, 'clips')), 'MVI_0001.MOV').expect(202);
    expect((await waitForVideo(t, entry.id, { timeoutMs: 60_000 })).status).toBe('ready');
    const { agent } = await t.browser(school.username);
    const page = await agent.get(`/entries/${entry.id}`).expect(200);
    expect(page.text).toContain('音轨');
    expect(page.text).toContain('视频有 2 条音轨，使用第 2 条（前 1 条没有声音）');
  });
});

describe('when the upload is a WMV file (a format still refused)', () => {
  test('then 415 names WMV and how to convert it — never 「不是视频」 — and nothing is kept', async () => {
    const entry = await createEntry(t, school.token, { title: 'WMV' });
    const wmv = path.join(dir, 'performance.wmv');
    await writeFile(wmv, Buffer.concat([Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex'), Buffer.alloc(4096, 7)]));
    const res = await uploadFile(t, school.token, entry.id, wmv, 'performance.wmv').expect(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 415, code: 'unsupported_media', title: '不支持的文件格式' });
    expect(res.body.detail).toContain('WMV');
    expect(res.body.detail).toContain('转换为 MP4');
    expect(JSON.stringify(res.body)).not.toContain('不是视频');
    expect(await currentVideo(t, entry.id)).toBeUndefined();
  });
});
