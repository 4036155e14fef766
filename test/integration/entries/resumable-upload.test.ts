import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { buildApp } from '../../../src/app';
import { createContainer } from '../../../src/container';
import { createLogger } from '../../../src/platform/logger';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip } from '../../support/clips';
import { createEntry, currentVideo, drainQueue, listFiles, listen, schoolWithToken, sleep, storedOriginal, type SchoolAccount } from '../../support/entries';
import {
  b64,
  cutPatch,
  sha256,
  TUS,
  tusCreate as create,
  tusHead as head,
  tusMetadata as meta,
  tusOffset as offsetOf,
  tusPatch as patch,
} from '../../support/tus';

/**
 * Resumable uploads (tus 1.0 at /api/v1/uploads): interrupted uploads end byte-identical and
 * ingested (one of them across an app restart on the same data dir and database), ownership and
 * bad-header refusals, the expiry sweep and the per-school cap.
 */
jest.setTimeout(120_000);

describe('resumable uploads (tus)', () => {
  let t: TestApp;
  let clips: string;
  let clip: Buffer;
  let school: SchoolAccount;

  beforeAll(async () => {
    clips = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-tus-'));
    t = await createTestApp({ env: { MAX_VIDEO_BYTES: String(50 * 1024 ** 2), SCHOOL_UPLOAD_CAP_BYTES: String(120 * 1024 ** 2) } });
    clip = fs.readFileSync(await makeClip('landscape', clips));
    school = await schoolWithToken(t);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(clips, { recursive: true, force: true });
  });

  test('an upload cut at three random offsets, with an app restart in between, ends byte-identical and ingested', async () => {
    const entry = await createEntry(t, school.token);
    const created = await create(t.app, school.token, entry.id, clip.length).expect(201);
    const location = created.headers.location as string;
    expect(location).toMatch(/^\/api\/v1\/uploads\/[0-9a-f]{32}$/);
    expect(created.headers['upload-expires']).toBeTruthy();

    // Three cuts at random offsets, the last one after the restart; a failure names them for a replay.
    const fractions = [0.05 + Math.random() * 0.25, 0.35 + Math.random() * 0.25, 0.65 + Math.random() * 0.3];
    const [cut1, cut2, cut3] = fractions.map((f) => Math.floor(clip.length * f)) as [number, number, number];
    const failWithCuts = (err: unknown): never => {
      if (err instanceof Error) err.message += `\n(cuts at ${fractions.map((f) => f.toFixed(3)).join(', ')} of ${clip.length} bytes)`;
      throw err;
    };
    const first = await listen(t);
    let offset = 0;
    try {
      for (const cut of [cut1, cut2]) {
        await cutPatch(first.baseUrl, school.token, location, offset, clip.subarray(offset), cut - offset);
        const now = await offsetOf(t.app, school.token, location);
        expect(now).toBeGreaterThan(offset);
        expect(now).toBeLessThanOrEqual(cut);
        offset = now;
      }
    } catch (err) {
      failWithCuts(err);
    } finally {
      await first.close();
    }

    // "Restart": a new container and app on the same DATA_DIR and database; the upload state is on disk.
    const again = await createContainer(t.config, { database: t.testDb.database, logger: createLogger('silent') });
    const app2 = buildApp(again);
    offset = await offsetOf(app2, school.token, location);
    expect(offset).toBeGreaterThan(0);
    const second = await listen({ app: app2 });
    try {
      await cutPatch(second.baseUrl, school.token, location, offset, clip.subarray(offset), Math.max(1, cut3 - offset));
      offset = await offsetOf(app2, school.token, location);
      // a stale offset is refused, the stored offset unchanged
      await patch(app2, school.token, location, Math.max(0, offset - 10), clip.subarray(Math.max(0, offset - 10))).expect(409);
      const done = await patch(app2, school.token, location, offset, clip.subarray(offset)).expect(204);
      expect(Number(done.headers['upload-offset'])).toBe(clip.length);
    } catch (err) {
      failWithCuts(err);
    } finally {
      await second.close();
    }

    // handed to the same ingest path; the tus file and its JSON are gone
    expect(await listFiles(t.config.uploads.tusDir)).toEqual([]);
    expect((await currentVideo(t, entry.id))!.status).toBe('processing');
    expect(sha256(await storedOriginal(t, entry.id))).toBe(sha256(clip));
    await drainQueue(t, { timeoutMs: 60_000 });
    const video = (await currentVideo(t, entry.id))!;
    expect(video.status).toBe('ready');
    expect(Number(video.size_bytes)).toBe(clip.length);
    expect(video.original_name).toBe('合唱.mp4');
    await head(t.app, school.token, location).expect(404);
  });

  test('only the owner sees an upload; others get 404 on HEAD, PATCH and DELETE', async () => {
    const entry = await createEntry(t, school.token);
    const location = (await create(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    await patch(t.app, school.token, location, 0, clip.subarray(0, 1000)).expect(204);

    const other = await schoolWithToken(t);
    const county = await t.token((await t.createUser('county')).username);
    const judge = await t.token((await t.createUser('judge')).username);
    for (const token of [other.token, county, judge]) {
      await head(t.app, token, location).expect(404);
      await patch(t.app, token, location, 1000, clip.subarray(1000, 2000)).expect(404);
      await request(t.app).delete(location).set(TUS).set('Authorization', `Bearer ${token}`).expect(404);
    }
    await request(t.app).head(location).set(TUS).expect(401);
    expect(await offsetOf(t.app, school.token, location)).toBe(1000);

    // another school's entry, or an entry already submitted, cannot be the target of a new upload
    const otherEntry = await createEntry(t, other.token);
    const refused = await create(t.app, school.token, otherEntry.id, clip.length);
    expect([403, 404]).toContain(refused.status);
    // owner fields sent by the client are ignored: the server writes its own
    const forged = await request(t.app)
      .post('/api/v1/uploads')
      .set(TUS)
      .set('Authorization', `Bearer ${other.token}`)
      .set('Upload-Length', '10')
      .set('Upload-Metadata', meta({ entryId: otherEntry.id, filename: 'a.mp4', ownerId: school.id, schoolId: school.schoolId }))
      .expect(201);
    await head(t.app, school.token, forged.headers.location as string).expect(404);
    const h = await head(t.app, other.token, forged.headers.location as string).expect(200);
    expect(h.headers['upload-metadata']).toContain(`ownerId ${b64(other.id)}`);

    // the owner may cancel
    await request(t.app).delete(location).set(TUS).set('Authorization', `Bearer ${school.token}`).expect(204);
    await head(t.app, school.token, location).expect(404);
  });

  test('bad ids, lengths and headers are refused', async () => {
    const entry = await createEntry(t, school.token);
    for (const bad of ['%2Fetc%2Fpasswd', 'abc%00def', '..', '..%2F..%2Fobjects', 'a'.repeat(32), `${'0'.repeat(31)}%2F`]) {
      const res = await request(t.app).head(`/api/v1/uploads/${bad}`).set(TUS).set('Authorization', `Bearer ${school.token}`);
      expect([400, 404]).toContain(res.status);
    }
    const tooBig = await create(t.app, school.token, entry.id, 50 * 1024 ** 2 + 1).expect(413);
    expect(tooBig.text).toContain('视频文件太大');
    const noEntry = await request(t.app)
      .post('/api/v1/uploads')
      .set(TUS)
      .set('Authorization', `Bearer ${school.token}`)
      .set('Upload-Length', '10')
      .set('Upload-Metadata', meta({ filename: 'a.mp4' }))
      .expect(400);
    expect(noEntry.text).toContain('entryId');
    await request(t.app)
      .post('/api/v1/uploads')
      .set('Authorization', `Bearer ${school.token}`)
      .set('Upload-Length', '10')
      .set('Upload-Metadata', meta({ entryId: entry.id, filename: 'a.mp4' }))
      .expect(412);
    await request(t.app)
      .get(`/api/v1/uploads/${'0'.repeat(32)}`)
      .set('Authorization', `Bearer ${school.token}`)
      .expect(404);

    // a cookie session needs the CSRF header, like every other state-changing request
    const { agent, csrf } = await t.browser(school.username);
    await agent
      .post('/api/v1/uploads')
      .set(TUS)
      .set('Upload-Length', '10')
      .set('Upload-Metadata', meta({ entryId: entry.id, filename: 'a.mp4' }))
      .expect(403);
    const viaSession = await agent
      .post('/api/v1/uploads')
      .set(TUS)
      .set('X-CSRF-Token', csrf)
      .set('Upload-Length', '10')
      .set('Upload-Metadata', meta({ entryId: entry.id, filename: 'a.mp4' }))
      .expect(201);
    // a body past the declared length
    await agent
      .patch(viaSession.headers.location as string)
      .set(TUS)
      .set('X-CSRF-Token', csrf)
      .set('Upload-Offset', '0')
      .set('Content-Type', 'application/offset+octet-stream')
      .send(Buffer.alloc(11))
      .expect(413);
    // no Access-Control-Allow-Origin for a foreign origin
    const cors = await head(t.app, school.token, viaSession.headers.location as string).set('Origin', 'https://evil.example');
    expect(cors.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('a finished upload that is not a video is refused in Chinese, nothing half-done', async () => {
    const entry = await createEntry(t, school.token);
    const text = Buffer.from('这不是视频，只是一段文字。'.repeat(200));
    const location = (await create(t.app, school.token, entry.id, text.length, 'notes.mp4').expect(201)).headers.location as string;
    const res = await patch(t.app, school.token, location, 0, text);
    expect(res.status).toBe(415);
    expect(res.text).toContain('不是视频文件');
    expect(await currentVideo(t, entry.id)).toBeUndefined();
    expect(await listFiles(t.config.uploads.tusDir)).toEqual(expect.not.arrayContaining([location.split('/').pop()]));
    await head(t.app, school.token, location).expect(404);
    const originals = (await listFiles(path.join(t.dataDir, 'objects'))).filter((f) => f.includes(entry.id));
    expect(originals).toEqual([]);
  });

  test('an abandoned upload expires: the sweep removes its bytes', async () => {
    const entry = await createEntry(t, school.token);
    const location = (await create(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    await patch(t.app, school.token, location, 0, clip.subarray(0, 5000)).expect(204);
    const id = location.split('/').pop()!;
    const jsonPath = path.join(t.config.uploads.tusDir, `${id}.json`);
    expect(fs.existsSync(path.join(t.config.uploads.tusDir, id))).toBe(true);

    // not yet expired: the sweep leaves it
    expect(await t.container.resumableUploads.sweep()).toBe(0);
    // started 25 h ago (UPLOAD_EXPIRY_HOURS defaults to 24)
    const info = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    info.creation_date = new Date(Date.now() - 25 * 3600_000).toISOString();
    fs.writeFileSync(jsonPath, JSON.stringify(info));
    await t.container.db
      .updateTable('resumable_uploads')
      .set({ expires_at: new Date(Date.now() - 3600_000) })
      .where('id', '=', id)
      .execute();
    await head(t.app, school.token, location).expect(410);
    const expired = await patch(t.app, school.token, location, 5000, clip.subarray(5000, 6000)).expect(410);
    expect(expired.text).toContain('24 小时');
    expect(await t.container.resumableUploads.sweep()).toBe(1);
    // its reservation is gone with it
    expect(await t.container.db.selectFrom('resumable_uploads').select('id').where('id', '=', id).execute()).toEqual([]);
    expect(fs.existsSync(path.join(t.config.uploads.tusDir, id))).toBe(false);
    expect(fs.existsSync(jsonPath)).toBe(false);
    await head(t.app, school.token, location).expect(404);
  });

  test("a school's unfinished uploads count against its cap", async () => {
    const capped = await schoolWithToken(t);
    const entry = await createEntry(t, capped.token);
    const mb = 1024 ** 2;
    const a = (await create(t.app, capped.token, entry.id, 45 * mb).expect(201)).headers.location as string;
    await create(t.app, capped.token, entry.id, 45 * mb).expect(201);
    expect(await t.container.resumableUploads.reservedBytes(capped.schoolId)).toBe(90 * mb);
    const refused = await create(t.app, capped.token, entry.id, 45 * mb).expect(413);
    expect(refused.text).toContain('未完成的上传');
    // another school is not affected
    const otherSchool = await schoolWithToken(t);
    await create(t.app, otherSchool.token, (await createEntry(t, otherSchool.token)).id, 45 * mb).expect(201);
    // cancelling one frees its share
    await request(t.app).delete(a).set(TUS).set('Authorization', `Bearer ${capped.token}`).expect(204);
    await create(t.app, capped.token, entry.id, 45 * mb).expect(201);
    await sleep(0);
  });
});
