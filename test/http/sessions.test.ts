import crypto from 'node:crypto';
import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/** Sessions, CSRF and bearer tokens (docs/security.md 15, 16). */
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

function sessionCookie(res: request.Response): string | undefined {
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  const c = cookies.find((x) => x.startsWith('cx_sid='));
  return c ? decodeURIComponent(c.slice('cx_sid='.length).split(';')[0]) : undefined;
}

describe('sessions, CSRF and tokens', () => {
  let t: TestApp;
  const db = () => t.container.database.db;

  /** Logs in through the form, starting from whatever cookies the agent already has. */
  async function formLogin(agent: ReturnType<typeof request.agent>, username: string, password = TEST_PASSWORD) {
    const loginCsrf = csrfOf((await agent.get('/login').expect(200)).text);
    const res = await agent.post('/login').type('form').send({ _csrf: loginCsrf, username, password }).expect(303);
    return sessionCookie(res)!;
  }
  /** A plain request carrying only this session cookie. */
  const withSession = (secret: string) =>
    request(t.app)
      .get('/')
      .set('Cookie', `cx_sid=${encodeURIComponent(secret)}`)
      .set('Accept', 'text/html');

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe('login and logout', () => {
    test('when a browser arrives with a session cookie the attacker chose, then login issues a different id and the planted one never works', async () => {
      const user = await t.createUser('county');
      const agent = request.agent(t.app);
      agent.jar.setCookie('cx_sid=attacker-chosen-value; Path=/');
      const secret = await formLogin(agent, user.username);
      expect(secret).toBeDefined();
      expect(secret).not.toBe('attacker-chosen-value');
      await withSession('attacker-chosen-value')
        .expect(303)
        .expect('Location', /^\/login/);
    });

    test('when a logged-in browser posts the login form again, then the old session id is destroyed and replaced', async () => {
      const user = await t.createUser('school');
      const first = await formLogin(request.agent(t.app), user.username);
      // The login page (fetched anonymously) hands out the pre-login token; the browser still holds `first`.
      const loginPage = await request(t.app).get('/login').expect(200);
      const pre = (loginPage.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('cx_pre='))!.split(';')[0];
      const res = await request(t.app)
        .post('/login')
        .set('Cookie', `cx_sid=${encodeURIComponent(first)}; ${pre}`)
        .type('form')
        .send({ _csrf: csrfOf(loginPage.text), username: user.username, password: TEST_PASSWORD })
        .expect(303);
      const second = sessionCookie(res)!;
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      await withSession(first).expect(303);
      await withSession(second).expect(200);
      expect(await db().selectFrom('sessions').select('id').where('id', '=', sha256(first)).executeTakeFirst()).toBeUndefined();
    });

    test('when a user logs out, then the server-side session is gone and the old cookie no longer works', async () => {
      const user = await t.createUser('judge');
      const agent = request.agent(t.app);
      const secret = await formLogin(agent, user.username);
      const csrf = csrfOf((await agent.get('/').expect(200)).text);
      const res = await agent.post('/logout').type('form').send({ _csrf: csrf }).expect(303);
      expect(res.headers.location).toBe('/login?msg=logged_out');
      expect(await db().selectFrom('sessions').select('id').where('id', '=', sha256(secret)).executeTakeFirst()).toBeUndefined();
      await withSession(secret)
        .expect(303)
        .expect('Location', /^\/login/);
      const login = await agent.get('/login?msg=logged_out').expect(200);
      expect(login.text).toContain('您已退出登录。');
    });
  });

  describe('expiry is enforced by the server, not the cookie', () => {
    test('when a session has been idle longer than the idle limit, then it is refused and deleted', async () => {
      const user = await t.createUser('tv');
      const secret = await formLogin(request.agent(t.app), user.username);
      await withSession(secret).expect(200);
      const idleMinutes = t.config.security.sessionIdleMinutes;
      await db()
        .updateTable('sessions')
        .set({ last_seen_at: new Date(Date.now() - (idleMinutes + 1) * 60_000) })
        .where('id', '=', sha256(secret))
        .execute();
      await withSession(secret)
        .expect(303)
        .expect('Location', /^\/login/);
      expect(await db().selectFrom('sessions').select('id').where('id', '=', sha256(secret)).executeTakeFirst()).toBeUndefined();
    });

    test('when a session is used steadily but is past its absolute expiry, then it is refused', async () => {
      const user = await t.createUser('tv');
      const secret = await formLogin(request.agent(t.app), user.username);
      await db()
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000), last_seen_at: new Date() })
        .where('id', '=', sha256(secret))
        .execute();
      await withSession(secret)
        .expect(303)
        .expect('Location', /^\/login/);
      const api = await request(t.app)
        .get('/api/v1/me')
        .set('Cookie', `cx_sid=${encodeURIComponent(secret)}`);
      expect(api.status).toBe(401);
      expect(api.body.code).toBe('unauthenticated');
    });

    test('when a session is used within the idle limit, then it stays valid and last_seen_at moves forward', async () => {
      const user = await t.createUser('tv');
      const secret = await formLogin(request.agent(t.app), user.username);
      const earlier = new Date(Date.now() - 30 * 60_000);
      await db().updateTable('sessions').set({ last_seen_at: earlier }).where('id', '=', sha256(secret)).execute();
      await withSession(secret).expect(200);
      const row = await db().selectFrom('sessions').select('last_seen_at').where('id', '=', sha256(secret)).executeTakeFirstOrThrow();
      expect(new Date(row.last_seen_at).getTime()).toBeGreaterThan(earlier.getTime() + 60_000);
    });
  });

  describe('CSRF', () => {
    test('when a cross-site form posts without a token, then 403 and no school is created', async () => {
      const { agent } = await t.browser('admin');
      const res = await agent.post('/org/schools').type('form').set('Accept', 'text/html').send({ name: 'CSRF无令牌学校', countyId: 'c-lishi' });
      expect(res.status).toBe(403);
      expect(res.text).toContain('页面已过期');
      expect(await db().selectFrom('schools').select('id').where('name', '=', 'CSRF无令牌学校').executeTakeFirst()).toBeUndefined();
    });

    test("when a form carries another session's token, then 403 and nothing changes", async () => {
      const { agent } = await t.browser('admin');
      const other = await t.browser('admin');
      const victim = await t.createUser('school');
      const res = await agent.post(`/accounts/${victim.id}/disable`).type('form').send({ _csrf: other.csrf });
      expect(res.status).toBe(403);
      const row = await db().selectFrom('users').select('disabled_at').where('id', '=', victim.id).executeTakeFirstOrThrow();
      expect(row.disabled_at).toBeNull();
      const api = await agent.post('/api/v1/schools').set('X-CSRF-Token', other.csrf).send({ name: 'CSRF他人令牌学校', countyId: null });
      expect(api.status).toBe(403);
      expect(api.body.code).toBe('csrf_failed');
    });

    test('when a cross-site multipart upload posts to the school import without a valid token, then 403 and nothing is imported', async () => {
      const { agent } = await t.browser('admin');
      const other = await t.browser('admin');
      const csv = Buffer.from('学校名称,所属县区\nCSRF导入学校,离石区\n');
      const noToken = await agent.post('/org/schools/import').attach('file', csv, 'schools.csv');
      expect(noToken.status).toBe(403);
      const wrongToken = await agent.post('/org/schools/import').field('_csrf', other.csrf).attach('file', csv, 'schools.csv');
      expect(wrongToken.status).toBe(403);
      expect(await db().selectFrom('schools').select('id').where('name', '=', 'CSRF导入学校').executeTakeFirst()).toBeUndefined();
    });

    test('when the login form posts without its own token, then 403 and no session is created', async () => {
      const user = await t.createUser('school');
      const res = await request(t.app).post('/login').type('form').send({ username: user.username, password: TEST_PASSWORD });
      expect(res.status).toBe(403);
      expect(sessionCookie(res)).toBeUndefined();
    });

    test('when a session posts JSON to the API without the X-CSRF-Token header, then 403 csrf_failed; with it, the call works', async () => {
      const { agent, csrf } = await t.browser('admin');
      const refused = await agent.post('/api/v1/schools').send({ name: 'CSRF接口学校', countyId: 'c-lishi' });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('csrf_failed');
      await agent.post('/api/v1/schools').set('X-CSRF-Token', csrf).send({ name: 'CSRF接口学校', countyId: 'c-lishi' }).expect(201);
    });

    test('when anything is fetched with GET, then no state changes (state-changing paths answer 404 to GET)', async () => {
      const { agent } = await t.browser('admin');
      const victim = await t.createUser('school');
      const period = await db().selectFrom('periods').selectAll().executeTakeFirstOrThrow();
      const snapshot = async () => ({
        users: await db().selectFrom('users').select(['id', 'display_name', 'disabled_at', 'password_hash']).orderBy('id').execute(),
        schools: await db().selectFrom('schools').select(['id', 'name', 'county_id']).orderBy('id').execute(),
        periods: await db().selectFrom('periods').select(['id', 'quota', 'submit_by']).orderBy('id').execute(),
        audit: await db()
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow(),
      });
      const before = await snapshot();
      for (const path of [
        `/accounts/${victim.id}/disable`,
        `/accounts/${victim.id}/password?password=zzzzzzzz1`,
        `/campaign/periods/${period.id}?quota=0`,
        '/logout',
        '/org/schools/import',
      ]) {
        const res = await agent.get(path);
        expect([200, 404]).toContain(res.status);
      }
      for (const path of [
        '/',
        '/campaign',
        '/org/counties',
        '/org/schools',
        '/org/schools/new',
        '/accounts',
        '/accounts/new',
        `/accounts/${victim.id}`,
        '/api/v1/me',
        '/api/v1/users',
        '/api/v1/schools',
      ]) {
        await agent.get(path).expect(200);
      }
      expect(await snapshot()).toEqual(before);
      await agent.get('/').expect(200); // GET /logout did not log out
    });
  });

  describe('bearer tokens', () => {
    test('when a script uses a bearer token, then it needs no CSRF token; after DELETE /api/v1/auth/token the token answers 401', async () => {
      const token = await t.token('admin');
      const auth = { Authorization: `Bearer ${token}` };
      await request(t.app).post('/api/v1/schools').set(auth).send({ name: '令牌创建学校', countyId: null }).expect(201);
      await request(t.app).delete('/api/v1/auth/token').set(auth).expect(204);
      const after = await request(t.app).get('/api/v1/me').set(auth);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('unauthenticated');
    });

    test('when a token is issued, then only its hash is stored and it expires at the announced time', async () => {
      const user = await t.createUser('judge');
      const res = await request(t.app).post('/api/v1/auth/token').send({ username: user.username, password: TEST_PASSWORD }).expect(200);
      expect(res.body.user).toMatchObject({ id: user.id, role: 'judge' });
      const row = await db().selectFrom('api_tokens').selectAll().where('id', '=', sha256(res.body.token)).executeTakeFirstOrThrow();
      expect(new Date(row.expires_at).toISOString()).toBe(res.body.expiresAt);
      expect(await db().selectFrom('api_tokens').select('id').where('id', '=', res.body.token).executeTakeFirst()).toBeUndefined();
    });

    test('when a token is garbage, then 401 problem+json (even on a public path)', async () => {
      const res = await request(t.app).get('/api/v1/campaign').set('Authorization', 'Bearer not-a-token');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    });

    test('when an API call has no credentials, then 401 unauthenticated in Chinese', async () => {
      const res = await request(t.app).get('/api/v1/me');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'unauthenticated', status: 401, title: '需要登录' });
    });
  });

  describe('taking access away', () => {
    test("when an admin disables an account, then that account's open sessions and tokens stop working at once and it cannot log in", async () => {
      const user = await t.createUser('school');
      const { agent } = await t.browser(user.username);
      const token = await t.token(user.username);
      const adminToken = await t.token('admin');
      await request(t.app).patch(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${adminToken}`).send({ disabled: true }).expect(200);
      await agent
        .get('/')
        .set('Accept', 'text/html')
        .expect(303)
        .expect('Location', /^\/login/);
      await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
      const login = await request(t.app).post('/api/v1/auth/token').send({ username: user.username, password: TEST_PASSWORD });
      expect(login.status).toBe(401);
      expect(login.body.detail).toBe('用户名或密码不正确。');
    });

    test('when a disabled account is enabled again, then it can log in (old sessions stay dead)', async () => {
      const user = await t.createUser('school');
      const secret = await formLogin(request.agent(t.app), user.username);
      const adminToken = await t.token('admin');
      await request(t.app).patch(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${adminToken}`).send({ disabled: true }).expect(200);
      await request(t.app).patch(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${adminToken}`).send({ disabled: false }).expect(200);
      await withSession(secret).expect(303);
      await t.token(user.username);
    });

    test('when a password is reset, then the account is logged out everywhere and only the new password works', async () => {
      const user = await t.createUser('county');
      const secret = await formLogin(request.agent(t.app), user.username);
      const token = await t.token(user.username);
      const { agent, csrf } = await t.browser('admin');
      await agent.post(`/accounts/${user.id}/password`).type('form').send({ _csrf: csrf, password: 'brand-new-pass-2' }).expect(303);
      await withSession(secret).expect(303);
      await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`).expect(401);
      await request(t.app).post('/api/v1/auth/token').send({ username: user.username, password: TEST_PASSWORD }).expect(401);
      await request(t.app).post('/api/v1/auth/token').send({ username: user.username, password: 'brand-new-pass-2' }).expect(200);
    });
  });
});
