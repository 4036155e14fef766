import express from 'express';
import request from 'supertest';
import { createLogger } from '../../src/platform/logger';
import { nameKey, normalizeName } from '../../src/platform/validate';
import { errorHandler } from '../../src/web/error-handler';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';
import { createEntry, schoolWithToken } from '../support/entries';

/**
 * Issue 13 items 5 and 6: one input gate for every route (invalid UTF-8, NUL and other control
 * characters → 400 in Chinese, never 500), and names in one normalised form (NFKC, no invisible
 * or bidi characters) so that look-alike duplicates and reversed names cannot be made.
 */
describe('the input gate', () => {
  let t: TestApp;
  let adminToken: string;
  const asAdmin = () => ({ Authorization: `Bearer ${adminToken}` });
  const db = () => t.container.database.db;

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = await t.token('admin');
  });
  afterAll(async () => {
    await t.close();
  });

  const expectGate400 = (res: request.Response) => {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: '/problems/validation_failed', status: 400, code: 'validation_failed', title: '提交的内容包含无效字符' });
    expect(res.body.detail).toMatch(/[\u4e00-\u9fff]/);
    expect(res.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
  };

  test('when an anonymous caller sends a NUL in the token username, then 400 problem+json in Chinese, not 500', async () => {
    expectGate400(await request(t.app).post('/api/v1/auth/token').send({ username: 'adm\u0000in', password: TEST_PASSWORD }));
  });

  test.each([
    ['a NUL in the query', '/api/v1/schools?q=%00'],
    ['invalid UTF-8 in the query', '/api/v1/schools?q=%C3%28'],
    ['a NUL in a path id', '/api/v1/schools/%00'],
    ['invalid UTF-8 in a path id', '/api/v1/entries/%FF%FE'],
    ['a lone surrogate (CESU) in a path id', '/api/v1/entries/%ED%A0%80'],
    ['a line feed in the query', '/api/v1/schools?q=a%0Ab'],
    ['a C1 control (NEL) in the query', '/api/v1/schools?q=%C2%85'],
    ['DEL in a query key', '/api/v1/schools?%7F=1'],
  ])('when a signed-in caller sends %s, then 400 in Chinese', async (_label, url) => {
    expectGate400(await request(t.app).get(url).set(asAdmin()));
  });

  test('when the tus upload URL carries %00, then 400, not a crash', async () => {
    const res = await request(t.app).head('/api/v1/uploads/%00').set(asAdmin()).set('Tus-Resumable', '1.0.0');
    expect(res.status).toBe(400);
  });

  test('when a JSON body carries a lone surrogate (\\ud800 escape), then 400', async () => {
    const res = await request(t.app)
      .post('/api/v1/schools')
      .set(asAdmin())
      .set('Content-Type', 'application/json')
      .send('{"name":"学校\\ud800","countyId":"c-lishi"}');
    expectGate400(res);
    expect(res.body.errors).toEqual([{ field: 'name', message: '提交的内容包含无效字符' }]);
  });

  test('when a JSON body is not valid UTF-8, then 400 (not silently replaced by U+FFFD)', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"学校'), Buffer.from([0xc3, 0x28]), Buffer.from('","countyId":"c-lishi"}')]);
    const res = await request(t.app)
      .post('/api/v1/schools')
      .set(asAdmin())
      .set('Content-Type', 'application/json')
      .serialize((b: unknown) => b as string)
      .send(body);
    expectGate400(res);
    expect(await db().selectFrom('schools').select('id').where('name', 'like', '学校%').execute()).toEqual([]);
  });

  test('when a key of a JSON body has a control character, then 400', async () => {
    expectGate400(await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '键名小学', 'x\u0001': 1 }));
  });

  test('when a browser form field has a NUL, then the Chinese error page with 400', async () => {
    const res = await request(t.app).post('/login').type('form').set('Accept', 'text/html').send('username=a%00b&password=x');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('提交的内容包含无效字符');
    expect(res.text).not.toMatch(/\n\s+at /);
  });

  test('when a multipart text field has a NUL (school import), then 400 and nothing is imported', async () => {
    const res = await request(t.app)
      .post('/api/v1/schools/import')
      .set(asAdmin())
      .field('note', 'a\u0000b')
      .attach('file', Buffer.from('学校名称,所属县区\n多部件小学,离石区\n'), 'schools.csv');
    expectGate400(res);
    expect(await db().selectFrom('schools').select('id').where('name', '=', '多部件小学').execute()).toEqual([]);
  });

  test('when a multipart text field has a NUL (video upload), then 400', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    const res = await request(t.app)
      .post(`/api/v1/entries/${entry.id}/video`)
      .set(school.auth)
      .field('note', '\u0000')
      .attach('video', Buffer.from('not really a video'), 'v.mp4');
    expectGate400(res);
  });

  test('when a session cookie carries %00, then the caller is simply not signed in (401), not a 500', async () => {
    const res = await request(t.app).get('/api/v1/me').set('Cookie', 'cx_sid=abc%00def');
    expect(res.status).toBe(401);
  });

  test('when a multi-line field (entry description) has tabs and line breaks, then they are kept', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token, { description: '第一段\r\n\t第二段\n第三段' });
    const row = await db().selectFrom('entries').select('description').where('id', '=', entry.id).executeTakeFirstOrThrow();
    expect(row.description).toBe('第一段\r\n\t第二段\n第三段');
  });

  test('when plain Chinese, emoji and the ideographic space are sent, then they pass the gate', async () => {
    const res = await request(t.app)
      .get(`/api/v1/schools?q=${encodeURIComponent('离石　🎵')}`)
      .set(asAdmin());
    expect(res.status).toBe(200);
  });
});

describe('a 500 never carries a stack trace', () => {
  const app = express();
  app.get('/api/v1/boom', () => {
    throw new Error('secret internal detail');
  });
  app.get('/boom', () => {
    throw new Error('secret internal detail');
  });
  app.use(errorHandler(createLogger('silent')));

  test('when a route throws in the API, then 500 problem+json without the message or a stack', async () => {
    const res = await request(app).get('/api/v1/boom');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('unavailable');
    expect(res.text).not.toMatch(/secret internal detail|\n\s+at |Error:/);
  });

  test('when a page throws and even the error page cannot render, then a short Chinese text, no stack', async () => {
    // This bare app has no view engine: the error page itself fails to render.
    const res = await request(app).get('/boom').set('Accept', 'text/html');
    expect(res.status).toBe(500);
    expect(res.text).toContain('服务器');
    expect(res.text).not.toMatch(/secret internal detail|\n\s+at |Error:|\.ts:\d+/);
  });
});

describe('names are normalised (NFKC, no invisible or bidi characters)', () => {
  let t: TestApp;
  let adminToken: string;
  const asAdmin = () => ({ Authorization: `Bearer ${adminToken}` });
  const db = () => t.container.database.db;

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = await t.token('admin');
  });
  afterAll(async () => {
    await t.close();
  });

  test('normalizeName folds full-width letters and digits but keeps Chinese punctuation, strips zero-width and bidi characters, and collapses white space', () => {
    expect(normalizeName('实验小学（东校区）：合唱团！……')).toBe('实验小学（东校区）：合唱团！……');
    expect(nameKey('实验小学（东校区）')).toBe(nameKey('实验小学(东校区)'));
    expect(normalizeName('离石区第一小学\u200b')).toBe('离石区第一小学');
    expect(normalizeName('\u202e学小一第区石离\u202c')).toBe('学小一第区石离');
    expect(normalizeName('ＡＢＣ１２３')).toBe('ABC123');
    expect(normalizeName(' 离石区\u3000\u3000第一\u2066小学\u2069\ufeff ')).toBe('离石区 第一小学');
    expect(normalizeName('\u200b\u200d\u2060')).toBe('');
  });

  test('when 「离石区第一小学\\u200b」 is created next to 「离石区第一小学」, then it is refused as a duplicate and there is one school', async () => {
    await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '离石区第一小学', countyId: 'c-lishi' }).expect(201);
    const dup = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '离石区第一小学\u200b', countyId: 'c-lishi' });
    expect(dup.status).toBe(400);
    expect(dup.body.detail).toContain('已有名为「离石区第一小学」的学校');
    const width = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '实验小学(东校区)', countyId: 'c-lishi' });
    expect(width.status).toBe(201);
    const fullWidth = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '实验小学（东校区）', countyId: 'c-lishi' });
    expect(fullWidth.status).toBe(400);
    expect(fullWidth.body.detail).toContain('已有名为「实验小学（东校区）」的学校');
    const full = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '离石区第一小学\ufeff\u2060', countyId: 'c-lishi' });
    expect(full.status).toBe(400);
    const rows = await db().selectFrom('schools').select('name').where('name', 'like', '离石区第一小学%').execute();
    expect(rows).toEqual([{ name: '离石区第一小学' }]);
  });

  test('when a school is renamed with a right-to-left override, then the stored name has none and reads as typed', async () => {
    const created = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '柳林县实验小学', countyId: 'c-lishi' }).expect(201);
    const res = await request(t.app).patch(`/api/v1/schools/${created.body.id}`).set(asAdmin()).send({ name: '柳林县\u202e学小验实' }).expect(200);
    expect(res.body.name).toBe('柳林县学小验实');
    expect(res.body.name).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  test('when a user is created with a bidi override in the display name and a full-width username, then both are stored normalised', async () => {
    const res = await request(t.app)
      .post('/api/v1/users')
      .set(asAdmin())
      .send({ username: 'ｊｕｄｇｅ－ｎｆｋｃ', password: 'long-enough-pass', displayName: '\u202e王老师\u200b', role: 'judge' })
      .expect(201);
    expect(res.body.user).toMatchObject({ username: 'judge-nfkc', displayName: '王老师' });
    const again = await request(t.app)
      .post('/api/v1/users')
      .set(asAdmin())
      .send({ username: 'judge-nfkc\u200b', password: 'long-enough-pass', displayName: '另一个', role: 'judge' });
    expect(again.status).toBe(400);
    expect(await db().selectFrom('users').select('id').where('username', 'like', 'judge-nfkc%').execute()).toHaveLength(1);
  });

  test('when a user signs in typing the username in full-width letters, then it is the same account', async () => {
    await request(t.app)
      .post('/api/v1/users')
      .set(asAdmin())
      .send({ username: 'judge-wide', password: 'long-enough-pass', displayName: '评委', role: 'judge' })
      .expect(201);
    const res = await request(t.app).post('/api/v1/auth/token').send({ username: 'ｊｕｄｇｅ－ｗｉｄｅ', password: 'long-enough-pass' });
    expect(res.status).toBe(200);
    expect(res.body.token).toBeTruthy();
  });

  test('when a name is only invisible characters, then it is refused as empty in Chinese', async () => {
    const res = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name: '\u200b\u202e\u2066', countyId: 'c-lishi' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'name', message: '学校名称不能为空' }]);
  });

  test('when an entry title and director carry zero-width and full-width characters, then they are stored normalised', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token, { title: '《歌唱祖国》\u200b\u202e', directorName: 'Ｌｉ\u3000老师' });
    expect(entry).toMatchObject({ title: '《歌唱祖国》', directorName: 'Li 老师' });
  });
});
