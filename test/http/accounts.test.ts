import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/** Accounts: every role, county reviewers manage their own schools' accounts, disable, reset (issue 2). */
describe('accounts', () => {
  let t: TestApp;
  let lishiSchool: { id: string; name: string };
  let xiaoyiSchool: { id: string; name: string };
  const db = () => t.container.database.db;
  const userRow = (username: string) => db().selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();

  beforeAll(async () => {
    t = await createTestApp();
    lishiSchool = await t.createSchool({ name: '离石区账号小学', countyId: 'c-lishi' });
    xiaoyiSchool = await t.createSchool({ name: '孝义市账号小学', countyId: 'c-xiaoyi' });
  });
  afterAll(async () => {
    await t.close();
  });

  test('when an admin creates an account of every role with the form, then each is stored with its school or county and can log in', async () => {
    const { agent, csrf } = await t.browser('admin');
    const form = await agent.get('/accounts/new').expect(200);
    for (const label of ['学校', '县级教育局', '评委', '市教育局管理员', '电视台']) expect(form.text).toContain(`>${label}</option>`);
    const cases = [
      { username: 'new-school', role: 'school', schoolId: lishiSchool.id, countyId: '', expect: { school_id: lishiSchool.id, county_id: null } },
      { username: 'new-county', role: 'county', schoolId: '', countyId: 'c-fenyang', expect: { school_id: null, county_id: 'c-fenyang' } },
      { username: 'new-judge', role: 'judge', schoolId: '', countyId: 'c-linxian', expect: { school_id: null, county_id: 'c-linxian' } },
      {
        username: 'new-judge-of-school',
        role: 'judge',
        schoolId: xiaoyiSchool.id,
        countyId: '',
        expect: { school_id: xiaoyiSchool.id, county_id: 'c-xiaoyi' },
      },
      { username: 'new-tv', role: 'tv', schoolId: lishiSchool.id, countyId: 'c-lishi', expect: { school_id: null, county_id: null } },
      { username: 'new-admin', role: 'admin', schoolId: '', countyId: '', expect: { school_id: null, county_id: null } },
    ];
    for (const c of cases) {
      const res = await agent
        .post('/accounts')
        .type('form')
        .send({
          _csrf: csrf,
          username: c.username,
          displayName: `${c.role}账号`,
          password: 'first-pass-1',
          role: c.role,
          schoolId: c.schoolId,
          countyId: c.countyId,
        })
        .expect(303);
      const row = (await userRow(c.username))!;
      expect(res.headers.location).toBe(`/accounts/${row.id}?msg=user_created`);
      expect({ role: row.role, school_id: row.school_id, county_id: row.county_id }).toEqual({ role: c.role, ...c.expect });
      const login = await request(t.app).post('/api/v1/auth/token').send({ username: c.username, password: 'first-pass-1' }).expect(200);
      expect(login.body.user).toMatchObject({ username: c.username, role: c.role });
    }
    const shown = await agent.get(`/accounts/${(await userRow('new-school'))!.id}?msg=user_created`).expect(200);
    expect(shown.text).toContain('账号已创建。');
    expect(shown.text).toContain('离石区账号小学（离石区）');
  });

  test('when a form is incomplete or the username is taken, then the form comes back with Chinese messages next to the fields', async () => {
    const { agent, csrf } = await t.browser('admin');
    const missingSchool = await agent
      .post('/accounts')
      .type('form')
      .send({ _csrf: csrf, username: 'no-school', displayName: '无学校', password: 'first-pass-1', role: 'school', schoolId: '' });
    expect(missingSchool.status).toBe(400);
    expect(missingSchool.text).toContain('学校账号必须选择所属学校');
    const missingCounty = await agent
      .post('/accounts')
      .type('form')
      .send({ _csrf: csrf, username: 'no-county', displayName: '无县区', password: 'first-pass-1', role: 'county', countyId: '' });
    expect(missingCounty.text).toContain('县级账号必须选择所属县区');
    await t.createUser('tv', { username: 'taken-name' });
    const taken = await agent
      .post('/accounts')
      .type('form')
      .send({ _csrf: csrf, username: 'TAKEN-name', displayName: '重名', password: 'first-pass-1', role: 'tv' });
    expect(taken.status).toBe(400);
    expect(taken.text).toContain('用户名「TAKEN-name」已被使用');
    expect(taken.text).toContain('value="TAKEN-name"');
    expect(taken.text).not.toContain('first-pass-1'); // the password is never echoed
  });

  describe('a county reviewer manages its own schools’ accounts only', () => {
    let county: { username: string };
    let ownAccount: { id: string; username: string };
    let otherAccount: { id: string; username: string };
    beforeAll(async () => {
      county = await t.createUser('county', { countyId: 'c-lishi', username: 'lishi-reviewer' });
      ownAccount = await t.createUser('school', { schoolId: lishiSchool.id, username: 'lishi-teacher' });
      otherAccount = await t.createUser('school', { schoolId: xiaoyiSchool.id, username: 'xiaoyi-teacher' });
    });

    test('when it lists accounts, then only school accounts of its county appear (not its own, not other counties)', async () => {
      const { agent } = await t.browser(county.username);
      const page = await agent.get('/accounts').expect(200);
      expect(page.text).toContain('lishi-teacher');
      expect(page.text).not.toContain('xiaoyi-teacher');
      expect(page.text).not.toContain('<td data-label="用户名">lishi-reviewer</td>');
      expect(page.text).not.toContain('<td data-label="用户名">admin</td>');
      const token = await t.token(county.username);
      const api = await request(t.app).get('/api/v1/users?countyId=c-xiaoyi&role=admin').set('Authorization', `Bearer ${token}`).expect(200);
      expect(api.body.items.every((u: { role: string; schoolId: string }) => u.role === 'school' && u.schoolId === lishiSchool.id)).toBe(true);
    });

    test('when it opens the new-account form, then it can only choose the school role and its own schools', async () => {
      const { agent } = await t.browser(county.username);
      const form = await agent.get('/accounts/new').expect(200);
      expect(form.text).toContain('<option value="school"');
      expect(form.text).not.toContain('<option value="county"');
      expect(form.text).not.toContain('<option value="admin"');
      expect(form.text).toContain('离石区账号小学');
      expect(form.text).not.toContain('孝义市账号小学');
      expect(form.text).not.toContain('name="countyId"');
    });

    test('when it creates a school account for its own school, then it works; for another county’s school, then 400 and nothing is created', async () => {
      const { agent, csrf } = await t.browser(county.username);
      await agent
        .post('/accounts')
        .type('form')
        .send({ _csrf: csrf, username: 'lishi-teacher-2', displayName: '李老师', password: 'first-pass-1', role: 'school', schoolId: lishiSchool.id })
        .expect(303);
      expect((await userRow('lishi-teacher-2'))!.school_id).toBe(lishiSchool.id);
      const refused = await agent
        .post('/accounts')
        .type('form')
        .send({ _csrf: csrf, username: 'xiaoyi-teacher-2', displayName: '王老师', password: 'first-pass-1', role: 'school', schoolId: xiaoyiSchool.id });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('所属学校不存在');
      expect(await userRow('xiaoyi-teacher-2')).toBeUndefined();
      const asAdmin = await agent
        .post('/accounts')
        .type('form')
        .send({ _csrf: csrf, username: 'sneaky-admin', displayName: '管理员', password: 'first-pass-1', role: 'admin' });
      expect(asAdmin.status).toBe(403);
      expect(await userRow('sneaky-admin')).toBeUndefined();
    });

    test('when it disables, enables, renames or resets another county’s account, then 404 and nothing changes', async () => {
      const { agent, csrf } = await t.browser(county.username);
      const before = await userRow(otherAccount.username);
      for (const [path, body] of [
        [`/accounts/${otherAccount.id}/disable`, {}],
        [`/accounts/${otherAccount.id}/password`, { password: 'hijack-pass-1' }],
        [`/accounts/${otherAccount.id}`, { displayName: '被改名' }],
      ] as const) {
        const res = await agent
          .post(path)
          .type('form')
          .send({ _csrf: csrf, ...body });
        expect(res.status).toBe(404);
        expect(res.text).toContain('账号不存在，或不在您的管辖范围内。');
      }
      expect(await userRow(otherAccount.username)).toEqual(before);
    });

    test('when it disables and re-enables its own school’s account, then login is refused and then allowed again', async () => {
      const { agent, csrf } = await t.browser(county.username);
      const disabled = await agent.post(`/accounts/${ownAccount.id}/disable`).type('form').send({ _csrf: csrf }).expect(303);
      expect(disabled.headers.location).toBe(`/accounts/${ownAccount.id}?msg=user_disabled`);
      const page = await agent.get(disabled.headers.location).expect(200);
      expect(page.text).toContain('账号已停用，该账号已被登出。');
      expect(page.text).toContain('已停用');
      expect(page.text).toContain('启用账号');
      await request(t.app).post('/api/v1/auth/token').send({ username: ownAccount.username, password: TEST_PASSWORD }).expect(401);
      await agent.post(`/accounts/${ownAccount.id}/enable`).type('form').send({ _csrf: csrf }).expect(303);
      await request(t.app).post('/api/v1/auth/token').send({ username: ownAccount.username, password: TEST_PASSWORD }).expect(200);
      const audit = await db().selectFrom('audit_log').select('action').where('object_id', '=', ownAccount.id).orderBy('id').execute();
      expect(audit.map((a) => a.action)).toEqual(['user.create', 'user.disable', 'user.enable']);
    });

    test('when it resets its school’s password, then only the new password works; a too-short one is refused in Chinese', async () => {
      const { agent, csrf } = await t.browser(county.username);
      const short = await agent.post(`/accounts/${ownAccount.id}/password`).type('form').send({ _csrf: csrf, password: 'short' });
      expect(short.status).toBe(400);
      expect(short.text).toContain('密码至少 8 个字符');
      const res = await agent.post(`/accounts/${ownAccount.id}/password`).type('form').send({ _csrf: csrf, password: 'reset-by-county-1' }).expect(303);
      expect(res.headers.location).toBe(`/accounts/${ownAccount.id}?msg=password_reset`);
      await request(t.app).post('/api/v1/auth/token').send({ username: ownAccount.username, password: TEST_PASSWORD }).expect(401);
      await request(t.app).post('/api/v1/auth/token').send({ username: ownAccount.username, password: 'reset-by-county-1' }).expect(200);
    });
  });

  test('when an admin tries to disable its own account, then 400 with a Chinese message and it stays active', async () => {
    const token = await t.token('admin');
    const me = await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(me.body).toEqual({
      id: me.body.id,
      username: 'admin',
      displayName: '市教育局管理员',
      role: 'admin',
      countyId: null,
      schoolId: null,
      mustChangePassword: false,
    });
    const res = await request(t.app).patch(`/api/v1/users/${me.body.id}`).set('Authorization', `Bearer ${token}`).send({ disabled: true });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'disabled', message: '不能停用自己的账号' }]);
    await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`).expect(200);
  });

  test('when a script creates an account through the API, then 201 { id } and GET /users/:id shows it', async () => {
    const token = await t.token('admin');
    const res = await request(t.app)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${token}`)
      .send({ username: 'api-county', password: 'api-pass-123', displayName: '汾阳市教育局', role: 'county', countyId: 'c-fenyang' })
      .expect(201);
    expect(typeof res.body.id).toBe('string');
    const shown = await request(t.app).get(`/api/v1/users/${res.body.id}`).set('Authorization', `Bearer ${token}`).expect(200);
    expect(shown.body).toMatchObject({ id: res.body.id, username: 'api-county', role: 'county', countyId: 'c-fenyang', countyName: '汾阳市', disabled: false });
    expect(JSON.stringify(shown.body)).not.toMatch(/password|scrypt/);
  });
});
