import request from 'supertest';
import { hashPassword, parseHash } from '../../src/accounts/password';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

describe('logging in and out', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  test('when a user logs in with the form, then a new HttpOnly SameSite session cookie is set and the home page greets them', async () => {
    const user = await t.createUser('school', { displayName: '张老师' });
    const agent = request.agent(t.app);
    const page = await agent.get('/login').expect(200);
    expect(page.text).toContain('登录唱响');
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const res = await agent.post('/login').type('form').send({ _csrf: loginCsrf, username: user.username, password: TEST_PASSWORD }).expect(303);
    const cookie = res.headers['set-cookie'] as unknown as string[];
    const session = cookie.find((c) => c.startsWith('cx_sid='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    const home = await agent.get('/').expect(200);
    expect(home.text).toContain('欢迎，张老师');
  });

  test('when the password is wrong or the user unknown, then the answer is the same 401', async () => {
    const user = await t.createUser('county');
    const wrong = await request(t.app).post('/api/v1/auth/token').send({ username: user.username, password: 'nope-nope-nope' });
    const unknown = await request(t.app).post('/api/v1/auth/token').send({ username: 'no-such-user', password: 'nope-nope-nope' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(wrong.body.detail).toBe('用户名或密码不正确。');
  });

  test('when stored, then the password hash records scrypt parameters N=2^17, r=8, p=1 by default', async () => {
    const params = parseHash(await hashPassword('x-password-1', 17))!;
    expect(params).toMatchObject({ logN: 17, r: 8, p: 1 });
    const row = await t.container.database.db.selectFrom('users').select('password_hash').limit(1).executeTakeFirstOrThrow();
    expect(parseHash(row.password_hash)).toMatchObject({ r: 8, p: 1 });
  });
});
