import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/**
 * Accounts (issue 17 §5): everyone changes their own password; an initial or reset password (typed
 * by someone else) must be changed at the next sign-in; the rule is shown beside the field.
 */
describe('own password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function signIn(username: string, password: string) {
    const agent = request.agent(t.app);
    const page = await agent.get('/login').expect(200);
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const res = await agent.post('/login').type('form').send({ _csrf: loginCsrf, username, password, next: '/entries' });
    return { agent, res };
  }
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

  test('when the admin creates an account, then its first sign-in must set a new password before anything else, and the API says so too', async () => {
    const admin = await t.token('admin');
    const created = await request(t.app)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'newjudge1', password: 'Initial-123', displayName: '王老师', role: 'judge' })
      .expect(201);
    expect(created.body.id).toBeTruthy();

    const { agent, res } = await signIn('newjudge1', 'Initial-123');
    expect(res.status).toBe(303);
    const home = await agent.get('/entries').expect(303);
    expect(home.headers.location).toBe('/account/password?next=%2Fentries');
    const form = await agent.get(home.headers.location).expect(200);
    expect(form.text).toContain('请先设置您自己的密码');
    expect(form.text).toContain('至少 8 位');

    const token = (await request(t.app).post('/api/v1/auth/token').send({ username: 'newjudge1', password: 'Initial-123' }).expect(200)).body.token;
    const refused = await request(t.app).get('/api/v1/judging/assignments').set('Authorization', `Bearer ${token}`).expect(403);
    expect(refused.body.code).toBe('password_change_required');

    const csrf = csrfOf(form.text);
    const wrong = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: csrf, currentPassword: 'nope-nope', newPassword: 'Mine-45678', confirmPassword: 'Mine-45678', next: '/entries' })
      .expect(400);
    expect(wrong.text).toContain('当前密码不正确');
    const mismatch = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: csrf, currentPassword: 'Initial-123', newPassword: 'Mine-45678', confirmPassword: 'Mine-45679' })
      .expect(400);
    expect(mismatch.text).toContain('两次输入的新密码不一致');
    const same = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: csrf, currentPassword: 'Initial-123', newPassword: 'Initial-123', confirmPassword: 'Initial-123' })
      .expect(400);
    expect(same.text).toContain('新密码不能与当前密码相同');

    const ok = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: csrf, currentPassword: 'Initial-123', newPassword: 'Mine-45678', confirmPassword: 'Mine-45678', next: '/judging' })
      .expect(303);
    expect(ok.headers.location).toBe('/judging?msg=password_changed');
    // This browser stays signed in; the token issued with the old password is revoked.
    expect((await agent.get(ok.headers.location).expect(200)).text).toContain('密码已修改');
    await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect((await signIn('newjudge1', 'Initial-123')).res.status).toBe(401);
    expect((await signIn('newjudge1', 'Mine-45678')).res.status).toBe(303);

    const audit = await request(t.app).get('/api/v1/audit?action=user.password_change').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(audit.body.items).toHaveLength(1);
  });

  test('when the admin resets a password, then the owner must change it again; a password changed by its owner is not asked again', async () => {
    const user = await t.createUser('school');
    const admin = await t.token('admin');
    const first = await signIn(user.username, TEST_PASSWORD);
    await first.agent.get('/entries').expect(200);
    await request(t.app).patch(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${admin}`).send({ password: 'Reset-99999' }).expect(200);
    const { agent } = await signIn(user.username, 'Reset-99999');
    expect((await agent.get('/entries').expect(303)).headers.location).toContain('/account/password');
    // Through the API this time.
    const token = (await request(t.app).post('/api/v1/auth/token').send({ username: user.username, password: 'Reset-99999' }).expect(200)).body.token;
    const short = await request(t.app)
      .post('/api/v1/me/password')
      .set('Authorization', `Bearer ${token}`)
      .send({ currentPassword: 'Reset-99999', newPassword: 'short' })
      .expect(400);
    expect(short.body.errors[0].field).toBe('newPassword');
    await request(t.app)
      .post('/api/v1/me/password')
      .set('Authorization', `Bearer ${token}`)
      .send({ currentPassword: 'Reset-99999', newPassword: 'Own-password-1' })
      .expect(204);
    const again = await signIn(user.username, 'Own-password-1');
    await again.agent.get('/entries').expect(200);
  });

  test('when anyone opens 修改密码 from the top bar, then the rule is beside the new password field', async () => {
    const user = await t.createUser('county');
    const first = await signIn(user.username, TEST_PASSWORD);
    const entries = await first.agent.get('/entries').expect(200);
    expect(entries.text).toContain('href="/account/password"');
    const page = await first.agent.get('/account/password').expect(200);
    expect(page.text).toMatch(/新密码 <span class="rule" id="password-rule">至少 8 位/);
    expect(page.text).not.toContain('请先设置您自己的密码');
  });
});
