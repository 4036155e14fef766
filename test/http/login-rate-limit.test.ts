import { sql } from 'kysely';
import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/**
 * Login protection (docs/security.md 19, issue 13 item 8; README "Login protection"). With P =
 * LOGIN_MAX_FAILURES and W = LOGIN_WINDOW_MINUTES: per (account, address) P free failures, then
 * 1, 2, 4 … minutes (at most W) between tries; per account 5·P failures from anywhere slow unknown
 * addresses to one try a minute (never a lock; known addresses unaffected); per address 20·P
 * failures refuse it for W except for accounts that have logged in from it. An admin can clear an
 * account's failures; lockouts and unlocks are audited. The test app trusts X-Forwarded-For so each
 * test can speak from its own addresses; passing time is simulated by moving the failures back.
 */
const P = 4;
const WINDOW_MINUTES = 15;
let ipCounter = 0;
const freshIp = () => `203.0.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

describe('login protection', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_MAX_FAILURES: String(P), LOGIN_WINDOW_MINUTES: String(WINDOW_MINUTES), TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const db = () => t.container.database.db;
  const tokenLogin = (ip: string, username: string, password: string) =>
    request(t.app).post('/api/v1/auth/token').set('X-Forwarded-For', ip).send({ username, password });
  const fail = async (ip: string, username: string, times: number) => {
    for (let i = 0; i < times; i++) await tokenLogin(ip, username, `wrong-password-${i}`).expect(401);
  };
  /** Time passes for the failures of this account: they all move `seconds` into the past. */
  const passes = (username: string, seconds: number) =>
    db()
      .updateTable('login_failures')
      .set((eb) => ({ at: eb('at', '-', sqlInterval(seconds)) }))
      .where('username', '=', username.toLowerCase())
      .execute();
  const retryAfter = (res: request.Response) => Number(res.headers['retry-after']);

  test('when one address has failed P times, then it waits — even with the right password — while the owner elsewhere logs in at once', async () => {
    const user = await t.createUser('school');
    const guesser = freshIp();
    await fail(guesser, user.username, P);
    const limited = await tokenLogin(guesser, user.username, TEST_PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ code: 'rate_limited', status: 429, title: '尝试次数过多', detail: '尝试次数过多，请 1 分钟后再试。' });
    expect(retryAfter(limited)).toBeGreaterThan(55);
    expect(retryAfter(limited)).toBeLessThanOrEqual(60);
    // A stranger's failures do not lock the account: its owner, from another address, gets in.
    await tokenLogin(freshIp(), user.username, TEST_PASSWORD).expect(200);
  });

  test('when the address keeps failing after each wait, then the waits grow 1, 2, 4 minutes and stop at the window', async () => {
    const user = await t.createUser('county');
    const ip = freshIp();
    await fail(ip, user.username, P);
    const waits: number[] = [];
    for (let round = 0; round < 5; round++) {
      const refused = await tokenLogin(ip, user.username, 'wrong').expect(429);
      waits.push(Math.round(retryAfter(refused) / 60));
      await passes(user.username, retryAfter(refused) + 1);
      await tokenLogin(ip, user.username, 'wrong').expect(401); // one more guess, and the next wait doubles
    }
    expect(waits).toEqual([1, 2, 4, 8, WINDOW_MINUTES]);
  });

  test('when many addresses fail against one account, then it is slowed for unknown addresses to one try a minute, never locked, and not slowed for its owner’s usual address', async () => {
    const user = await t.createUser('admin');
    const office = freshIp();
    await tokenLogin(office, user.username, TEST_PASSWORD).expect(200); // the owner's usual address
    for (let i = 0; i < 5 * P; i++) await fail(freshIp(), user.username, 1);
    const stranger = freshIp();
    const slowed = await tokenLogin(stranger, user.username, TEST_PASSWORD).expect(429);
    expect(retryAfter(slowed)).toBeLessThanOrEqual(60);
    await tokenLogin(office, user.username, TEST_PASSWORD).expect(200); // known address: not slowed
    await passes(user.username, 61);
    await tokenLogin(stranger, user.username, TEST_PASSWORD).expect(200); // slowed, not locked
    const audit = await db()
      .selectFrom('audit_log')
      .select(['detail'])
      .where('action', '=', 'login.lockout')
      .where('object_id', '=', user.username.toLowerCase())
      .execute();
    expect(audit.map((a) => (a.detail as { scope: string }).scope)).toEqual(['account']);
  });

  test('when one address sprays many accounts, then it is refused for new accounts, but teachers who logged in from it before still get in', async () => {
    const school = freshIp(); // a school's NAT
    const teacher = await t.createUser('school');
    await tokenLogin(school, teacher.username, TEST_PASSWORD).expect(200);
    for (let i = 0; i < 20 * P; i++) await tokenLogin(school, `sprayed-${ipCounter}-${i}`, 'wrong-password').expect(401);
    const fresh = await t.createUser('school');
    const refused = await tokenLogin(school, fresh.username, TEST_PASSWORD).expect(429);
    expect(retryAfter(refused)).toBe(WINDOW_MINUTES * 60);
    await tokenLogin(school, teacher.username, TEST_PASSWORD).expect(200);
    await tokenLogin(freshIp(), fresh.username, TEST_PASSWORD).expect(200);
    const audit = await db().selectFrom('audit_log').select(['detail']).where('action', '=', 'login.lockout').execute();
    expect(audit.filter((a) => (a.detail as { scope: string; ip: string }).scope === 'address' && (a.detail as { ip: string }).ip === school)).toHaveLength(1);
  });

  test('when many wrong passwords arrive from one address at the same moment, then no more than P are actually tried', async () => {
    const user = await t.createUser('school');
    const ip = freshIp();
    const answers = await Promise.all(Array.from({ length: 20 }, () => tokenLogin(ip, user.username, 'wrong-password')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(P);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20 - P);
    const recorded = await db().selectFrom('login_failures').select('id').where('username', '=', user.username.toLowerCase()).execute();
    expect(recorded).toHaveLength(statuses.filter((s) => s === 401).length); // each tried guess is counted, refused ones are not
  });

  test('when the user is unknown or the password wrong, then both get the same 401 and later the same 429', async () => {
    const user = await t.createUser('judge');
    const [a, b] = [freshIp(), freshIp()];
    const answers = { known: [] as request.Response[], unknown: [] as request.Response[] };
    for (let i = 0; i <= P; i++) {
      answers.known.push(await tokenLogin(a, user.username, 'wrong-password'));
      answers.unknown.push(await tokenLogin(b, 'nobody-by-this-name', 'wrong-password'));
    }
    const shape = (r: request.Response) => ({ status: r.status, body: r.body, type: r.headers['content-type'], retryAfter: Math.round(retryAfter(r) / 10) });
    expect(answers.known.map(shape)).toEqual(answers.unknown.map(shape));
    expect(answers.known.map((r) => r.status)).toEqual([...Array(P).fill(401), 429]);
    expect(answers.known[0].body).toMatchObject({ code: 'unauthenticated', detail: '用户名或密码不正确。' });
  });

  test('when the username differs only in case or spaces, then it counts against the same account', async () => {
    const user = await t.createUser('school');
    const ip = freshIp();
    for (let i = 0; i < P; i++) await tokenLogin(ip, ` ${user.username.toUpperCase()} `, 'wrong-password').expect(401);
    expect((await tokenLogin(ip, user.username, TEST_PASSWORD)).status).toBe(429);
  });

  test('when the window has passed or the right password is given in time, then that address’s failures are gone', async () => {
    const user = await t.createUser('school');
    const ip = freshIp();
    await fail(ip, user.username, P);
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(429);
    await passes(user.username, (WINDOW_MINUTES + 1) * 60);
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(200);
    await fail(ip, user.username, P - 1);
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(200);
    expect(await db().selectFrom('login_failures').select('id').where('username', '=', user.username.toLowerCase()).execute()).toHaveLength(0);
  });

  test('when the limited account uses the HTML login form, then the page answers 429 in Chinese with Retry-After and no session', async () => {
    const user = await t.createUser('county');
    const ip = freshIp();
    await fail(ip, user.username, P);
    const agent = request.agent(t.app);
    const page = await agent.get('/login').expect(200);
    const res = await agent
      .post('/login')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ _csrf: csrfOf(page.text), username: user.username, password: TEST_PASSWORD });
    expect(res.status).toBe(429);
    expect(retryAfter(res)).toBeGreaterThan(0);
    expect(res.text).toContain('尝试次数过多');
    expect((res.headers['set-cookie'] as unknown as string[] | undefined)?.some((c) => c.startsWith('cx_sid='))).toBeFalsy();
  });

  test('when an admin unlocks a limited account (API and page), then its failures are gone, it logs in at once, and lockout and unlock are audited', async () => {
    const user = await t.createUser('school');
    const ip = freshIp();
    await fail(ip, user.username, P);
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(429);
    const admin = await t.token('admin');
    const before = await request(t.app).get(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${admin}`).expect(200);
    expect(before.body.login).toEqual({ failures: P, addresses: 1, limited: true });
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    await request(t.app)
      .post(`/api/v1/users/${user.id}/unlock`)
      .set('Authorization', `Bearer ${await t.token(county.username)}`)
      .expect((r) => expect([403, 404]).toContain(r.status));
    expect((await request(t.app).post(`/api/v1/users/${user.id}/unlock`).set('Authorization', `Bearer ${admin}`).expect(200)).body).toEqual({ cleared: P });
    await tokenLogin(ip, user.username, TEST_PASSWORD).expect(200);

    // The page: the account shows its state and an unlock button; the button clears it.
    const other = await t.createUser('school');
    await fail(ip, other.username, P);
    const { agent, csrf } = await t.browser('admin');
    const show = await agent.get(`/accounts/${other.id}`).expect(200);
    expect(show.text).toContain('登录受限');
    expect(show.text).toContain(`action="/accounts/${other.id}/unlock"`);
    const done = await agent.post(`/accounts/${other.id}/unlock`).type('form').send({ _csrf: csrf }).expect(303);
    expect(done.headers.location).toBe(`/accounts/${other.id}?msg=login_unlocked`);
    expect((await agent.get(done.headers.location).expect(200)).text).toContain('已解除该账号的登录限制。');
    await tokenLogin(ip, other.username, TEST_PASSWORD).expect(200);

    const audit = await db()
      .selectFrom('audit_log')
      .select(['action', 'object_id', 'actor_name', 'detail'])
      .where('action', 'in', ['login.lockout', 'login.unlock'])
      .where((eb) => eb.or([eb('object_id', '=', user.username.toLowerCase()), eb('object_id', '=', user.id)]))
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      {
        action: 'login.lockout',
        object_id: user.username.toLowerCase(),
        actor_name: 'system',
        detail: expect.objectContaining({ scope: 'account_address', ip, failures: P }),
      },
      { action: 'login.unlock', object_id: user.id, actor_name: 'admin', detail: { username: user.username.toLowerCase(), cleared: P } },
    ]);
  });
});

const sqlInterval = (seconds: number) => sql<Date>`make_interval(secs => ${seconds})`;
