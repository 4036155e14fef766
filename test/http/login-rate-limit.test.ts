import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/**
 * Login rate limit (SECURITY.md 19): after `LOGIN_MAX_FAILURES` failures for one username (or five
 * times that from one address) within the window, the answer is 429 `rate_limited` with
 * Retry-After — even with the right password. The test app trusts X-Forwarded-For so each test
 * can speak from its own address.
 */
const MAX = 4;
const WINDOW_MINUTES = 15;
let ipCounter = 0;
const freshIp = () => `203.0.113.${++ipCounter}`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

describe('login rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_MAX_FAILURES: String(MAX), LOGIN_WINDOW_MINUTES: String(WINDOW_MINUTES), TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const tokenLogin = (ip: string, username: string, password: string) => request(t.app).post('/api/v1/auth/token').set('X-Forwarded-For', ip).send({ username, password });

  test('when a username has failed the bound number of times, then even the right password gets 429 rate_limited with Retry-After', async () => {
    const user = await t.createUser('school');
    const ip = freshIp();
    for (let i = 0; i < MAX; i++) {
      const res = await tokenLogin(ip, user.username, `wrong-password-${i}`);
      expect(res.status).toBe(401);
    }
    const limited = await tokenLogin(ip, user.username, TEST_PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ code: 'rate_limited', status: 429, title: '尝试次数过多' });
    expect(limited.body.detail).toContain('分钟后再试');
    expect(Number(limited.headers['retry-after'])).toBe(WINDOW_MINUTES * 60);
    // Another address does not help: the limit is per username too.
    expect((await tokenLogin(freshIp(), user.username, TEST_PASSWORD)).status).toBe(429);
  });

  test('when the limited username uses the HTML login form, then the page answers 429 in Chinese with Retry-After', async () => {
    const user = await t.createUser('county');
    const ip = freshIp();
    for (let i = 0; i < MAX; i++) await tokenLogin(ip, user.username, 'wrong-password').expect(401);
    const agent = request.agent(t.app);
    const page = await agent.get('/login').expect(200);
    const res = await agent.post('/login').set('X-Forwarded-For', ip).type('form').send({ _csrf: csrfOf(page.text), username: user.username, password: TEST_PASSWORD });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe(String(WINDOW_MINUTES * 60));
    expect(res.text).toContain('尝试次数过多');
    expect((res.headers['set-cookie'] as unknown as string[] | undefined)?.some((c) => c.startsWith('cx_sid='))).toBeFalsy();
  });

  test('when many wrong passwords arrive at the same moment, then no more than the bound are actually tried', async () => {
    const user = await t.createUser('school');
    const answers = await Promise.all(Array.from({ length: 20 }, () => tokenLogin(freshIp(), user.username, 'wrong-password')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(MAX);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20 - MAX);
    const recorded = await t.container.database.db.selectFrom('login_failures').select('id').where('username', '=', user.username.toLowerCase()).execute();
    expect(recorded).toHaveLength(statuses.filter((s) => s === 401).length); // each tried guess is counted, refused ones are not
  });

  test('when the user is unknown or the password wrong, then both get the same 401 and later the same 429', async () => {
    const user = await t.createUser('judge');
    const answers = { known: [] as request.Response[], unknown: [] as request.Response[] };
    for (let i = 0; i <= MAX; i++) {
      answers.known.push(await tokenLogin(freshIp(), user.username, 'wrong-password'));
      answers.unknown.push(await tokenLogin(freshIp(), 'nobody-by-this-name', 'wrong-password'));
    }
    const shape = (r: request.Response) => ({ status: r.status, body: r.body, type: r.headers['content-type'], retryAfter: r.headers['retry-after'] });
    expect(answers.known.map(shape)).toEqual(answers.unknown.map(shape));
    expect(answers.known.map((r) => r.status)).toEqual([...Array(MAX).fill(401), 429]);
    expect(answers.known[0].body).toMatchObject({ code: 'unauthenticated', detail: '用户名或密码不正确。' });
  });

  test('when one address fails against many usernames, then that address is limited after five times the bound', async () => {
    const ip = freshIp();
    for (let i = 0; i < MAX * 5; i++) await tokenLogin(ip, `sprayed-${i}`, 'wrong-password').expect(401);
    const victim = await t.createUser('tv');
    expect((await tokenLogin(ip, victim.username, TEST_PASSWORD)).status).toBe(429);
    expect((await tokenLogin(freshIp(), victim.username, TEST_PASSWORD)).status).toBe(200);
  });

  test('when the window has passed, then the user can log in again; a success clears the failures', async () => {
    const user = await t.createUser('school');
    const ip = freshIp();
    for (let i = 0; i < MAX; i++) await tokenLogin(ip, user.username, 'wrong-password').expect(401);
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(429);
    await t.container.database.db
      .updateTable('login_failures')
      .set({ at: new Date(Date.now() - (WINDOW_MINUTES + 1) * 60_000) })
      .where('username', '=', user.username.toLowerCase())
      .execute();
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(200);
    for (let i = 0; i < MAX - 1; i++) await tokenLogin(ip, user.username, 'wrong-password').expect(401);
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(200);
    const left = await t.container.database.db.selectFrom('login_failures').select('id').where('username', '=', user.username.toLowerCase()).execute();
    expect(left).toHaveLength(0);
  });

  test('when the username differs only in case or spaces, then it counts against the same account', async () => {
    const user = await t.createUser('school');
    for (let i = 0; i < MAX; i++) await tokenLogin(freshIp(), ` ${user.username.toUpperCase()} `, 'wrong-password').expect(401);
    expect((await tokenLogin(freshIp(), user.username, TEST_PASSWORD)).status).toBe(429);
  });
});
