import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import request from 'supertest';
import { createObjectStore } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage/object-store';
import { createTestApp, type TestApp } from '../../support/app';
import { objectKeys } from '../../../src/platform/storage/object-keys';
import { attachReadyVideo, createEntry, schoolWithToken } from '../../support/factories';
import { startS3rver, type S3rverHandle } from '../../support/s3';

/**
 * Issue 13 item 1 with the S3 store: a presigned URL names the storage key (`previews/<videoId>.mp4`,
 * an id the school, county and TV see), so a blind round's judge gets the bytes streamed under the
 * assignment's URL and the round's label instead; a non-blind round may still redirect.
 */
describe('judge media with the S3 store', () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  let t: TestApp;
  let admin: string;
  let periodId: string;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = createObjectStore({
      kind: 's3',
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
    });
    t = await createTestApp({ store });
    admin = await t.token('admin');
    periodId = (await t.container.campaign.listPeriods())[0].id;
  });
  afterAll(async () => {
    await t?.close();
    await store?.close();
    await s3?.stop();
  });

  async function judgeOf(blind: boolean) {
    const school = await schoolWithToken(t, null);
    const entry = await createEntry(t, school.token);
    const videoId = await attachReadyVideo(t, entry.id);
    const bytes = randomBytes(4096);
    await store.putStream(objectKeys.preview(videoId), Readable.from([bytes]), { contentType: 'video/mp4' });
    await request(t.app).post(`/api/v1/entries/${entry.id}/submit`).set('Authorization', `Bearer ${school.token}`).expect(200);
    const as = (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${admin}`).send(body);
    const round = (await as('/api/v1/rounds', { name: blind ? '匿名' : '实名', periodId, judgesPerEntry: 1, blind, aggregation: 'mean' }).expect(201)).body.id;
    await as(`/api/v1/rounds/${round}/entries`, { entryIds: [entry.id] }).expect(200);
    const judge = await t.createUser('judge', { countyId: null });
    await as(`/api/v1/rounds/${round}/judges`, { userIds: [judge.id] }).expect(200);
    await as(`/api/v1/rounds/${round}/assign`).expect(200);
    await as(`/api/v1/rounds/${round}/open`).expect(200);
    const token = await t.token(judge.username);
    const [a] = (await request(t.app).get('/api/v1/judging/assignments').set('Authorization', `Bearer ${token}`).expect(200)).body;
    return { token, a, videoId, entry, bytes };
  }

  test('when a blind round’s judge fetches the preview, then the bytes come from the app under the label, with no redirect naming the video', async () => {
    const { token, a, videoId, entry, bytes } = await judgeOf(true);
    const res = await request(t.app)
      .get(a.entry.previewUrl)
      .set('Authorization', `Bearer ${token}`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
    expect(res.headers['content-disposition']).toBe(`inline; filename="${a.entry.label}.mp4"; filename*=UTF-8''${a.entry.label}.mp4`);
    expect(JSON.stringify(res.headers)).not.toContain(videoId);
    expect(JSON.stringify(res.headers)).not.toContain(entry.code);
  });

  test('when a non-blind round’s judge fetches the preview, then it may go straight to the store (302 to a presigned URL)', async () => {
    const { token, a } = await judgeOf(false);
    const res = await request(t.app).get(a.entry.previewUrl).set('Authorization', `Bearer ${token}`).redirects(0);
    expect(res.status).toBe(302);
    expect(res.headers.location).toContain('previews/');
  });
});
