import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';

/**
 * THE authorization matrix: every route added so far × every kind of caller → the status a caller
 * gets. Read a row left to right: who may do what.
 *
 * - anonymous: API → 401 `unauthenticated`; pages → 303 to /login.
 * - a role that may never use this part of the product → 403 `forbidden`.
 * - an object outside the caller's scope (another county's school or account) → 404 `not_found`,
 *   exactly like an id that does not exist.
 * - otherwise 2xx (pages that change something answer 303 to the next page).
 *
 * Fixtures: `:school` is a school in 离石区 (c-lishi); `:account` is a school account of that
 * school; `:admin` the first admin account; `:period` the seeded period. "county" is the
 * reviewer of 离石区, "other county" the reviewer of 孝义市.
 */
const CALLERS = ['anonymous', 'school', 'county', 'otherCounty', 'judge', 'tv', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
type Statuses = [anonymous: number, school: number, county: number, otherCounty: number, judge: number, tv: number, admin: number];

interface Fixtures {
  school: string;
  account: string;
  admin: string;
  period: string;
  cityDirectSchool: string;
}
type Body = (f: Fixtures) => Record<string, unknown>;
interface Row {
  kind: 'page' | 'api';
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: Body;
  /** multipart upload of a one-school CSV instead of a body */
  upload?: boolean;
  expect: Statuses;
}

let n = 0;
const uniqueName = () => `矩阵学校${Date.now().toString(36)}${++n}`;
const uniqueUser = () => `matrix${Date.now().toString(36)}${++n}`;

const schoolBody: Body = () => ({ name: uniqueName(), countyId: 'c-lishi' });
const renameBody: Body = () => ({ name: uniqueName(), countyId: 'c-lishi', level: 'primary' });
const accountBody: Body = (f) => ({ username: uniqueUser(), password: 'matrix-pass-1', displayName: '矩阵账号', role: 'school', schoolId: f.school });
const periodForm: Body = () => ({ name: '第一期报送', quota: '12', submitBy: '2031-05-20T18:00', forwardBy: '2031-05-27T18:00' });

const page = (method: Row['method'], path: string, expect: Statuses, extra: Partial<Row> = {}): Row => ({ kind: 'page', method, path, expect, ...extra });
const api = (method: Row['method'], path: string, expect: Statuses, extra: Partial<Row> = {}): Row => ({
  kind: 'api',
  method,
  path: `/api/v1${path}`,
  expect,
  ...extra,
});

// prettier-ignore
const MATRIX: Row[] = [
  //                                                  anon school county other judge  tv  admin
  page('GET',  '/',                                   [303, 200,  200,   200,  200, 200, 200]),
  page('GET',  '/campaign',                           [303, 200,  200,   200,  200, 200, 200]),
  page('POST', '/campaign/periods/:period',           [303, 403,  403,   403,  403, 403, 303], { body: periodForm }),
  page('GET',  '/org/counties',                       [303, 403,  403,   403,  403, 403, 200]),
  page('GET',  '/org/schools',                        [303, 403,  200,   200,  403, 403, 200]),
  page('GET',  '/org/schools/new',                    [303, 403,  200,   200,  403, 403, 200]),
  // "other county" names 离石区 in the body: creating a school in another county is refused.
  page('POST', '/org/schools',                        [303, 403,  303,   403,  403, 403, 303], { body: schoolBody }),
  page('GET',  '/org/schools/:school/edit',           [303, 403,  200,   404,  403, 403, 200]),
  page('GET',  '/org/schools/:cityDirectSchool/edit', [303, 403,  404,   404,  403, 403, 200]),
  page('POST', '/org/schools/:school',                [303, 403,  303,   404,  403, 403, 303], { body: renameBody }),
  page('GET',  '/org/schools/import',                 [303, 403,  403,   403,  403, 403, 200]),
  page('POST', '/org/schools/import',                 [303, 403,  403,   403,  403, 403, 303], { upload: true }),
  page('GET',  '/accounts',                           [303, 403,  200,   200,  403, 403, 200]),
  page('GET',  '/accounts/new',                       [303, 403,  200,   200,  403, 403, 200]),
  // For another county's school the form answers 400 "所属学校不存在" — the same as an unknown school.
  page('POST', '/accounts',                           [303, 403,  303,   400,  403, 403, 303], { body: accountBody }),
  page('GET',  '/accounts/:account',                  [303, 403,  200,   404,  403, 403, 200]),
  page('GET',  '/accounts/:admin',                    [303, 403,  404,   404,  403, 403, 200]),
  page('POST', '/accounts/:account',                  [303, 403,  303,   404,  403, 403, 303], { body: () => ({ displayName: '改过的名称' }) }),
  page('POST', '/accounts/:account/disable',          [303, 403,  303,   404,  403, 403, 303]),
  page('POST', '/accounts/:account/enable',           [303, 403,  303,   404,  403, 403, 303]),
  page('POST', '/accounts/:account/password',         [303, 403,  303,   404,  403, 403, 303], { body: () => ({ password: 'reset-pass-1' }) }),
  // Unlocking a login is the admin's alone (a county reviewer manages its schools' accounts, but not this).
  page('POST', '/accounts/:account/unlock',           [303, 403,  403,   404,  403, 403, 303]),

  api('GET',   '/openapi.json',                       [200, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/me',                                 [401, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/campaign',                           [401, 200,  200,   200,  200, 200, 200]),
  api('PATCH', '/periods/:period',                    [401, 403,  403,   403,  403, 403, 200], { body: () => ({ quota: 11 }) }),
  api('GET',   '/counties',                           [401, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/schools',                            [401, 403,  200,   200,  403, 403, 200]),
  api('POST',  '/schools',                            [401, 403,  201,   403,  403, 403, 201], { body: schoolBody }),
  api('GET',   '/schools/:school',                    [401, 403,  200,   404,  403, 403, 200]),
  api('GET',   '/schools/:cityDirectSchool',          [401, 403,  404,   404,  403, 403, 200]),
  api('GET',   '/schools/no-such-school',             [401, 403,  404,   404,  403, 403, 404]),
  api('PATCH', '/schools/:school',                    [401, 403,  200,   404,  403, 403, 200], { body: () => ({ name: uniqueName() }) }),
  api('POST',  '/schools/import',                     [401, 403,  403,   403,  403, 403, 201], { upload: true }),
  api('GET',   '/users',                              [401, 403,  200,   200,  403, 403, 200]),
  api('POST',  '/users',                              [401, 403,  201,   400,  403, 403, 201], { body: accountBody }),
  api('GET',   '/users/:account',                     [401, 403,  200,   404,  403, 403, 200]),
  api('GET',   '/users/:admin',                       [401, 403,  404,   404,  403, 403, 200]),
  api('GET',   '/users/no-such-user',                 [401, 403,  404,   404,  403, 403, 404]),
  api('PATCH', '/users/:account',                     [401, 403,  200,   404,  403, 403, 200], { body: () => ({ displayName: '接口改名' }) }),
  api('POST',  '/users/:account/unlock',              [401, 403,  403,   404,  403, 403, 200]),
  // New-media packs (issue 19): the city here (the 新媒体编辑 role is checked in test/http/newmedia.test.ts).
  // `:school` is not an entry: for the city that is the same 404 as an entry that is not awarded.
  page('GET',  '/newmedia',                           [303, 403,  403,   403,  403, 403, 200]),
  page('POST', '/newmedia/entries/:school/pack',      [303, 403,  403,   403,  403, 403, 404]),
  api('POST',  '/entries/:school/media-pack',         [401, 403,  403,   403,  403, 403, 404]),
  api('GET',   '/entries/:school/media-pack',         [401, 403,  403,   403,  403, 403, 404]),
  api('GET',   '/entries/:school/media-pack.zip',     [401, 403,  403,   403,  403, 403, 404]),
  api('GET',   '/media-packs',                        [401, 403,  403,   403,  403, 403, 200]),
  // No pack is ready in this database: the city gets 404 "还没有制作完成的新媒体包。"
  api('GET',   '/media-packs.zip',                    [401, 403,  403,   403,  403, 403, 404]),
];

const PROBLEM_CODE: Record<number, string> = { 400: 'validation_failed', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' };
const PAGE_TITLE: Record<number, string> = { 403: '没有权限', 404: '未找到' };

const cases = MATRIX.flatMap((row) => CALLERS.map((caller, i) => ({ row, caller, status: row.expect[i], name: `${row.method} ${row.path}` })));

describe('authorization matrix: every route × every caller', () => {
  let t: TestApp;
  let f: Fixtures;
  const pageAgents = new Map<Caller, { agent: ReturnType<typeof request.agent>; csrf: string }>();
  const tokens = new Map<Caller, string>();

  beforeAll(async () => {
    t = await createTestApp();
    const school = await t.createSchool({ name: '离石区矩阵小学', countyId: 'c-lishi' });
    const cityDirect = await t.createSchool({ name: '市直矩阵中学', countyId: null });
    const account = await t.createUser('school', { schoolId: school.id });
    const admin = await t.container.database.db.selectFrom('users').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow();
    const period = await t.container.database.db.selectFrom('periods').select('id').executeTakeFirstOrThrow();
    f = { school: school.id, account: account.id, admin: admin.id, period: period.id, cityDirectSchool: cityDirect.id };

    const users: Record<Exclude<Caller, 'anonymous'>, string> = {
      school: (await t.createUser('school', { schoolId: school.id })).username,
      county: (await t.createUser('county', { countyId: 'c-lishi' })).username,
      otherCounty: (await t.createUser('county', { countyId: 'c-xiaoyi' })).username,
      judge: (await t.createUser('judge')).username,
      tv: (await t.createUser('tv')).username,
      admin: 'admin',
    };
    await Promise.all(
      (Object.entries(users) as Array<[Caller, string]>).map(async ([caller, username]) => {
        pageAgents.set(caller, await t.browser(username));
        tokens.set(caller, await t.token(username));
      }),
    );
  }, 180_000); // a fresh database and a dozen scrypt logins: generous on a loaded machine
  afterAll(async () => {
    await t.close();
  });

  test('the table covers every caller for every route', () => {
    expect(TEST_PASSWORD).toBeTruthy();
    for (const row of MATRIX) expect(row.expect).toHaveLength(CALLERS.length);
  });

  test.each(cases)('when $caller calls $name, then $status', async ({ row, caller, status }) => {
    const path = row.path.replace(/:(\w+)/g, (_m, key: keyof Fixtures) => f[key]);
    const body = row.body?.(f);
    let req: request.Test;
    if (row.kind === 'page') {
      const session = pageAgents.get(caller);
      const agent = session ? session.agent : request(t.app);
      const csrf = session?.csrf ?? '';
      req = (row.method === 'GET' ? agent.get(path) : agent.post(path)).set('Accept', 'text/html');
      if (row.upload) req = req.field('_csrf', csrf).attach('file', Buffer.from(`学校名称,所属县区\n${uniqueName()},离石区\n`), 'schools.csv');
      else if (row.method !== 'GET') req = req.type('form').send({ ...body, _csrf: csrf });
    } else {
      const agent = request(t.app);
      req = row.method === 'GET' ? agent.get(path) : row.method === 'PATCH' ? agent.patch(path) : agent.post(path);
      const token = tokens.get(caller);
      if (token) req = req.set('Authorization', `Bearer ${token}`);
      if (row.upload) req = req.attach('file', Buffer.from(`学校名称,所属县区\n${uniqueName()},离石区\n`), 'schools.csv');
      else if (body) req = req.send(body);
    }
    const res = await req;

    expect({ status: res.status, body: res.status >= 400 ? res.body : undefined }).toMatchObject({ status });
    if (row.kind === 'api' && status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe(PROBLEM_CODE[status]);
    }
    if (row.kind === 'page') {
      if (caller === 'anonymous') expect(res.headers.location).toMatch(/^\/login\?next=/);
      else if (status === 303) expect(res.headers.location).not.toMatch(/^\/login/);
      if (PAGE_TITLE[status]) expect(res.text).toContain(PAGE_TITLE[status]);
    }
  });
});
