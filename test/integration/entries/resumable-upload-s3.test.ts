/**
 * Resumable uploads with the S3 object store (production): the unfinished upload's bytes live in
 * the bucket (tus/<id>/<first byte>, parts of at most 4 MiB), so a fresh web process continues it
 * without any shared disk, and nothing is left in the bucket or TUS_DIR afterwards.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { buildApp } from '../../../src/app';
import { PART_BYTES } from '../../../src/entries/bucket-tus-store';
import { createContainer } from '../../../src/container';
import { createLogger } from '../../../src/platform/logger';
import { createObjectStore } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage/object-store';
import { createTestApp, type TestApp } from '../../support/app';
import { makeClip } from '../../support/clips';
import {
  createEntry,
  currentVideo,
  drainQueue,
  listFiles,
  listen,
  objectBytes,
  schoolWithToken,
  storedOriginal,
  type SchoolAccount,
} from '../../support/entries';
import { bucketKeys, startS3rver, type S3rverHandle } from '../../support/s3';
import { cutPatch, sha256, TUS, tusCreate as create, tusHead as head, tusOffset as offsetOf, tusPatch as patch } from '../../support/tus';

jest.setTimeout(90_000);

describe('resumable uploads with the S3 object store', () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  let t: TestApp;
  let clips: string;
  let clip: Buffer;
  let school: SchoolAccount;

  beforeAll(async () => {
    clips = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-tus-s3-'));
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
    t = await createTestApp({ store, env: { MAX_VIDEO_BYTES: String(50 * 1024 ** 2) } });
    clip = fs.readFileSync(await makeClip('landscape', clips));
    school = await schoolWithToken(t);
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    fs.rmSync(clips, { recursive: true, force: true });
  });

  const tusKeys = async () => (await bucketKeys(s3)).filter((k) => k.startsWith('tus/'));

  test('when an upload is cut twice and then finished by a fresh process, then the original in the bucket is byte-identical, ingested, and no tus object, part row or file is left', async () => {
    const entry = await createEntry(t, school.token);
    const location = (await create(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    const id = location.split('/').pop()!;
    const cuts = [Math.floor(clip.length * (0.1 + Math.random() * 0.3)), Math.floor(clip.length * (0.5 + Math.random() * 0.3))];
    const first = await listen(t);
    let offset = 0;
    try {
      for (const cut of cuts) {
        await cutPatch(first.baseUrl, school.token, location, offset, clip.subarray(offset), cut - offset);
        const now = await offsetOf(t.app, school.token, location);
        expect(now).toBeGreaterThan(offset);
        expect(now).toBeLessThanOrEqual(cut);
        offset = now;
      }
    } finally {
      await first.close();
    }
    // the bytes so far are in the bucket, in parts, listed in the database
    const parts = await t.container.db
      .selectFrom('resumable_upload_parts')
      .select(['start_byte', 'size_bytes'])
      .where('upload_id', '=', id)
      .orderBy('start_byte')
      .execute();
    expect(parts.map((p) => Number(p.start_byte))[0]).toBe(0);
    expect(parts.reduce((n, p) => n + Number(p.size_bytes), 0)).toBe(offset);
    expect(await tusKeys()).toEqual(parts.map((p) => `tus/${id}/${String(p.start_byte).padStart(16, '0')}`));
    expect(await listFiles(t.config.uploads.tusDir)).toEqual([]);

    // another web process (same database and bucket, its own empty disk) continues from the stored offset
    const other = await createContainer(
      { ...t.config, uploads: { ...t.config.uploads, tusDir: path.join(clips, 'elsewhere') } },
      { database: t.testDb.database, store, logger: createLogger('silent') },
    );
    const app2 = buildApp(other);
    expect(await offsetOf(app2, school.token, location)).toBe(offset);
    await patch(app2, school.token, location, Math.max(0, offset - 10), clip.subarray(Math.max(0, offset - 10))).expect(409);
    const done = await patch(app2, school.token, location, offset, clip.subarray(offset)).expect(204);
    expect(Number(done.headers['upload-offset'])).toBe(clip.length);

    expect(sha256(await storedOriginal(t, entry.id))).toBe(sha256(clip));
    expect(await tusKeys()).toEqual([]);
    expect(await t.container.db.selectFrom('resumable_upload_parts').selectAll().execute()).toEqual([]);
    expect(await listFiles(t.config.uploads.tmpDir)).toEqual([]);
    await head(app2, school.token, location).expect(404);

    await drainQueue(t, { timeoutMs: 60_000 });
    expect((await currentVideo(t, entry.id))!.status).toBe('ready');
  });

  test('when one PATCH is larger than a part (4 MiB), then it is committed as 4 MiB parts (the last one shorter), in order, together byte-identical', async () => {
    const entry = await createEntry(t, school.token);
    const body = crypto.randomBytes(12 * 1024 ** 2 + 12345);
    // one byte more than sent: the upload stays unfinished, so its parts can be read back
    const location = (await create(t.app, school.token, entry.id, body.length + 1).expect(201)).headers.location as string;
    await patch(t.app, school.token, location, 0, body).expect(204);
    const id = location.split('/').pop()!;
    const parts = await t.container.db
      .selectFrom('resumable_upload_parts')
      .select(['start_byte', 'size_bytes'])
      .where('upload_id', '=', id)
      .orderBy('start_byte')
      .execute();
    expect(parts.map((p) => Number(p.size_bytes))).toEqual([PART_BYTES, PART_BYTES, PART_BYTES, 12345]);
    const stored = Buffer.concat(await Promise.all(parts.map((p) => objectBytes(store, `tus/${id}/${String(p.start_byte).padStart(16, '0')}`))));
    expect(sha256(stored)).toBe(sha256(body));
    await request(t.app).delete(location).set(TUS).set('Authorization', `Bearer ${school.token}`).expect(204);
    expect(await tusKeys()).toEqual([]);
  });

  test('when a teacher cancels an upload, or it expires, then its objects in the bucket are removed', async () => {
    const entry = await createEntry(t, school.token);
    const cancelled = (await create(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    await patch(t.app, school.token, cancelled, 0, clip.subarray(0, 5000)).expect(204);
    const expired = (await create(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    await patch(t.app, school.token, expired, 0, clip.subarray(0, 7000)).expect(204);
    expect(await tusKeys()).toHaveLength(2);

    await request(t.app).delete(cancelled).set(TUS).set('Authorization', `Bearer ${school.token}`).expect(204);
    expect(await tusKeys()).toEqual([`tus/${expired.split('/').pop()}/${'0'.padStart(16, '0')}`]);

    // The cancelled upload's reservation is released just after the 204 (tus's POST_TERMINATE event).
    const cancelledId = cancelled.split('/').pop()!;
    for (let i = 0; i < 50 && (await t.container.db.selectFrom('resumable_uploads').select('id').where('id', '=', cancelledId).executeTakeFirst()); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }

    await t.container.db
      .updateTable('resumable_uploads')
      .set({ expires_at: new Date(Date.now() - 3600_000) })
      .execute();
    expect(await t.container.resumableUploads.sweep()).toBe(1);
    expect(await tusKeys()).toEqual([]);
    expect(await t.container.db.selectFrom('resumable_uploads').selectAll().execute()).toEqual([]);
  });

  // Last: it stops the bucket.
  test('when the bucket is down, then a PATCH answers 503 in Chinese (the page retries) and the stored offset stays where it was', async () => {
    const entry = await createEntry(t, school.token);
    const location = (await create(t.app, school.token, entry.id, clip.length).expect(201)).headers.location as string;
    await patch(t.app, school.token, location, 0, clip.subarray(0, 4000)).expect(204);
    await s3.stop();
    const refused = await patch(t.app, school.token, location, 4000, clip.subarray(4000, 9000));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.text).toContain('文件存储暂时不可用');
    expect(await offsetOf(t.app, school.token, location)).toBe(4000);
  });
});
