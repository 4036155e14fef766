/**
 * The authorization matrix of issue 18's routes (公示 objections, frozen results, 监督), with the
 * 监督 (supervisor) column the main matrix (authorization-matrix.test.ts) does not have yet:
 * read-only for 监督 — every GET of a round's progress, ranking, revisions, audit trail and the
 * objections answers 200, every change 403; the city both; everyone else 403 (anonymous 401 / 303).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { scoredRound } from '../support/results';

const CALLERS = ['anonymous', 'school', 'county', 'judge', 'tv', 'supervisor', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
type Statuses = [anonymous: number, school: number, county: number, judge: number, tv: number, supervisor: number, admin: number];
interface Fixtures {
  round: string;
  entry: string;
  objection: string;
  pageObjection: string;
  withFile: string;
}
interface Row {
  kind: 'page' | 'api';
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
  expect: Statuses;
}
const page = (method: Row['method'], p: string, expect: Statuses, body?: Row['body']): Row => ({ kind: 'page', method, path: p, expect, body });
const api = (method: Row['method'], p: string, expect: Statuses, body?: Row['body']): Row => ({ kind: 'api', method, path: `/api/v1${p}`, expect, body });
const TIERS = { tiers: [{ award: 'first', count: 1 }] };

// prettier-ignore
const MATRIX: Row[] = [
  //                                                        anon school county judge  tv  super admin
  api('GET',  '/rounds/:round',                             [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/:round/progress',                    [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/:round/ranking',                     [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/:round/judge-stats',                 [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/:round/audit',                       [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/no-such-round/audit',                [401, 403,  403,  403,  403, 404,  404]),
  api('GET',  '/rounds/:round/revisions',                   [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/:round/revisions/0/snapshot.json',   [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/rounds/:round/revisions/9/snapshot.json',   [401, 403,  403,  403,  403, 404,  404]),
  api('GET',  '/rounds',                                    [401, 403,  403,  403,  403, 200,  200]),
  api('POST', '/rounds/:round/publish',                     [401, 403,  403,  403,  403, 403,  200], { objectionContact: '市教育局' }),
  api('POST', '/rounds/:round/awards',                      [401, 403,  403,  403,  403, 403,  200], TIERS),
  api('POST', '/rounds/:round/shortlist',                   [401, 403,  403,  403,  403, 403,  200], { top: 1 }),
  api('GET',  '/rounds/:round/ranking.xlsx',                [401, 403,  403,  403,  403, 403,  200]),
  api('GET',  '/results',                                   [200, 200,  200,  200,  200, 200,  200]),
  api('GET',  '/objections',                                [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/objections/:objection',                     [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/objections/no-such-objection',              [401, 403,  403,  403,  403, 404,  404]),
  api('GET',  '/objections/:withFile/attachment',           [401, 403,  403,  403,  403, 200,  200]),
  api('GET',  '/objections/:objection/attachment',          [401, 403,  403,  403,  403, 404,  404]),
  api('POST', '/objections/:objection/step',                [401, 403,  403,  403,  403, 403,  200], { status: 'accepted' }),
  // Feedback is the school's own (another school's entry: 404, like one that does not exist).
  api('GET',  '/feedback',                                  [401, 200,  403,  403,  403, 403,  403]),
  api('GET',  '/entries/:entry/feedback',                   [401, 404,  403,  403,  403, 403,  403]),

  page('GET',  '/results',                                  [200, 200,  200,  200,  200, 200,  200]),
  page('GET',  '/supervision',                              [303, 403,  403,  403,  403, 200,  200]),
  page('GET',  '/supervision/rounds/:round',                [303, 403,  403,  403,  403, 200,  200]),
  page('GET',  '/supervision/rounds/no-such-round',         [303, 403,  403,  403,  403, 404,  404]),
  page('GET',  '/objections',                               [303, 403,  403,  403,  403, 200,  200]),
  page('GET',  '/feedback',                                 [303, 200,  403,  403,  403, 403,  403]),
  page('GET',  '/objections/:objection',                    [303, 403,  403,  403,  403, 200,  200]),
  page('POST', '/objections/:pageObjection/step',           [303, 403,  403,  403,  403, 403,  303], { status: 'accepted' }),
  // The city's round pages stay the city's: 监督 reads through /supervision.
  page('GET',  '/rounds',                                   [303, 403,  403,  403,  403, 403,  200]),
  page('GET',  '/rounds/:round',                            [303, 403,  403,  403,  403, 403,  200]),
];

const PROBLEM_CODE: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' };
const cases = MATRIX.flatMap((row) => CALLERS.map((caller, i) => ({ row, caller, status: row.expect[i], name: `${row.method} ${row.path}` })));

describe('authorization matrix of 公示, objections and 监督: every route × every caller', () => {
  let t: TestApp;
  let f: Fixtures;
  const agents = new Map<Caller, { agent: ReturnType<typeof request.agent>; csrf: string }>();
  const tokens = new Map<Caller, string>();

  beforeAll(async () => {
    t = await createTestApp();
    const r = await scoredRound(t, { counties: ['c-lishi', 'c-fenyang'], judges: 2, totals: (e, j) => 80 - 10 * e + j });
    const admin = r.admin;
    await request(t.app).post(`/api/v1/rounds/${r.roundId}/awards`).set('Authorization', `Bearer ${admin}`).send(TIERS).expect(200);
    await request(t.app).post(`/api/v1/rounds/${r.roundId}/publish`).set('Authorization', `Bearer ${admin}`).send({}).expect(200);
    const body = { roundId: r.roundId, name: '矩阵异议人', phone: '13900000000', relation: '家长', reason: '授权矩阵测试用的异议理由。' };
    const submit = async (attachment: { path: string; size: number } | null) => {
      await t.container.objections.submit(body, attachment, `fixture-${Math.random()}`);
      const row = await t.container.db.selectFrom('objections').select('id').orderBy('created_at', 'desc').orderBy('id').limit(1).executeTakeFirstOrThrow();
      return row.id;
    };
    const objection = await submit(null);
    const pageObjection = await submit(null);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cx-obj-')), 'a.pdf');
    fs.writeFileSync(file, '%PDF-1.4\n%matrix\n');
    const withFile = await submit({ path: file, size: fs.statSync(file).size });
    f = { round: r.roundId, entry: r.entries[0].id, objection, pageObjection, withFile };

    const users: Record<Exclude<Caller, 'anonymous'>, string> = {
      school: (await t.createUser('school')).username,
      county: (await t.createUser('county', { countyId: 'c-lishi' })).username,
      judge: r.judges[0].username,
      tv: (await t.createUser('tv')).username,
      supervisor: (await t.createUser('supervisor')).username,
      admin: 'admin',
    };
    for (const [caller, username] of Object.entries(users) as Array<[Caller, string]>) {
      agents.set(caller, await t.browser(username));
      tokens.set(caller, await t.token(username));
    }
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  test.each(cases)('when $caller calls $name, then $status', async ({ row, caller, status }) => {
    const p = row.path.replace(/:(\w+)/g, (_m, key: keyof Fixtures) => f[key]);
    let req: request.Test;
    if (row.kind === 'page') {
      const session = agents.get(caller);
      const agent = session ? session.agent : request(t.app);
      req = (row.method === 'GET' ? agent.get(p) : agent.post(p)).set('Accept', 'text/html');
      if (row.method !== 'GET') req = req.type('form').send({ ...row.body, _csrf: session?.csrf ?? '' });
    } else {
      req = row.method === 'GET' ? request(t.app).get(p) : request(t.app).post(p);
      const token = tokens.get(caller);
      if (token) req = req.set('Authorization', `Bearer ${token}`);
      if (row.body) req = req.send(row.body);
    }
    const res = await req;
    expect({ status: res.status, body: res.status >= 400 ? res.body : undefined }).toMatchObject({ status });
    if (row.kind === 'api' && status >= 400) expect(res.body.code).toBe(PROBLEM_CODE[status]);
    if (row.kind === 'page' && caller === 'anonymous' && status === 303) expect(res.headers.location).toMatch(/^\/login\?next=/);
  });
});
