import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/** Mass assignment, escaping, prototype pollution, malformed and oversized bodies (docs/security.md 14, 18, 20). */
describe('input hygiene', () => {
  let t: TestApp;
  let adminToken: string;
  let countyToken: string;
  let lishiSchool: { id: string; name: string };
  const db = () => t.container.database.db;
  const asAdmin = () => ({ Authorization: `Bearer ${adminToken}` });
  const asCounty = () => ({ Authorization: `Bearer ${countyToken}` });

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = await t.token('admin');
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    countyToken = await t.token(county.username);
    lishiSchool = await t.createSchool({ name: '离石区卫生检查小学', countyId: 'c-lishi' });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('mass assignment: only the declared fields reach the database', () => {
    test('when a school body carries id, created_at and unknown keys, then they are ignored', async () => {
      const res = await request(t.app)
        .post('/api/v1/schools')
        .set(asAdmin())
        .send({ name: '批量赋值小学', countyId: 'c-fenyang', id: 'chosen-id', created_at: '2000-01-01T00:00:00Z', county_id: 'c-xiaoyi', extra: 1 })
        .expect(201);
      expect(res.body.id).not.toBe('chosen-id');
      const row = await db().selectFrom('schools').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
      expect(row.county_id).toBe('c-fenyang');
      expect(new Date(row.created_at).getFullYear()).toBeGreaterThan(2020);
    });

    test('when a county reviewer creates a school account with extra role/county/disabled fields, then the account belongs to the school and is active', async () => {
      const res = await request(t.app)
        .post('/api/v1/users')
        .set(asCounty())
        .send({
          username: 'mass-assign-1',
          password: 'mass-assign-pass',
          displayName: '批量赋值',
          role: 'school',
          schoolId: lishiSchool.id,
          countyId: 'c-xiaoyi',
          id: 'chosen-user-id',
          disabled_at: '2020-01-01T00:00:00Z',
          password_hash: 'scrypt$1$1$1$AAAA$AAAA',
        })
        .expect(201);
      const row = await db().selectFrom('users').selectAll().where('username', '=', 'mass-assign-1').executeTakeFirstOrThrow();
      expect(row).toMatchObject({ id: res.body.id, role: 'school', school_id: lishiSchool.id, county_id: null, disabled_at: null });
      expect(row.id).not.toBe('chosen-user-id');
      expect(row.password_hash).toMatch(/^scrypt\$14\$8\$1\$/);
    });

    test.each(['county', 'admin', 'judge', 'tv'])('when a county reviewer tries to create a %s account, then 403 and no account exists', async (role) => {
      const res = await request(t.app)
        .post('/api/v1/users')
        .set(asCounty())
        .send({ username: `county-made-${role}`, password: 'some-password', displayName: '越权', role, countyId: 'c-lishi' });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
      expect(await db().selectFrom('users').select('id').where('username', '=', `county-made-${role}`).executeTakeFirst()).toBeUndefined();
    });

    test("when a county reviewer names another county's school for a new account, then the answer is the same as for a school that does not exist", async () => {
      const other = await t.createSchool({ name: '孝义市别县小学', countyId: 'c-xiaoyi' });
      const body = (schoolId: string, username: string) => ({ username, password: 'some-password', displayName: '别县', role: 'school', schoolId });
      const foreign = await request(t.app).post('/api/v1/users').set(asCounty()).send(body(other.id, 'foreign-school-user'));
      const missing = await request(t.app).post('/api/v1/users').set(asCounty()).send(body('no-such-school', 'foreign-school-user'));
      expect(foreign.status).toBe(400);
      expect(foreign.body).toEqual(missing.body);
      expect(await db().selectFrom('users').select('id').where('username', '=', 'foreign-school-user').executeTakeFirst()).toBeUndefined();
    });

    test('when a county reviewer creates a school in another county, then 403; with no county, the school lands in its own county', async () => {
      const refused = await request(t.app).post('/api/v1/schools').set(asCounty()).send({ name: '别县新建学校', countyId: 'c-xiaoyi' });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toBe('只能在本县区内新建学校。');
      expect(await db().selectFrom('schools').select('id').where('name', '=', '别县新建学校').executeTakeFirst()).toBeUndefined();
      const own = await request(t.app).post('/api/v1/schools').set(asCounty()).send({ name: '本县新建学校', countyId: null }).expect(201);
      expect(own.body.countyId).toBe('c-lishi');
    });

    test.each([['c-xiaoyi'], [null]])('when a county reviewer moves its school to %s, then 403 and the school stays', async (countyId) => {
      const res = await request(t.app).patch(`/api/v1/schools/${lishiSchool.id}`).set(asCounty()).send({ countyId });
      expect(res.status).toBe(403);
      expect(res.body.detail).toBe('不能把学校移出本县区。');
      const row = await db().selectFrom('schools').select('county_id').where('id', '=', lishiSchool.id).executeTakeFirstOrThrow();
      expect(row.county_id).toBe('c-lishi');
    });

    test('when a county reviewer posts the edit form with a countyId field, then the field is ignored and the school stays in its county', async () => {
      const county = await t.createUser('county', { countyId: 'c-lishi' });
      const { agent, csrf } = await t.browser(county.username);
      await agent
        .post(`/org/schools/${lishiSchool.id}`)
        .type('form')
        .send({ _csrf: csrf, name: lishiSchool.name, countyId: 'c-xiaoyi', level: 'primary' })
        .expect(303);
      const row = await db().selectFrom('schools').select(['county_id', 'level']).where('id', '=', lishiSchool.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ county_id: 'c-lishi', level: 'primary' });
    });

    test('when an account PATCH carries role, username, countyId or schoolId, then none of them change', async () => {
      const user = await t.createUser('school', { schoolId: lishiSchool.id });
      const before = await db().selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
      for (const headers of [asCounty(), asAdmin()]) {
        await request(t.app)
          .patch(`/api/v1/users/${user.id}`)
          .set(headers)
          .send({ role: 'admin', username: 'hijacked', countyId: 'c-xiaoyi', schoolId: null, id: 'other-id', password_hash: 'x' })
          .expect(200);
      }
      const after = await db().selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
      expect({ ...after, updated_at: null }).toEqual({ ...before, updated_at: null });
      await t.token(user.username); // the password still works
    });
  });

  describe('user text is escaped on every page that shows it', () => {
    const PAYLOADS = ['<script>alert(1)</script>', '{{constructor}}', 'javascript:alert(1)', '"><img src=x onerror=alert(1)>'];
    const ids: { schools: string[]; users: string[]; usernames: string[] } = { schools: [], users: [], usernames: [] };

    function assertSafe(html: string, where: string) {
      try {
        expect(html).not.toContain('<script>alert(1)</script>');
        expect(html).not.toContain('<img src=x');
        expect(html).not.toMatch(/href="javascript:/i);
        expect(html).not.toContain('function Object()');
      } catch (err) {
        throw new Error(`unsafe output on ${where}: ${(err as Error).message}`);
      }
    }

    beforeAll(async () => {
      for (const [i, p] of PAYLOADS.entries()) {
        const school = await t.createSchool({ name: `学校${p}`, countyId: 'c-lishi' });
        const user = await t.createUser('school', { schoolId: school.id, displayName: `老师${p}`, username: `xss-user-${i}` });
        ids.schools.push(school.id);
        ids.users.push(user.id);
        ids.usernames.push(user.username);
      }
    });

    test('when an admin and the county reviewer browse the school and account pages, then each name appears as text, escaped', async () => {
      const county = await t.createUser('county', { countyId: 'c-lishi' });
      for (const who of ['admin', county.username]) {
        const { agent } = await t.browser(who);
        const pages = [
          '/org/schools?countyId=c-lishi&pageSize=200',
          '/accounts?pageSize=200',
          '/accounts/new',
          ...ids.schools.map((id) => `/org/schools/${id}/edit`),
          ...ids.users.map((id) => `/accounts/${id}`),
        ];
        for (const path of pages) {
          const res = await agent.get(path).expect(200);
          assertSafe(res.text, `${who} ${path}`);
        }
        const list = (await agent.get('/org/schools?countyId=c-lishi&pageSize=200')).text;
        expect(list).toContain('学校&lt;script&gt;alert(1)&lt;/script&gt;');
        expect(list).toContain('学校{{constructor}}');
        expect(list).toContain('学校javascript:alert(1)');
        expect(list).toContain('学校&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
        const accounts = (await agent.get('/accounts?pageSize=200')).text;
        expect(accounts).toContain('老师&lt;script&gt;alert(1)&lt;/script&gt;');
        expect(accounts).toContain('老师{{constructor}}');
      }
    });

    test('when a user with a hostile display name logs in, then the header and home page show it escaped', async () => {
      for (const username of ids.usernames) {
        const { agent } = await t.browser(username);
        for (const path of ['/', '/campaign']) assertSafe((await agent.get(path).expect(200)).text, `${username} ${path}`);
      }
      const { agent } = await t.browser(ids.usernames[0]);
      expect((await agent.get('/').expect(200)).text).toContain('欢迎，老师&lt;script&gt;alert(1)&lt;/script&gt;。');
    });

    test('when hostile text comes back in a form with errors, a search box or an import error, then it is escaped', async () => {
      const { agent, csrf } = await t.browser('admin');
      const form = await agent
        .post('/org/schools')
        .type('form')
        .send({ _csrf: csrf, name: `学校${PAYLOADS[3]}`, countyId: 'c-lishi' });
      expect(form.status).toBe(400); // duplicate name: the form comes back with the typed value
      expect(form.text).toContain('该县区已有名为「学校&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;」的学校');
      assertSafe(form.text, 'school form with errors');
      const search = await agent.get(`/org/schools?q=${encodeURIComponent(PAYLOADS[3])}`).expect(200);
      assertSafe(search.text, 'school search');
      const imported = await agent
        .post('/org/schools/import')
        .field('_csrf', csrf)
        .attach('file', Buffer.from(`学校名称,所属县区\n某小学,<script>alert(1)</script>\n`), 'x.csv')
        .expect(400);
      assertSafe(imported.text, 'import errors');
      expect(imported.text).toContain('县区「&lt;script&gt;alert(1)&lt;/script&gt;」不存在');
    });

    test('when the API returns hostile names, then they come back verbatim as JSON strings (escaping is the page’s job)', async () => {
      const res = await request(t.app).get(`/api/v1/schools/${ids.schools[0]}`).set(asAdmin()).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.name).toBe('学校<script>alert(1)</script>');
    });
  });

  describe('query strings and bodies that try to break the parser', () => {
    test('when the query carries __proto__ / constructor keys, then Object.prototype is untouched and the answer is normal', async () => {
      const res = await request(t.app)
        .get('/api/v1/schools?a[__proto__]=1&__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__.polluted=1&countyId[__proto__]=x')
        .set(asAdmin());
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeGreaterThan(0); // countyId as an object is ignored, not used as a filter
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    });

    test('when a JSON body carries __proto__ and constructor.prototype, then Object.prototype is untouched', async () => {
      const res = await request(t.app)
        .post('/api/v1/schools')
        .set(asAdmin())
        .set('Content-Type', 'application/json')
        .send('{"name":"原型污染小学","countyId":null,"__proto__":{"polluted":"yes","countyId":"c-xiaoyi"},"constructor":{"prototype":{"polluted":"yes"}}}');
      expect(res.status).toBe(201);
      expect(res.body.countyId).toBeNull();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test('when a form body carries __proto__ keys, then Object.prototype is untouched', async () => {
      const { agent, csrf } = await t.browser('admin');
      await agent
        .post('/org/schools')
        .type('form')
        .send(`_csrf=${encodeURIComponent(csrf)}&name=%E8%A1%A8%E5%8D%95%E5%8E%9F%E5%9E%8B%E5%B0%8F%E5%AD%A6&countyId=&__proto__[polluted]=1&__proto__=x`)
        .expect(303);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test('when a query repeats a= 10,000 times, then the server answers cleanly without parsing it; a few thousand repeats get a normal page', async () => {
      const huge = await request(t.app)
        .get(`/api/v1/schools?${'a=&'.repeat(10_000)}`)
        .set(asAdmin());
      expect(huge.status).toBe(431); // over Node's header size limit: refused before any parsing
      // pageSize first: Node's query parser keeps only the first 1,000 keys, a bound in itself.
      const many = await request(t.app)
        .get(`/api/v1/schools?pageSize=5&pageSize=7&${'a=&'.repeat(3_000)}`)
        .set(asAdmin());
      expect(many.status).toBe(200);
      expect(many.body.pageSize).toBe(5);
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'a')).toBe(false);
    });

    test('when a form body repeats a field 10,000 times, then 400 validation_failed, nothing created', async () => {
      const { agent, csrf } = await t.browser('admin');
      const res = await agent
        .post('/org/schools')
        .set('Accept', 'application/json')
        .type('form')
        .send(`_csrf=${encodeURIComponent(csrf)}&name=x&${'a=1&'.repeat(10_000)}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    });

    test('when JSON is malformed, then 400 problem+json validation_failed with a Chinese title', async () => {
      const res = await request(t.app).post('/api/v1/schools').set(asAdmin()).set('Content-Type', 'application/json').send('{"name": "半截');
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'validation_failed', status: 400, title: '提交的内容有误' });
    });

    test('when a JSON body is over the limit, then 413 payload_too_large and nothing is created', async () => {
      const res = await request(t.app)
        .post('/api/v1/schools')
        .set(asAdmin())
        .send({ name: '超大请求小学', countyId: null, padding: 'x'.repeat(300 * 1024) });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload_too_large');
      expect(await db().selectFrom('schools').select('id').where('name', '=', '超大请求小学').executeTakeFirst()).toBeUndefined();
    });

    test('when a field is a number, an array or an object instead of text, then 400 with a Chinese message, no crash', async () => {
      for (const name of [42, ['a', 'b'], { $gt: '' }, true]) {
        const res = await request(t.app).post('/api/v1/schools').set(asAdmin()).send({ name, countyId: null });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ field: 'name', message: '学校名称格式不正确' }]);
      }
    });
  });

  describe('validation errors and pagination', () => {
    test('when required fields are missing, then every problem is listed as { field, message } in Chinese', async () => {
      const res = await request(t.app).post('/api/v1/users').set(asAdmin()).send({ username: '中文用户名', password: 'short' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toEqual([
        { field: 'username', message: '用户名只能包含字母、数字、点、下划线和短横线，2–48 个字符' },
        { field: 'password', message: '密码至少 8 个字符' },
        { field: 'displayName', message: '姓名或名称不能为空' },
        { field: 'role', message: '请选择角色' },
      ]);
      expect(res.body.detail).toContain('姓名或名称不能为空');
    });

    test('when a period gets a negative quota and a bad date, then both fields are reported', async () => {
      const period = await db().selectFrom('periods').select('id').executeTakeFirstOrThrow();
      const res = await request(t.app).patch(`/api/v1/periods/${period.id}`).set(asAdmin()).send({ quota: -1, submitBy: '下周一' });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: 'quota', message: '每县报送名额不能小于 0' },
        { field: 'submitBy', message: '学校提交截止时间不是有效的时间' },
      ]);
    });

    test('when a list asks for pageSize=1000, then it gets at most 200; nonsense page numbers fall back to 1', async () => {
      const big = await request(t.app).get('/api/v1/schools?pageSize=1000').set(asAdmin()).expect(200);
      expect(big.body.pageSize).toBe(200);
      const users = await request(t.app).get('/api/v1/users?pageSize=5000&page=-4').set(asAdmin()).expect(200);
      expect(users.body).toMatchObject({ page: 1, pageSize: 200 });
      const junk = await request(t.app).get('/api/v1/schools?page=abc&pageSize=abc').set(asAdmin()).expect(200);
      expect(junk.body).toMatchObject({ page: 1, pageSize: 50 });
      expect(Object.keys(junk.body).sort()).toEqual(['items', 'page', 'pageSize', 'total']);
    });

    test('when a login form is posted with a non-string username, then it is an ordinary failed login', async () => {
      const res = await request(t.app)
        .post('/api/v1/auth/token')
        .send({ username: { $ne: null }, password: TEST_PASSWORD });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    });
  });
});
