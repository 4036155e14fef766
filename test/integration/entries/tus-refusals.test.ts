import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../../support/factories';
import { TUS, tusCreate, tusOffset, tusPatch } from '../../support/tus';

/**
 * Issue 13 item 7: each tus refusal says its real reason — not the offset-conflict text for a
 * submitted entry, not the 2 GB limit for a PATCH past the declared Upload-Length.
 */
describe('tus refusals say their real reason', () => {
  let t: TestApp;
  let school: Awaited<ReturnType<typeof schoolWithToken>>;
  beforeAll(async () => {
    t = await createTestApp();
    school = await schoolWithToken(t, 'c-lishi');
  });
  afterAll(async () => {
    await t?.close();
  });

  test('when a new upload is started for an entry already submitted, then 409 says the entry is submitted and no upload exists', async () => {
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    await request(t.app).post(`/api/v1/entries/${entry.id}/submit`).set('Authorization', `Bearer ${school.token}`).expect(200);
    const res = await tusCreate(t.app, school.token, entry.id, 1000);
    expect(res.status).toBe(409);
    expect(res.text).toContain('作品已提交，不能更换视频');
    expect(res.text).not.toContain('Upload-Offset');
    expect(res.headers.location).toBeUndefined();
    const rows = await t.container.database.db.selectFrom('resumable_uploads').select('id').where('entry_id', '=', entry.id).execute();
    expect(rows).toEqual([]);
  });

  test('when a PATCH carries more bytes than the declared Upload-Length, then 413 says so (not the 2 GB limit) and nothing is stored', async () => {
    const entry = await createEntry(t, school.token);
    const location = (await tusCreate(t.app, school.token, entry.id, 10).expect(201)).headers.location as string;
    const res = await tusPatch(t.app, school.token, location, 0, Buffer.alloc(11)).expect(413);
    expect(res.text).toContain('超过了开始上传时声明的文件大小（Upload-Length）');
    expect(res.text).not.toContain('2 GB');
    expect(res.text).not.toContain('视频文件太大');
    expect(await tusOffset(t.app, school.token, location)).toBe(0);
  });

  test('when the declared Upload-Length itself is over the limit, then 413 still names the size limit', async () => {
    const entry = await createEntry(t, school.token);
    const res = await tusCreate(t.app, school.token, entry.id, 3 * 1024 ** 3).expect(413);
    expect(res.text).toContain('视频文件太大');
  });

  test('when a PATCH sends a stale offset, then 409 keeps the offset-conflict text', async () => {
    const entry = await createEntry(t, school.token);
    const location = (await tusCreate(t.app, school.token, entry.id, 10).expect(201)).headers.location as string;
    await tusPatch(t.app, school.token, location, 0, Buffer.alloc(4)).expect(204);
    const res = await request(t.app)
      .patch(location)
      .set(TUS)
      .set('Authorization', `Bearer ${school.token}`)
      .set('Upload-Offset', '0')
      .set('Content-Type', 'application/offset+octet-stream')
      .send(Buffer.alloc(2))
      .expect(409);
    expect(res.text).toContain('上传进度与服务器不一致');
  });
});
