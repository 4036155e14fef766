/**
 * The same upload → ingest → preview path with the S3 object store (s3rver): the original and the
 * outputs live in the bucket, and the preview is served by a redirect to a presigned URL that a
 * browser can fetch directly, with Range for seeking.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createObjectStore } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage/object-store';
import { makeClip } from '../../support/clips';
import { createTestApp, type TestApp } from '../../support/app';
import { bucketKeys, startS3rver, type S3rverHandle } from '../../support/s3';
import { createEntry, ffprobe, schoolWithToken, uploadFile, waitForEmptyTemp, waitForVideo, type SchoolAccount } from '../../support/entries';

jest.setTimeout(60_000);

let s3: S3rverHandle;
let store: ObjectStore;
let t: TestApp;
let school: SchoolAccount;
let dir: string;
let entryId: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cx-s3-pipeline-'));
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
  school = await schoolWithToken(t);
  t.container.startWorker();
  entryId = (await createEntry(t, school.token)).id;
  await uploadFile(t, school.token, entryId, await makeClip('landscape', dir)).expect(202);
});

afterAll(async () => {
  await t?.close();
  await store?.close();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('when a school uploads the landscape clip with the S3 store, then the video becomes ready and the original, preview and poster are in the bucket', async () => {
  const video = await waitForVideo(t, entryId, { timeoutMs: 45_000 });
  expect(video.status).toBe('ready');
  expect(await bucketKeys(s3)).toEqual([`originals/${entryId}/${video.id}`, `posters/${video.id}.jpg`, `previews/${video.id}.mp4`]);
  expect(await waitForEmptyTemp(t)).toEqual([]);
});

describe('when the client asks for the preview', () => {
  let location: string;
  beforeAll(async () => {
    await waitForVideo(t, entryId, { timeoutMs: 45_000 });
    const res = await request(t.app).get(`/api/v1/entries/${entryId}/preview`).set(school.auth).redirects(0).expect(302);
    location = res.headers.location!;
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('then it is redirected to a presigned URL on the store whose bytes are an H.264 video', async () => {
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/previews/`)).toBe(true);
    expect(location).toMatch(/X-Amz-Signature=/);
    const res = await fetch(location);
    expect(res.status).toBe(200);
    const file = path.join(dir, 'preview.mp4');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const probe = await ffprobe(file);
    const v = probe.streams.find((s) => s.codec_type === 'video')!;
    expect(v.codec_name).toBe('h264');
    expect(v.width!).toBeGreaterThan(v.height!);
  });

  test('then a Range request through the presigned URL gives 206 and exactly 100 bytes', async () => {
    const res = await fetch(location, { headers: { Range: 'bytes=0-99' } });
    expect(res.status).toBe(206);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(100);
    expect(res.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect(bytes.toString('latin1', 4, 8)).toBe('ftyp');
  });

  test('then the poster is redirected the same way and is a JPEG', async () => {
    const res = await request(t.app).get(`/api/v1/entries/${entryId}/poster`).set(school.auth).redirects(0).expect(302);
    const poster = Buffer.from(await (await fetch(res.headers.location!)).arrayBuffer());
    expect([...poster.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  test('then another school gets 404 and no URL', async () => {
    const other = await schoolWithToken(t);
    const res = await request(t.app).get(`/api/v1/entries/${entryId}/preview`).set(other.auth).redirects(0).expect(404);
    expect(res.headers.location).toBeUndefined();
  });
});
