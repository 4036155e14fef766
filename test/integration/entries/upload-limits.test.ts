/**
 * The upload endpoint under hostile or broken input (docs/security.md Uploads 1–4) and the replace /
 * ownership / state rules around it. Bodies are sent with raw http requests where supertest would
 * hide what the server does (lengths, chunking, disconnects).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { makeClip } from '../../support/clips';
import { createTestApp, type TestApp } from '../../support/app';
import {
  createEntry,
  currentVideo,
  drainQueue,
  listen,
  schoolWithToken,
  sleep,
  storedObjects,
  storeTempFiles,
  uploadFile,
  waitForEmptyTemp,
  type SchoolAccount,
} from '../../support/entries';

jest.setTimeout(60_000);

const MAX_BYTES = 1_000_000;

let t: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
let school: SchoolAccount;
let clips: string;
let landscape: Buffer;

beforeAll(async () => {
  clips = await mkdtemp(path.join(tmpdir(), 'cx-upload-limits-'));
  t = await createTestApp({ env: { MAX_VIDEO_BYTES: String(MAX_BYTES) } });
  server = await listen(t);
  school = await schoolWithToken(t);
  landscape = await readFile(await makeClip('landscape', clips));
  expect(landscape.length).toBeLessThan(MAX_BYTES);
});

afterAll(async () => {
  await server?.close();
  await t?.close();
  await rm(clips, { recursive: true, force: true });
});

const db = () => t.container.database.db;
const videoRows = (entryId: string) => db().selectFrom('videos').selectAll().where('entry_id', '=', entryId).execute();

/** A multipart body with one file part named `video` (bytes and file name exactly as given). */
function multipart(file: Buffer, filename = 'clip.mp4', boundary = `----cx${randomBytes(8).toString('hex')}`) {
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="${filename}"\r\nContent-Type: video/mp4\r\n\r\n`, 'utf8');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, file, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A file that passes the magic-byte check (ftyp box first) of exactly `size` bytes. */
function fakeMp4(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x61);
  landscape.copy(bytes, 0, 0, Math.min(32, size));
  return bytes;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a request with full control of headers and body framing. The server may answer (413) and
 * close before the body is fully sent: EPIPE/ECONNRESET after a response are expected, not errors.
 */
function raw(opts: { path: string; headers: Record<string, string | number>; chunks: Buffer[]; chunked?: boolean }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered: RawResponse | undefined;
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: 'POST', path: opts.path, headers: { ...opts.headers, Connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          answered = { status: res.statusCode!, headers: res.headers, body };
          resolve(answered);
        });
        res.on('error', () => answered ?? resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', (err) => {
      // the server answered and hung up while we were still writing
      setTimeout(() => (answered ? resolve(answered) : reject(err)), 200);
    });
    if (opts.chunked) req.setHeader('Transfer-Encoding', 'chunked');
    (async () => {
      for (const chunk of opts.chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r).once('close', r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

/** Uploads through a raw request: the server may answer (404/409) before reading the body and hang up. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read field by field
async function rawUpload(entryId: string, file: Buffer, auth: { Authorization: string }, filename = 'clip.mp4'): Promise<RawResponse & { json: any }> {
  const { body, contentType } = multipart(file, filename);
  const res = await raw({
    path: `/api/v1/entries/${entryId}/video`,
    headers: { ...auth, 'Content-Type': contentType, 'Content-Length': body.length },
    chunks: [body],
  });
  return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
}

async function expectNothingKept(entryId: string) {
  expect(await videoRows(entryId)).toEqual([]);
  expect((await storedObjects(t)).filter((k) => k.includes(entryId))).toEqual([]);
  expect(await storeTempFiles(t)).toEqual([]);
  expect(await waitForEmptyTemp(t)).toEqual([]);
}

describe('size limits (docs/security.md Uploads 1)', () => {
  test('when the file is one byte over MAX_VIDEO_BYTES, then the answer is 413 payload_too_large in Chinese, and no temp file or row is left', async () => {
    const entry = await createEntry(t, school.token);
    const { body, contentType } = multipart(fakeMp4(MAX_BYTES + 1));
    const res = await raw({
      path: `/api/v1/entries/${entry.id}/video`,
      headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': body.length },
      chunks: [body],
    });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'payload_too_large', status: 413, detail: expect.stringMatching(/视频文件不能超过/) });
    await expectNothingKept(entry.id);
  });

  test('when the file is exactly MAX_VIDEO_BYTES, then it gets past the size limit (and is judged by its content)', async () => {
    const entry = await createEntry(t, school.token);
    const { body, contentType } = multipart(Buffer.concat([landscape, Buffer.alloc(MAX_BYTES - landscape.length)]));
    const res = await raw({
      path: `/api/v1/entries/${entry.id}/video`,
      headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': body.length },
      chunks: [body],
    });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body).video.sizeBytes).toBe(MAX_BYTES);
  });

  test('when Content-Length claims far more than the limit, then 413 comes before the body is read, and nothing is kept', async () => {
    const entry = await createEntry(t, school.token);
    const { body, contentType } = multipart(fakeMp4(1000));
    // the declared length is a lie: the client only has a small body and waits for the answer
    const res = await new Promise<RawResponse>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: `/api/v1/entries/${entry.id}/video`,
          headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': 50 * 1024 ** 3 },
        },
        (r) => {
          let text = '';
          r.on('data', (c) => (text += c));
          r.on('end', () => {
            resolve({ status: r.statusCode!, headers: r.headers, body: text });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      req.write(body);
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).code).toBe('payload_too_large');
    await expectNothingKept(entry.id);
  });

  test('when a chunked body with no length grows past the limit, then 413 payload_too_large, and nothing is kept', async () => {
    const entry = await createEntry(t, school.token);
    const { body, contentType } = multipart(fakeMp4(3 * MAX_BYTES));
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; at += 64 * 1024) chunks.push(body.subarray(at, at + 64 * 1024));
    const res = await raw({ path: `/api/v1/entries/${entry.id}/video`, headers: { ...school.auth, 'Content-Type': contentType }, chunks, chunked: true });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).code).toBe('payload_too_large');
    await expectNothingKept(entry.id);
  });
});

describe('clients that go away (docs/security.md Uploads 2)', () => {
  test('when 20 clients disconnect half-way through their upload, then the server stays up, the temp dir is empty again and no row is written', async () => {
    const entry = await createEntry(t, school.token);
    const { body, contentType } = multipart(landscape);
    const half = body.subarray(0, Math.floor(body.length / 2));
    await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<void>((resolve) => {
            const req = http.request({
              host: '127.0.0.1',
              port: server.port,
              method: 'POST',
              path: `/api/v1/entries/${entry.id}/video`,
              headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': body.length },
            });
            req.on('error', () => resolve());
            req.on('close', () => resolve());
            req.write(half, () => setTimeout(() => req.destroy(), 100));
          }),
      ),
    );
    expect(await waitForEmptyTemp(t, 10_000)).toEqual([]);
    expect(await videoRows(entry.id)).toEqual([]);
    // still serving, and the next real upload works
    await request(t.app).get('/healthz').expect(200);
    await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips)).expect(202);
    expect(await videoRows(entry.id)).toHaveLength(1);
  });
});

describe('malformed multipart (docs/security.md Uploads 3)', () => {
  let entryId: string;
  beforeAll(async () => {
    entryId = (await createEntry(t, school.token)).id;
  });
  const send = (contentType: string, body: Buffer | string) =>
    raw({
      path: `/api/v1/entries/${entryId}/video`,
      headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) },
      chunks: [Buffer.from(body)],
    });

  test.each([
    ['no boundary', 'multipart/form-data', '--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n\r\nabc\r\n--x--\r\n'],
    [
      'a broken part header',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition form-data name video\r\nthis is not a header\r\n\r\nabc\r\n--x--\r\n',
    ],
    ['an end inside a part', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n\r\nabc'],
    [
      'a NUL byte in the file name',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="video"; filename="a\u0000.mp4"\r\n\r\nabc\r\n--x--\r\n',
    ],
    ['an empty field name', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name=""; filename="a.mp4"\r\n\r\nabc\r\n--x--\r\n'],
    [
      'the file under another field name',
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nabc\r\n--x--\r\n',
    ],
    [
      '10,000 tiny fields',
      'multipart/form-data; boundary=x',
      Array.from({ length: 10_000 }, (_, i) => `--x\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n1\r\n`).join('') + '--x--\r\n',
    ],
    [
      'a deeply nested field name',
      'multipart/form-data; boundary=x',
      `--x\r\nContent-Disposition: form-data; name="a${'[b]'.repeat(10_000)}"\r\n\r\n1\r\n--x--\r\n`,
    ],
    ['not multipart at all', 'application/octet-stream', 'just bytes'],
  ])('when the body has %s, then the answer is 400 (not a crash), and nothing is kept', async (_label, contentType, body) => {
    const res = await send(contentType, body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'validation_failed' });
    await expectNothingKept(entryId);
    await request(t.app).get('/healthz').expect(200);
  });
});

describe('hostile file names (docs/security.md Uploads 4)', () => {
  // These uploads are only checked for how they were received: drop their ingest jobs so the one
  // test that needs a processed video does not wait for all of them.
  afterEach(async () => {
    await db().deleteFrom('jobs').where('status', '=', 'queued').execute();
  });

  test.each([
    ['../../x.mp4', 'x.mp4'],
    ['..%2f..%2fx.mp4', '..%2f..%2fx.mp4'],
    ['C:\\Windows\\evil.mp4', 'evil.mp4'],
    ['a%00.mp4', 'a%00.mp4'],
    ['\u202Egnp.mp4', 'gnp.mp4'],
    ['CON', 'CON'],
    ['.htaccess', '.htaccess'],
  ])('when the file is named %j, then it is stored under a server-generated key and shown cleaned as %j', async (name, shown) => {
    const entry = await createEntry(t, school.token);
    const { body, contentType } = multipart(landscape, name);
    const res = await raw({
      path: `/api/v1/entries/${entry.id}/video`,
      headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': body.length },
      chunks: [body],
    });
    expect({ status: res.status, body: res.status === 202 ? '' : res.body }).toEqual({ status: 202, body: '' });
    const video = JSON.parse(res.body).video;
    expect(video.originalName).toBe(shown);
    const row = (await currentVideo(t, entry.id))!;
    expect(row.original_key).toBe(`originals/${entry.id}/${row.id}`);
    expect(row.original_key).toMatch(/^originals\/[0-9a-f-]{36}\/[0-9a-f-]{36}$/);
    expect((await storedObjects(t)).filter((k) => k.startsWith(`originals/${entry.id}/`))).toEqual([`originals/${entry.id}/${row.id}`]);
  });

  test('when the browser sends a Chinese file name (raw UTF-8, as browsers do), then it is shown as the teacher named it', async () => {
    const entry = await createEntry(t, school.token);
    const res = await rawUpload(entry.id, landscape, school.auth, '六一合唱 第2版.mp4');
    expect(res.status).toBe(202);
    expect(res.json.video.originalName).toBe('六一合唱 第2版.mp4');
  });

  test('when the file name is 1,000 characters, then the shown name is shortened to at most 120 and keeps the extension', async () => {
    const entry = await createEntry(t, school.token);
    const name = `${'长'.repeat(996)}.mp4`;
    const { body, contentType } = multipart(landscape, name);
    const res = await raw({
      path: `/api/v1/entries/${entry.id}/video`,
      headers: { ...school.auth, 'Content-Type': contentType, 'Content-Length': body.length },
      chunks: [body],
    });
    expect(res.status).toBe(202);
    const shown: string = JSON.parse(res.body).video.originalName;
    expect([...shown].length).toBeLessThanOrEqual(120);
    expect(shown.endsWith('长.mp4')).toBe(true);
    expect(shown.startsWith('长长长')).toBe(true);
    expect(shown).toContain('…');
  });

  test('when the file name carries markup, then the entry page shows it escaped', async () => {
    const entry = await createEntry(t, school.token);
    const name = '<img src=x onerror=alert(1)>"&\'.mp4';
    await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips), name).expect(202);
    await drainQueue(t);
    const { agent } = await t.browser(school.username);
    const page = await agent.get(`/entries/${entry.id}`).expect(200);
    expect(page.text).toContain('可预览');
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
  });
});

describe('who may upload, and when', () => {
  test('when a school uploads to another school’s entry, then the answer is 404 and nothing is written', async () => {
    const other = await schoolWithToken(t);
    const entry = await createEntry(t, other.token);
    const objectsBefore = await storedObjects(t);
    const res = await rawUpload(entry.id, landscape, school.auth);
    expect(res.status).toBe(404);
    expect(res.json.code).toBe('not_found');
    expect(await videoRows(entry.id)).toEqual([]);
    expect(await storedObjects(t)).toEqual(objectsBefore);
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });

  test('when the entry id does not exist, then the answer is 404', async () => {
    expect((await rawUpload('00000000-0000-4000-8000-000000000000', landscape, school.auth)).status).toBe(404);
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });

  test('when the entry has been submitted, then a new upload is refused with 409 and the submitted video stays', async () => {
    const entry = await createEntry(t, school.token);
    await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips)).expect(202);
    await drainQueue(t);
    await request(t.app).post(`/api/v1/entries/${entry.id}/submit`).set(school.auth).expect(200);
    const before = (await currentVideo(t, entry.id))!;
    const objectsBefore = await storedObjects(t);
    const res = await rawUpload(entry.id, await readFile(await makeClip('portrait', clips)), school.auth);
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 'invalid_state', detail: expect.stringContaining('撤回') });
    expect((await currentVideo(t, entry.id))!.id).toBe(before.id);
    expect(await videoRows(entry.id)).toHaveLength(1);
    expect(await storedObjects(t)).toEqual(objectsBefore);
    expect(await waitForEmptyTemp(t)).toEqual([]);
  });
});

describe('replacing the video of a draft', () => {
  test('when a new video is uploaded, then the old original stays until the new one is ready, and then the old objects are gone', async () => {
    const entry = await createEntry(t, school.token);
    await uploadFile(t, school.token, entry.id, await makeClip('landscape', clips)).expect(202);
    await drainQueue(t);
    const first = (await currentVideo(t, entry.id))!;
    expect(first.status).toBe('ready');
    const firstObjects = [`originals/${entry.id}/${first.id}`, `posters/${first.id}.jpg`, `previews/${first.id}.mp4`];
    expect(await storedObjects(t)).toEqual(expect.arrayContaining(firstObjects));

    const replaced = await uploadFile(t, school.token, entry.id, await makeClip('portrait', clips)).expect(202);
    // the ready video stays the entry's video while the new one processes (a replacement)
    expect(replaced.body.video).toMatchObject({ id: first.id, status: 'ready' });
    expect(replaced.body.replacement).toMatchObject({ status: 'processing' });
    expect(replaced.body.replacement.id).not.toBe(first.id);
    // while the new one is processing, the old original is still there
    expect(await storedObjects(t)).toEqual(expect.arrayContaining(firstObjects));
    expect((await videoRows(entry.id)).map((v) => v.id).sort()).toEqual([first.id, replaced.body.replacement.id].sort());

    await drainQueue(t);
    const second = (await currentVideo(t, entry.id))!;
    expect(second).toMatchObject({ id: replaced.body.replacement.id, status: 'ready' });
    expect((await videoRows(entry.id)).map((v) => v.id)).toEqual([second.id]);
    const objects = await storedObjects(t);
    for (const key of firstObjects) expect(objects).not.toContain(key);
    expect(objects).toEqual(expect.arrayContaining([`originals/${entry.id}/${second.id}`, `posters/${second.id}.jpg`, `previews/${second.id}.mp4`]));
    const shown = await request(t.app).get(`/api/v1/entries/${entry.id}`).set(school.auth).expect(200);
    expect(shown.body.video.probe.displayHeight).toBeGreaterThan(shown.body.video.probe.displayWidth); // the portrait one
    await sleep(0);
  });
});
