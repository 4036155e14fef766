import request from 'supertest';
import { createTestApp, TEST_PASSWORD, type TestApp } from '../support/app';
import { createEntry } from '../support/factories';

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
 * reviewer of 离石区, "other county" the reviewer of 孝义市. `:entry` is a submitted entry of
 * `:school` whose guardians' authorisation has a signed scan: the scan is readable only by the
 * school, its county and the city.
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
  robot: string;
  robot2: string;
  /** a second campaign (筹备中), closed by its row below: campaign rows come in this order */
  spare: string;
  sparePeriod: string;
  /** a submitted entry of `:school` with an authorisation and a signed scan */
  entry: string;
  round: string;
}
type Body = (f: Fixtures) => Record<string, unknown>;
interface Row {
  kind: 'page' | 'api';
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: Body;
  /** multipart upload of a one-school CSV instead of a body */
  upload?: boolean;
  expect: Statuses;
  /** the problem code of a 409 answer, when not the usual invalid_state */
  conflictCode?: string;
}

let n = 0;
const uniqueName = () => `矩阵学校${Date.now().toString(36)}${++n}`;
const uniqueUser = () => `matrix${Date.now().toString(36)}${++n}`;

const schoolBody: Body = () => ({ name: uniqueName(), countyId: 'c-lishi' });
const renameBody: Body = () => ({ name: uniqueName(), countyId: 'c-lishi', level: 'primary' });
const accountBody: Body = (f) => ({ username: uniqueUser(), password: 'matrix-pass-1', displayName: '矩阵账号', role: 'school', schoolId: f.school });
const learningBody: Body = () => ({ teachers: 10, classes: 4, songs: [] });
const periodForm: Body = () => ({ name: '第一期报送', quota: '12', submitBy: '2031-05-20T18:00', forwardBy: '2031-05-27T18:00' });

const robotBody: Body = () => ({
  name: '矩阵机器人',
  kind: 'wecom',
  countyId: 'c-lishi',
  url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=matrix',
  enabled: 'on',
});

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
  page('GET',  '/org/schools/import/template.csv',    [303, 403,  403,   403,  403, 403, 200]),
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
  // 消息: everyone's own messages and settings (someone else's message id changes nothing); robots: the city's.
  page('GET',  '/notifications',                      [303, 200,  200,   200,  200, 200, 200]),
  page('POST', '/notifications/read',                 [303, 303,  303,   303,  303, 303, 303], { body: () => ({ all: '1' }) }),
  page('POST', '/notifications/1/open',               [303, 303,  303,   303,  303, 303, 303]),
  page('GET',  '/notifications/settings',             [303, 200,  200,   200,  200, 200, 200]),
  page('POST', '/notifications/settings',             [303, 303,  303,   303,  303, 303, 303], { body: () => ({ email: 'matrix@example.cn', emailNotify: 'on' }) }),
  page('GET',  '/notifications/robots',               [303, 403,  403,   403,  403, 403, 200]),
  page('POST', '/notifications/robots',               [303, 403,  403,   403,  403, 403, 303], { body: robotBody }),
  page('POST', '/notifications/robots/:robot/delete', [303, 403,  403,   403,  403, 403, 303]),
  // Everyone's own password (a wrong current password: 400, so no session in this table ends).
  page('GET',  '/account/password',                   [303, 200,  200,   200,  200, 200, 200]),
  page('POST', '/account/password',                   [303, 400,  400,   400,  400, 400, 400], { body: () => ({ currentPassword: 'not-my-pass', newPassword: 'matrix-new-1', confirmPassword: 'matrix-new-1' }) }),

  api('GET',   '/openapi.json',                       [200, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/me',                                 [401, 200,  200,   200,  200, 200, 200]),
  api('POST',  '/me/password',                        [401, 400,  400,   400,  400, 400, 400], { body: () => ({ currentPassword: 'not-my-pass', newPassword: 'matrix-new-1' }) }),
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
  api('GET',   '/todo',                               [401, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/notifications',                      [401, 200,  200,   200,  200, 200, 200]),
  api('POST',  '/notifications/read',                 [401, 200,  200,   200,  200, 200, 200], { body: () => ({ all: true }) }),
  api('GET',   '/notifications/preferences',          [401, 200,  200,   200,  200, 200, 200]),
  api('PUT',   '/notifications/preferences',          [401, 200,  200,   200,  200, 200, 200], { body: () => ({ email: 'api@example.cn', emailNotify: true }) }),
  api('GET',   '/notifications/robots',               [401, 403,  403,   403,  403, 403, 200]),
  api('POST',  '/notifications/robots',               [401, 403,  403,   403,  403, 403, 201], { body: robotBody }),
  api('DELETE','/notifications/robots/:robot2',       [401, 403,  403,   403,  403, 403, 204]),
  api('DELETE','/notifications/robots/no-such-robot', [401, 403,  403,   403,  403, 403, 404]),

  // Campaigns (issue 16): everyone reads them; only the city creates, opens, closes and clears one.
  page('GET',  '/campaigns',                          [303, 403,  403,   403,  403, 403, 200]),
  page('GET',  '/campaigns/:spare',                   [303, 403,  403,   403,  403, 403, 200]),
  page('POST', '/campaign/switch',                    [303, 303,  303,   303,  303, 303, 303], { body: () => ({ campaignId: 'main', next: '/' }) }),
  api('GET',   '/campaigns',                          [401, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/campaigns/:spare',                   [401, 200,  200,   200,  200, 200, 200]),
  api('GET',   '/campaigns/no-such-campaign',         [401, 404,  404,   404,  404, 404, 404]),
  api('POST',  '/campaigns',                          [401, 403,  403,   403,  403, 403, 201], { body: () => ({ title: uniqueName(), year: 2032 }) }),
  api('POST',  '/campaigns/:spare/status',            [401, 403,  403,   403,  403, 403, 200], { body: () => ({ status: 'running' }) }),
  api('PUT',   '/campaigns/:spare/retention',         [401, 403,  403,   403,  403, 403, 200], { body: () => ({ days: 10 }) }),
  api('POST',  '/campaigns/:spare/close',             [401, 403,  403,   403,  403, 403, 200], { body: () => ({ confirm: true }) }),
  api('POST',  '/campaigns/:spare/retention/dry-run', [401, 403,  403,   403,  403, 403, 201]),
  api('GET',   '/retention-runs/no-such-run',         [401, 403,  403,   403,  403, 403, 404]),
  api('POST',  '/retention-runs/no-such-run/confirm', [401, 403,  403,   403,  403, 403, 404]),
  // A campaign boundary is an authorization boundary: another campaign's period is not found from this one.
  api('GET',   '/periods/:period/quotas',             [401, 403,  200,   200,  403, 403, 200]),
  api('GET',   '/periods/:period/quotas?campaignId=:spare', [401, 403, 404, 404, 403, 403, 404]),
  // The closed campaign refuses every write, whoever asks (after the role gate): 409 campaign_closed.
  api('PATCH', '/periods/:sparePeriod',               [401, 403,  403,   403,  403, 403, 409], { body: () => ({ quota: 12 }), conflictCode: 'campaign_closed' }),
  // Naming a campaign that does not exist is answered before anything else.
  api('GET',   '/entries?campaignId=no-such-campaign', [404, 404, 404,   404,  404, 404, 404]),

  // Guardian authorisation (授权书): never judges, TV or the public; another county's reviewer gets 404.
  page('GET',  '/entries/:entry/consent',             [303, 200,  200,   404,  403, 403, 200]),
  page('GET',  '/consent/settings',                   [303, 200,  200,   200,  403, 403, 200]),
  page('POST', '/consent/settings',                   [303, 403,  403,   403,  403, 403, 303], { body: () => ({ requireScan: 'false' }) }),
  page('GET',  '/my-data',                            [303, 200,  403,   403,  403, 403, 403]),
  page('GET',  '/schools/:school/personal-data',      [303, 403,  403,   403,  403, 403, 200]),
  api('GET',   '/entries/:entry/consent',             [401, 200,  200,   404,  403, 403, 200]),
  api('PUT',   '/entries/:entry/consent',             [401, 200,  403,   403,  403, 403, 403], { body: () => ({ declaration: true, signerName: '王校长', scopes: ['public'] }) }),
  api('GET',   '/entries/:entry/consent/scan',        [401, 200,  200,   404,  403, 403, 200]),
  api('GET',   '/entries/:entry/consent/template.pdf',[401, 200,  200,   404,  403, 403, 200]),
  api('GET',   '/consent/settings',                   [401, 200,  200,   200,  403, 403, 200]),
  api('PUT',   '/consent/settings',                   [401, 403,  403,   403,  403, 403, 200], { body: () => ({ requireScan: false }) }),
  api('GET',   '/schools/:school/export.zip',         [401, 200,  403,   403,  403, 403, 403]),
  api('GET',   '/schools/:cityDirectSchool/export.zip', [401, 404, 403,   403,  403, 403, 403]),
  api('POST',  '/schools/:cityDirectSchool/erase-personal-data', [401, 403, 403, 403, 403, 403, 200], { body: () => ({ reason: '矩阵测试申请' }) }),

  // 人人会唱: a school reports for itself only (the matrix's school is :school; a valid body is checked
  // in test/http/learning.test.ts: here an empty song list → 400 shows the caller got past authorization).
  page('GET',  '/learning',                           [303, 200,  303,   303,  403, 403, 303]),
  page('POST', '/learning',                           [303, 400,  403,   403,  403, 403, 403], { body: () => ({ teachers: '10', classes: '4' }) }),
  page('GET',  '/learning/coverage',                  [303, 403,  200,   200,  403, 403, 200]),
  page('POST', '/learning/deadline',                  [303, 403,  403,   403,  403, 403, 303], { body: () => ({ deadline: '2099-06-30' }) }),
  api('GET',   '/schools/:school/learning',           [401, 200,  200,   404,  403, 403, 200]),
  api('GET',   '/schools/:cityDirectSchool/learning', [401, 404,  404,   404,  403, 403, 200]),
  api('PUT',   '/schools/:school/learning',           [401, 400,  403,   404,  403, 403, 403], { body: learningBody }),
  api('PUT',   '/schools/:cityDirectSchool/learning', [401, 404,  404,   404,  403, 403, 403], { body: learningBody }),
  api('GET',   '/learning/deadline',                  [401, 200,  200,   200,  403, 403, 200]),
  api('PUT',   '/learning/deadline',                  [401, 403,  403,   403,  403, 403, 200], { body: () => ({ deadline: '2099-06-30' }) }),
  api('GET',   '/stats/learning',                     [401, 403,  200,   200,  403, 403, 200]),
  api('GET',   '/exports/learning.xlsx',              [401, 403,  200,   200,  403, 403, 200]),

  // 获奖证书: the city makes them; a school / county downloads its own; the number is public.
  page('GET',  '/rounds/:round/certificates',         [303, 403,  403,   403,  403, 403, 200]),
  page('POST', '/rounds/:round/certificates',         [303, 403,  403,   403,  403, 403, 303]),
  page('GET',  '/certificates',                       [303, 200,  200,   200,  403, 403, 200]),
  page('POST', '/certificates/NOPE-00001/revoke',     [303, 403,  403,   403,  403, 403, 404], { body: () => ({ reason: '矩阵' }) }),
  // The upload is a CSV, not a PNG: the city is told so on its page (303 with a message).
  page('POST', '/certificates/seal',                  [303, 403,  403,   403,  403, 403, 303], { upload: true }),
  api('POST',  '/rounds/:round/certificates',         [401, 403,  403,   403,  403, 403, 202], { body: () => ({}) }),
  api('GET',   '/rounds/:round/certificates',         [401, 403,  403,   403,  403, 403, 200]),
  api('GET',   '/rounds/:round/certificates.zip',     [401, 403,  403,   403,  403, 403, 404]),
  api('GET',   '/rounds/:round/certificates/print.pdf', [401, 403, 403,  403,  403, 403, 409]),
  api('GET',   '/schools/:school/certificates',       [401, 200,  200,   404,  403, 403, 200]),
  api('GET',   '/schools/:cityDirectSchool/certificates', [401, 404, 404, 404,  403, 403, 200]),
  api('GET',   '/schools/:school/certificates.zip',   [401, 404,  404,   404,  403, 403, 404]),
  api('GET',   '/certificates/NOPE-00001',            [404, 404,  404,   404,  404, 404, 404]),
  api('GET',   '/certificates/NOPE-00001/pdf',        [401, 404,  404,   404,  403, 403, 404]),
  api('POST',  '/certificates/NOPE-00001/revoke',     [401, 403,  403,   403,  403, 403, 404], { body: () => ({ reason: '矩阵' }) }),
  api('PUT',   '/certificates/seal',                  [401, 403,  403,   403,  403, 403, 400], { upload: true }),
  api('DELETE', '/certificates/seal',                 [401, 403,  403,   403,  403, 403, 200]),
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

const PROBLEM_CODE: Record<number, string> = { 400: 'validation_failed', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'invalid_state' };
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
    await t.container.database.db.insertInto('campaigns').values({ id: 'spare-2031', title: '矩阵备用活动', year: 2031, status: 'preparing' }).execute();
    t.container.campaign.forgetList(); // written by hand, past the service's cached list
    const period = await t.container.database.db.selectFrom('periods').select('id').where('campaign_id', '=', 'main').executeTakeFirstOrThrow();
    const sparePeriod = await t.container.database.db
      .insertInto('periods')
      .values({ campaign_id: 'spare-2031', name: '备用报送期', submit_by: '2031-05-20T10:00:00Z', forward_by: '2031-05-27T10:00:00Z', quota: 5 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const adminUser = { id: admin.id, username: 'admin', displayName: 'admin', role: 'admin' as const, countyId: null, schoolId: null };
    const robot = await t.container.notifications.addRobot(adminUser, robotBody({} as Fixtures));
    const robot2 = await t.container.notifications.addRobot(adminUser, robotBody({} as Fixtures));
    const round = await t.container.database.db
      .insertInto('rounds')
      .values({ campaign_id: 'main', name: '矩阵轮次', judges_per_entry: 1, blind: true, aggregation: 'mean', rubric: '[]', awards_confirmed_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    f = {
      school: school.id,
      account: account.id,
      admin: admin.id,
      period: period.id,
      cityDirectSchool: cityDirect.id,
      spare: 'spare-2031',
      sparePeriod: sparePeriod.id,
      robot: robot.id,
      robot2: robot2.id,
      entry: '',
      round: round.id,
    };

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
    f.entry = await submittedEntryWithScan(t, tokens.get('school')!);
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
      req =
        row.method === 'GET'
          ? agent.get(path)
          : row.method === 'PATCH'
            ? agent.patch(path)
            : row.method === 'PUT'
              ? agent.put(path)
              : row.method === 'DELETE'
                ? agent.delete(path)
                : agent.post(path);
      const token = tokens.get(caller);
      if (token) req = req.set('Authorization', `Bearer ${token}`);
      if (row.upload) req = req.attach('file', Buffer.from(`学校名称,所属县区\n${uniqueName()},离石区\n`), 'schools.csv');
      else if (body) req = req.send(body);
    }
    const res = await req;

    expect({ status: res.status, body: res.status >= 400 ? res.body : undefined }).toMatchObject({ status });
    if (row.kind === 'api' && status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe(status === 409 && row.conflictCode ? row.conflictCode : PROBLEM_CODE[status]);
    }
    if (row.kind === 'page') {
      if (caller === 'anonymous') expect(res.headers.location).toMatch(/^\/login\?next=/);
      else if (status === 303) expect(res.headers.location).not.toMatch(/^\/login/);
      if (PAGE_TITLE[status]) expect(res.text).toContain(PAGE_TITLE[status]);
    }
  });
});

/** A submitted entry of the token's school whose authorisation carries a signed PDF scan. */
async function submittedEntryWithScan(t: TestApp, schoolToken: string): Promise<string> {
  const entry = await createEntry(t, schoolToken, { title: '矩阵作品' });
  await request(t.app)
    .put(`/api/v1/entries/${entry.id}/consent`)
    .set('Authorization', `Bearer ${schoolToken}`)
    .field('scopes', 'public')
    .attach('scan', Buffer.from('%PDF-1.4\n矩阵\n%%EOF\n'), 'scan.pdf')
    .expect(200);
  await t.container.database.db.updateTable('entries').set({ status: 'submitted' }).where('id', '=', entry.id).execute();
  return entry.id;
}
