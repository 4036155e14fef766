/**
 * Authorization of the judging API, table-driven (docs/security.md 11 and 13, docs/architecture.md §9):
 *
 * - role level: school / county / tv / judge on the admin's round routes → 403; school / county /
 *   tv / admin on the judge's routes → 403; anonymous on any of them → 401;
 * - object level: a judge on another judge's assignment, or on a guessed id → 404 for everything;
 *   on their own assignment in a round that is still a draft → 404 for everything (the judge has
 *   not been given it yet); on their own assignment after the round closed → 404 for GET / preview /
 *   poster (it left the queue), while PUT and conflict answer 409 `round_closed` (docs/api.md: "round
 *   closed → 409 round_closed" — the judge knows the assignment, so the clearer answer leaks nothing).
 *
 * The baseline shows the owner really gets 200 on the same URLs, so every 404 is the policy's.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { objectKeys } from '../../src/platform/storage/object-keys';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Call {
  method: Method;
  path: string;
  body?: object;
}

describe('judging authorization matrix', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const ids = { openRound: '', draftRound: '', closedRound: '', draftA: '', openA: '', openB: '', closedA: '' };

  const send = (call: Call, token?: string) => {
    let r = request(t.app)[call.method](call.path);
    if (token) r = r.set('Authorization', `Bearer ${token}`);
    return call.body ? r.send(call.body) : r;
  };

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await t.token('admin');
    tokens.admin = admin;
    const periodId = (await t.container.campaign.listPeriods())[0].id;
    const school = await schoolWithToken(t, 'c-lishi');
    tokens.school = school.token;
    const county = await t.createUser('county', { countyId: 'c-lishi' });
    tokens.county = await t.token(county.username);
    const tv = await t.createUser('tv');
    tokens.tv = await t.token(tv.username);
    const ja = await t.createUser('judge', { countyId: null });
    const jb = await t.createUser('judge', { countyId: null });
    tokens.judgeA = await t.token(ja.username);
    tokens.judgeB = await t.token(jb.username);
    tokens.judge = tokens.judgeB;

    const entryIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const e = await createEntry(t, school.token, { title: `授权测试${i}` });
      const videoId = await attachReadyVideo(t, e.id);
      // Real objects behind the preview and poster keys, so the owner's fetch is a 200.
      await t.container.store.putStream(objectKeys.preview(videoId), Readable.from(Buffer.from('fake mp4 bytes')), { contentType: 'video/mp4' });
      await t.container.store.putStream(objectKeys.poster(videoId), Readable.from(Buffer.from('fake jpg bytes')), { contentType: 'image/jpeg' });
      await request(t.app).post(`/api/v1/entries/${e.id}/submit`).set('Authorization', `Bearer ${school.token}`).expect(200);
      await request(t.app).post(`/api/v1/entries/${e.id}/forward`).set('Authorization', `Bearer ${tokens.county}`).send({ periodId }).expect(200);
      entryIds.push(e.id);
    }
    const adminCall = (method: Method, path: string, body?: object) => send({ method, path, body }, admin);
    async function round(name: string, judges: string[], entries: string[]): Promise<string> {
      const id = (await adminCall('post', '/api/v1/rounds', { name, judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body.id;
      await adminCall('post', `/api/v1/rounds/${id}/entries`, { entryIds: entries }).expect(200);
      await adminCall('post', `/api/v1/rounds/${id}/judges`, { userIds: judges }).expect(200);
      await adminCall('post', `/api/v1/rounds/${id}/assign`).expect(200);
      return id;
    }
    const assignmentOf = async (roundId: string, judgeId: string) =>
      ((await adminCall('get', `/api/v1/rounds/${roundId}/assignments`).expect(200)).body as Array<{ id: string; judgeId: string }>).find(
        (a) => a.judgeId === judgeId,
      )!.id;

    ids.draftRound = await round('草稿轮', [ja.id], [entryIds[0]]);
    ids.draftA = await assignmentOf(ids.draftRound, ja.id);
    ids.openRound = await round('进行中', [ja.id, jb.id], entryIds);
    await adminCall('post', `/api/v1/rounds/${ids.openRound}/open`).expect(200);
    ids.openA = await assignmentOf(ids.openRound, ja.id);
    ids.openB = await assignmentOf(ids.openRound, jb.id);
    ids.closedRound = await round('已结束', [ja.id], [entryIds[0]]);
    await adminCall('post', `/api/v1/rounds/${ids.closedRound}/open`).expect(200);
    ids.closedA = await assignmentOf(ids.closedRound, ja.id);
    await send(
      {
        method: 'put',
        path: `/api/v1/judging/assignments/${ids.closedA}`,
        body: { scores: { singing: 40, artistry: 20, spirit: 10, costume: 5 }, submit: true },
      },
      tokens.judgeA,
    ).expect(200);
    await adminCall('post', `/api/v1/rounds/${ids.closedRound}/close`).expect(200);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  /** The admin's routes as templates (`:round` → the open round, `:open` / `:closed` → assignments), resolved when run. */
  const ADMIN_ROUTES: Call[] = [
    { method: 'get', path: '/api/v1/rounds' },
    { method: 'post', path: '/api/v1/rounds', body: { name: '越权', judgesPerEntry: 1, blind: true, aggregation: 'mean' } },
    { method: 'get', path: '/api/v1/rounds/:round' },
    { method: 'patch', path: '/api/v1/rounds/:round', body: { name: '越权' } },
    { method: 'post', path: '/api/v1/rounds/:round/entries', body: {} },
    { method: 'post', path: '/api/v1/rounds/:round/judges', body: { userIds: ['x'] } },
    { method: 'post', path: '/api/v1/rounds/:round/assign' },
    { method: 'get', path: '/api/v1/rounds/:round/assignments' },
    { method: 'post', path: '/api/v1/rounds/:round/assignments', body: { entryId: 'x', judgeId: 'y' } },
    { method: 'delete', path: '/api/v1/assignments/:open' },
    { method: 'post', path: '/api/v1/rounds/:round/open' },
    { method: 'post', path: '/api/v1/rounds/:round/close' },
    { method: 'get', path: '/api/v1/rounds/:round/progress' },
    { method: 'get', path: '/api/v1/rounds/:round/ranking' },
    { method: 'get', path: '/api/v1/rounds/:round/judge-stats' },
    { method: 'post', path: '/api/v1/rounds/:round/shortlist', body: { top: 1 } },
    { method: 'post', path: '/api/v1/rounds/:round/awards', body: { tiers: [{ award: 'first', count: 1 }] } },
    { method: 'post', path: '/api/v1/rounds/:round/awards/preview', body: { tiers: [{ award: 'first', count: 1 }] } },
    { method: 'post', path: '/api/v1/rounds/:round/publish' },
    { method: 'get', path: '/api/v1/rounds/:round/ranking.xlsx' },
    { method: 'get', path: '/api/v1/rounds/:round/scores.xlsx' },
    { method: 'post', path: '/api/v1/assignments/:closed/reopen', body: { reason: '越权' } },
  ];
  const resolve = (c: Call): Call => ({ ...c, path: c.path.replace(':round', ids.openRound).replace(':open', ids.openA).replace(':closed', ids.closedA) });
  const adminRoutes = () => ADMIN_ROUTES.map(resolve);

  const judgeRoutes = (assignmentId: string): Array<Call & { kind: 'read' | 'write' }> => [
    { kind: 'read', method: 'get', path: `/api/v1/judging/assignments/${assignmentId}` },
    { kind: 'read', method: 'get', path: `/api/v1/judging/assignments/${assignmentId}/preview` },
    { kind: 'read', method: 'get', path: `/api/v1/judging/assignments/${assignmentId}/poster` },
    {
      kind: 'write',
      method: 'put',
      path: `/api/v1/judging/assignments/${assignmentId}`,
      body: { scores: { singing: 1, artistry: 1, spirit: 1, costume: 1 }, submit: true },
    },
    { kind: 'write', method: 'post', path: `/api/v1/judging/assignments/${assignmentId}/conflict`, body: { reason: '越权' } },
  ];

  test('baseline: when judge A fetches their own open assignment, then GET, preview, poster and PUT answer 200', async () => {
    const [get, preview, poster] = judgeRoutes(ids.openA);
    await send(get, tokens.judgeA).expect(200);
    expect((await send(preview, tokens.judgeA).expect(200)).headers['content-type']).toBe('video/mp4');
    expect((await send(poster, tokens.judgeA).expect(200)).headers['content-type']).toBe('image/jpeg');
    await send({ method: 'put', path: `/api/v1/judging/assignments/${ids.openA}`, body: { scores: { singing: 30 } } }, tokens.judgeA).expect(200);
    await send({ method: 'get', path: `/api/v1/rounds/${ids.openRound}` }, tokens.admin).expect(200);
  });

  describe.each(['school', 'county', 'tv', 'judge'])('role %s on the admin round routes', (role) => {
    test.each(ADMIN_ROUTES.map((c) => [`${c.method.toUpperCase()} ${c.path}`, c] as const))(
      `when a ${role} calls %s, then 403 forbidden`,
      async (_name, template) => {
        const res = await send(resolve(template), tokens[role]);
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'forbidden' });
      },
    );
  });

  describe.each(['school', 'county', 'tv', 'admin'])('role %s on the judge routes', (role) => {
    test(`when a ${role} calls any judge route, then 403 forbidden`, async () => {
      for (const call of [{ method: 'get' as const, path: '/api/v1/judging/assignments' }, ...judgeRoutes(ids.openA)]) {
        const res = await send(call, tokens[role]);
        expect({ call: `${call.method} ${call.path}`, status: res.status, code: res.body.code }).toEqual({
          call: `${call.method} ${call.path}`,
          status: 403,
          code: 'forbidden',
        });
      }
    });
  });

  test('when nobody is logged in, then every admin and judge route answers 401', async () => {
    for (const call of [...adminRoutes(), { method: 'get' as const, path: '/api/v1/judging/assignments' }, ...judgeRoutes(ids.openA)]) {
      const res = await send(call);
      expect({ call: `${call.method} ${call.path}`, status: res.status, code: res.body.code }).toEqual({
        call: `${call.method} ${call.path}`,
        status: 401,
        code: 'unauthenticated',
      });
    }
  });

  const objectCases: Array<[string, () => string, 'judgeA' | 'judgeB', { read: number; write: number; writeCode: string }]> = [
    ["judge B on judge A's assignment (open round)", () => ids.openA, 'judgeB', { read: 404, write: 404, writeCode: 'not_found' }],
    ["judge A on judge B's assignment (open round)", () => ids.openB, 'judgeA', { read: 404, write: 404, writeCode: 'not_found' }],
    ['judge A on their own assignment in a draft round', () => ids.draftA, 'judgeA', { read: 404, write: 404, writeCode: 'not_found' }],
    ['judge A on their own assignment after the round closed', () => ids.closedA, 'judgeA', { read: 404, write: 409, writeCode: 'round_closed' }],
    ['judge B on judge A’s assignment after the round closed', () => ids.closedA, 'judgeB', { read: 404, write: 404, writeCode: 'not_found' }],
    ['judge A on a guessed id', () => crypto.randomUUID(), 'judgeA', { read: 404, write: 404, writeCode: 'not_found' }],
    ['judge A on a malformed id', () => 'not-an-id', 'judgeA', { read: 404, write: 404, writeCode: 'not_found' }],
  ];
  test.each(objectCases)('when %s, then GET/preview/poster → 404 and PUT/conflict → the documented refusal', async (_name, id, who, expected) => {
    for (const call of judgeRoutes(id())) {
      const res = await send(call, tokens[who]);
      const want = call.kind === 'read' ? { status: expected.read, code: 'not_found' } : { status: expected.write, code: expected.writeCode };
      expect({ call: `${call.method} ${call.path}`, status: res.status, code: res.body.code }).toEqual({ call: `${call.method} ${call.path}`, ...want });
    }
  });

  test('when all of that was refused, then nothing changed: no conflict, no moved assignment, scores as they were', async () => {
    const db = t.container.database.db;
    expect(await db.selectFrom('judge_conflicts').selectAll().execute()).toEqual([]);
    const rows = await db
      .selectFrom('assignments')
      .select(['id', 'status', 'total', 'scores'])
      .where('id', 'in', [ids.openA, ids.openB, ids.draftA, ids.closedA])
      .orderBy('id')
      .execute();
    const by = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(by[ids.openA]).toMatchObject({ status: 'draft', scores: { singing: 30 } });
    expect(by[ids.openB]).toMatchObject({ status: 'pending', scores: null });
    expect(by[ids.draftA]).toMatchObject({ status: 'pending', scores: null });
    expect(by[ids.closedA]).toMatchObject({ status: 'submitted', total: 75 });
    const rounds = await db.selectFrom('rounds').select(['name', 'status', 'published_at']).orderBy('name').execute();
    expect(rounds.map((r) => r.name)).not.toContain('越权');
  });
});
