import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLocalStore } from '../../src/platform/storage';
import { createTestApp, type TestApp } from '../support/app';

/** The campaign page and periods, /healthz and /readyz, and the OpenAPI document (issue 2). */
const DESIGNATED = ['党啊，亲爱的妈妈', '我们的祖国歌甜花香', '吕梁颂', '每当我走过老师窗前', '长大后我就成了你'];
const FORMS = ['合唱', '音乐手势舞', '音乐舞蹈剧', '班级同唱', '教师演唱', '其他'];
const LEVELS = ['幼儿园', '小学', '初中', '高中', '中职', '教师'];

describe('campaign, health and the API description', () => {
  let t: TestApp;
  let periodId: string;
  const db = () => t.container.database.db;

  beforeAll(async () => {
    t = await createTestApp();
    periodId = (await db().selectFrom('periods').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('campaign', () => {
    test('when a school opens the campaign page, then it shows the five designated songs, the forms, the levels and the open period', async () => {
      const school = await t.createUser('school');
      const { agent } = await t.browser(school.username);
      const page = await agent.get('/campaign').expect(200);
      expect(page.text).toContain('学习党的二十大精神、唱响青春主旋律');
      for (const song of DESIGNATED) expect(page.text).toContain(`<li>《${song}》</li>`);
      for (const label of [...FORMS, ...LEVELS]) expect(page.text).toContain(`<span class="chip">${label}</span>`);
      expect(page.text).toContain('第一期报送');
      expect(page.text).toContain('进行中');
      expect(page.text).not.toContain('修改「第一期报送」'); // only the city edits periods
    });

    test('when a script reads GET /api/v1/campaign, then it gets songs, forms, levels and periods in the docs/api.md shape', async () => {
      const token = await t.token((await t.createUser('judge')).username);
      const res = await request(t.app).get('/api/v1/campaign').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toMatchObject({ id: 'main', title: '学习党的二十大精神、唱响青春主旋律' });
      expect(res.body.songs.filter((s: { designated: boolean }) => s.designated).map((s: { title: string }) => s.title)).toEqual(DESIGNATED);
      expect(res.body.forms.map((f: { label: string }) => f.label)).toEqual(FORMS);
      expect(res.body.levels.map((l: { label: string }) => l.label)).toEqual(LEVELS);
      expect(res.body.periods).toEqual([{ id: periodId, name: '第一期报送', submitBy: expect.any(String), forwardBy: expect.any(String), quota: 10 }]);
      expect(res.body.periods[0].submitBy).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });

    test('when an admin edits a period with the form (Beijing time), then quota and deadlines are saved', async () => {
      const { agent, csrf } = await t.browser('admin');
      const page = await agent.get('/campaign').expect(200);
      expect(page.text).toContain('修改「第一期报送」');
      const res = await agent
        .post(`/campaign/periods/${periodId}`)
        .type('form')
        .send({ _csrf: csrf, name: '六一前报送', quota: '15', submitBy: '2031-05-25T18:00', forwardBy: '2031-05-31T12:00' })
        .expect(303);
      expect(res.headers.location).toBe('/campaign?msg=period_updated');
      const row = await db().selectFrom('periods').selectAll().where('id', '=', periodId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ name: '六一前报送', quota: 15 });
      expect(new Date(row.submit_by).toISOString()).toBe('2031-05-25T10:00:00.000Z');
      expect(new Date(row.forward_by).toISOString()).toBe('2031-05-31T04:00:00.000Z');
      const after = await agent.get('/campaign?msg=period_updated').expect(200);
      expect(after.text).toContain('报送期已保存。');
      expect(after.text).toContain('2031/05/25 18:00');
    });

    test('when the county deadline is before the school deadline, then the form comes back with a Chinese message and nothing changes', async () => {
      const before = await db().selectFrom('periods').selectAll().where('id', '=', periodId).executeTakeFirstOrThrow();
      const { agent, csrf } = await t.browser('admin');
      const res = await agent
        .post(`/campaign/periods/${periodId}`)
        .type('form')
        .send({ _csrf: csrf, name: '倒置', quota: '3', submitBy: '2031-06-30T18:00', forwardBy: '2031-06-01T18:00' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('县区报送截止时间不能早于学校提交截止时间');
      expect(await db().selectFrom('periods').selectAll().where('id', '=', periodId).executeTakeFirstOrThrow()).toEqual(before);
    });

    test('when an admin patches a period through the API, then only the given fields change; a county gets 403 and nothing changes', async () => {
      const adminToken = await t.token('admin');
      const res = await request(t.app).patch(`/api/v1/periods/${periodId}`).set('Authorization', `Bearer ${adminToken}`).send({ quota: 8 }).expect(200);
      expect(res.body).toMatchObject({ id: periodId, name: '六一前报送', quota: 8, submitBy: '2031-05-25T10:00:00.000Z' });
      const county = await t.createUser('county');
      const countyToken = await t.token(county.username);
      const refused = await request(t.app).patch(`/api/v1/periods/${periodId}`).set('Authorization', `Bearer ${countyToken}`).send({ quota: 99 });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'forbidden', title: '没有权限' });
      const { agent, csrf } = await t.browser(county.username);
      const page = await agent
        .post(`/campaign/periods/${periodId}`)
        .type('form')
        .send({ _csrf: csrf, name: 'x', quota: '99', submitBy: '2031-05-25T18:00', forwardBy: '2031-05-31T12:00' });
      expect(page.status).toBe(403);
      expect(page.text).toContain('没有权限');
      expect((await db().selectFrom('periods').select('quota').where('id', '=', periodId).executeTakeFirstOrThrow()).quota).toBe(8);
      const missing = await request(t.app).patch('/api/v1/periods/no-such-period').set('Authorization', `Bearer ${adminToken}`).send({ quota: 1 });
      expect(missing.status).toBe(404);
    });
  });

  describe('health', () => {
    test('when the process is up, then /healthz is 200; with database and store answering, /readyz is 200', async () => {
      await request(t.app).get('/healthz').expect(200);
      const ready = await request(t.app).get('/readyz').expect(200);
      expect(ready.body).toEqual({ status: 'ready', database: 'ok', store: 'ok' });
    });

    test('when the database is closed, then /readyz is 503 and /healthz still 200', async () => {
      const broken = await createTestApp();
      try {
        await broken.container.database.close();
        const res = await request(broken.app).get('/readyz');
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ status: 'unavailable', database: 'unavailable', store: 'ok' });
        await request(broken.app).get('/healthz').expect(200);
      } finally {
        await broken.testDb.drop();
        fs.rmSync(broken.dataDir, { recursive: true, force: true });
      }
    });

    test('when the object store does not answer, then /readyz is 503', async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cx-store-'));
      const store = Object.create(createLocalStore(root), { ping: { value: () => Promise.reject(new Error('store down')) } });
      const noStore = await createTestApp({ store });
      try {
        const res = await request(noStore.app).get('/readyz');
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ status: 'unavailable', database: 'ok', store: 'unavailable' });
      } finally {
        await noStore.close();
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  });

  describe('OpenAPI', () => {
    /** The docs/api.md paths that exist so far (entries, judging, broadcast come later). */
    const API_MD = [
      ['post', '/auth/token'],
      ['delete', '/auth/token'],
      ['get', '/me'],
      ['get', '/campaign'],
      ['get', '/counties'],
      ['get', '/schools'],
      ['post', '/schools'],
      ['post', '/users'],
      ['patch', '/periods/{id}'],
    ] as const;

    test('when anyone fetches /api/v1/openapi.json, then it is an OpenAPI 3 document listing every docs/api.md path that exists so far', async () => {
      const res = await request(t.app).get('/api/v1/openapi.json').expect(200);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      expect(doc.servers).toEqual([{ url: '/api/v1' }]);
      for (const [method, p] of API_MD) expect({ path: p, method, op: doc.paths[p]?.[method] }).toMatchObject({ op: { responses: expect.any(Object) } });
      for (const [p, ops] of Object.entries(
        doc.paths as Record<
          string,
          Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>
        >,
      )) {
        const names = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const op of Object.values(ops)) {
          expect((op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name)).toEqual(names);
          const ref = op.requestBody?.content['application/json']?.schema.$ref;
          if (ref) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')]).toBeDefined();
        }
      }
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      expect(doc.paths['/auth/token'].post.security).toEqual([]);
    });

    test('when every documented operation is called as admin, then none of them is an unknown route', async () => {
      const token = await t.token('admin');
      const doc = (await request(t.app).get('/api/v1/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const method of Object.keys(ops)) {
          if (method === 'delete' && p === '/auth/token') continue; // would revoke the token used here
          const url = `/api/v1${p.replace(/\{\w+\}/g, 'no-such-id')}`;
          const req = (request(t.app) as unknown as Record<string, (u: string) => request.Test>)[method](url).set('Authorization', `Bearer ${token}`);
          const res = await (method === 'head' ? req : req.send({}));
          expect({ method, url, detail: res.status === 404 ? res.body.detail : 'answered' }).not.toMatchObject({ detail: '页面不存在。' });
        }
      }
    });
  });
});
