import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { createLocalStore, createS3Store, ObjectNotFoundError } from '../../../src/platform/storage';
import type { ObjectStore } from '../../../src/platform/storage';
import { sendObject } from '../../../src/web/send-object';
import type { SendObjectOptions } from '../../../src/web/send-object';
import { startS3rver } from '../../support/s3';
import type { S3rverHandle } from '../../support/s3';

const KEY = 'previews/v1.mp4';
const SIZE = 100_000;

function buildApp(store: ObjectStore, opts: SendObjectOptions): express.Express {
  const app = express();
  app.get('/media/{*key}', async (req: Request, res: Response) => {
    const key = (req.params as { key: string[] }).key.join('/');
    await sendObject(req, res, store, key, opts);
  });
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    res.status(err instanceof ObjectNotFoundError ? 404 : 500).send('error');
  });
  return app;
}

/** superagent would otherwise try to decode video bodies; keep the raw bytes. */
function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  // At parse time superagent hands over the raw IncomingMessage (its typings say Response).
  const stream = res as unknown as http.IncomingMessage;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

/** Buffer.equals, not toEqual: Jest's deep equality walks a 100 kB buffer byte by byte (~1 s). */
function expectSameBytes(actual: unknown, expected: Buffer): void {
  expect(Buffer.isBuffer(actual)).toBe(true);
  expect((actual as Buffer).length).toBe(expected.length);
  expect((actual as Buffer).equals(expected)).toBe(true);
}

describe('sendObject (local store)', () => {
  let rootDir: string;
  let store: ObjectStore;
  let bytes: Buffer;
  const inline: SendObjectOptions = { contentType: 'video/mp4', disposition: 'inline' };

  beforeAll(async () => {
    rootDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cx-send-object-'));
    store = createLocalStore(rootDir);
    bytes = randomBytes(SIZE);
    await store.putStream(KEY, Readable.from([bytes]), { contentType: 'video/mp4' });
  });

  afterAll(async () => {
    await fsp.rm(rootDir, { recursive: true, force: true });
  });

  const get = (opts: SendObjectOptions = inline) => request(buildApp(store, opts)).get(`/media/${KEY}`).buffer(true).parse(binary);

  it('when no Range is sent, then the whole object comes back with safe headers', async () => {
    const res = await get();

    expect(res.status).toBe(200);
    expectSameBytes(res.body, bytes);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-disposition']).toBe('inline');
    expect(res.headers['cache-control']).toBe('private, no-cache');
    expect(res.headers.etag).toMatch(/^".+"$/);
  });

  it.each([
    ['bytes=10-19', 10, 19],
    ['bytes=99990-', 99_990, SIZE - 1],
    ['bytes=-5', SIZE - 5, SIZE - 1],
    ['bytes=-200000', 0, SIZE - 1],
    ['bytes=50000-999999', 50_000, SIZE - 1],
    ['bytes=0-0', 0, 0],
    ['bytes=99000-99999999999999999999', 99_000, SIZE - 1],
  ])('when Range is %s, then 206 with that slice', async (range, start, end) => {
    const res = await get().set('Range', range);

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expectSameBytes(res.body, bytes.subarray(start, end + 1));
  });

  it.each(['bytes=100000-', 'bytes=200000-200010', 'bytes=-0', 'bytes=99999999999999999999-'])('when Range is %s, then 416 with the size', async (range) => {
    const res = await get().set('Range', range);

    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(res.body).toHaveLength(0);
  });

  it.each(['bytes=0-1,5-6', 'bytes=5-2', 'items=0-1', 'bytes=abc'])(
    'when Range is %s (several or malformed), then the whole object with 200',
    async (range) => {
      const res = await get().set('Range', range);

      expect(res.status).toBe(200);
      expectSameBytes(res.body, bytes);
    },
  );

  it('when If-Range names another version, then the whole object is sent', async () => {
    const res = await get().set('Range', 'bytes=0-9').set('If-Range', '"stale"');

    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(SIZE);
  });

  it('when If-Range names this version, then the range is honoured', async () => {
    const { headers } = await get();

    const res = await get().set('Range', 'bytes=0-9').set('If-Range', String(headers.etag));

    expect(res.status).toBe(206);
    expectSameBytes(res.body, bytes.subarray(0, 10));
  });

  it('when If-None-Match carries the current ETag, then 304 without a body', async () => {
    const { headers } = await get();

    const res = await get().set('If-None-Match', String(headers.etag));

    expect(res.status).toBe(304);
  });

  it('when the method is HEAD, then headers only', async () => {
    const res = await request(buildApp(store, inline)).head(`/media/${KEY}`);

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toEqual({});
  });

  it('when the method is HEAD with a Range, then 206 headers only', async () => {
    const res = await request(buildApp(store, inline)).head(`/media/${KEY}`).set('Range', 'bytes=-10');

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    expect(res.headers['content-length']).toBe('10');
  });

  it('when the download name is Chinese, then an ASCII fallback plus filename* carry it', async () => {
    const res = await get({ contentType: 'video/mp4', disposition: 'attachment', downloadName: '吕梁市实验中学 校歌.mp4' });

    expect(res.headers['content-disposition']).toBe(`attachment; filename="download.mp4"; filename*=UTF-8''${encodeURIComponent('吕梁市实验中学 校歌.mp4')}`);
  });

  it('when the download name is hostile, then it cannot break or add headers', async () => {
    const res = await get({
      contentType: 'video/mp4',
      disposition: 'attachment',
      downloadName: 'evil"\r\nSet-Cookie: sid=1; x="\\..\\a.mp4',
    });

    const header = String(res.headers['content-disposition']);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toMatch(/^attachment; filename="[^"\\]*"; filename\*=UTF-8''[A-Za-z0-9%!#$&+.^_`|~-]+$/);
    expect(header).toContain('filename="evilSet-Cookie: sid=1 x=..a.mp4"');
  });

  it('when the object is missing, then the error handler answers 404', async () => {
    const res = await request(buildApp(store, inline)).get('/media/previews/none.mp4');

    expect(res.status).toBe(404);
  });

  it('when redirect mode is asked of the local store, then it streams instead', async () => {
    const res = await get({ ...inline, redirectToPresigned: true });

    expect(res.status).toBe(200);
    expectSameBytes(res.body, bytes);
  });

  it('when the client goes away mid-transfer, then the source stream is destroyed', async () => {
    await store.putStream('masters/big/h264.mp4', Readable.from([randomBytes(16 * 1024 * 1024)]), {
      contentType: 'video/mp4',
    });
    const sources: Readable[] = [];
    const spying: ObjectStore = {
      ...store,
      get: async (key, range) => {
        const result = await store.get(key, range);
        sources.push(result.body);
        return result;
      },
    };
    const server = buildApp(spying, inline).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    const clientReq = http.get(`http://127.0.0.1:${port}/media/masters/big/h264.mp4`);
    const [clientRes] = (await once(clientReq, 'response')) as [http.IncomingMessage];
    await once(clientRes, 'data');
    clientReq.destroy();

    await waitFor(() => sources.length === 1 && sources[0].destroyed);
    server.close();
    expect(sources[0].destroyed).toBe(true);
  });
});

describe('sendObject (S3 store, redirect mode)', () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  const bytes = randomBytes(SIZE);

  beforeAll(async () => {
    s3 = await startS3rver();
    store = createS3Store({ ...s3, forcePathStyle: true });
    await store.putStream(KEY, Readable.from([bytes]), { contentType: 'video/mp4' });
  });

  afterAll(async () => {
    await store.close();
    await s3.stop();
  });

  it('when redirect mode is on, then 302 to a presigned URL that serves the bytes', async () => {
    const opts: SendObjectOptions = {
      contentType: 'video/mp4',
      disposition: 'attachment',
      downloadName: '校歌.mp4',
      redirectToPresigned: true,
      presignTtlS: 60,
    };

    const res = await request(buildApp(store, opts)).get(`/media/${KEY}`);
    const fetched = await fetch(String(res.headers.location));

    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toMatch(/X-Amz-Expires=60/);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-disposition')).toBe(`attachment; filename="download.mp4"; filename*=UTF-8''${encodeURIComponent('校歌.mp4')}`);
    expectSameBytes(Buffer.from(await fetched.arrayBuffer()), bytes);
  });

  it('when redirect mode is on and the object is missing, then 404 rather than a dead link', async () => {
    const res = await request(buildApp(store, { contentType: 'video/mp4', disposition: 'inline', redirectToPresigned: true })).get('/media/previews/none.mp4');

    expect(res.status).toBe(404);
  });

  it('when streaming from S3, then a range is served through the app', async () => {
    const res = await request(buildApp(store, { contentType: 'video/mp4', disposition: 'inline' }))
      .get(`/media/${KEY}`)
      .set('Range', 'bytes=-100')
      .buffer(true)
      .parse(binary);

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${SIZE - 100}-${SIZE - 1}/${SIZE}`);
    expectSameBytes(res.body, bytes.subarray(SIZE - 100));
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
