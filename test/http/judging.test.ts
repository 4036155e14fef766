/**
 * Judging through the JSON API, end to end (issue 5, docs/architecture.md §7, docs/api.md "Judging"):
 *
 *   round A 初评 (k = 3, 5 judges, 6 forwarded entries of 3 counties): create → add the period's
 *   forwarded entries → panel → (an infeasible round X → 409) → assign → open → judges score,
 *   declare a conflict → progress → close → admin reopens one score → shortlist per song;
 *   round B 决赛 from A's shortlist (k = 5, 5 unaffiliated judges): hand-checkable trimmed means
 *   with a tie → awards (a tie at a tier boundary → 409) → 公示 → XLSX exports.
 *
 * The tests run in order and share the state built so far (each one is one step of the flow).
 */
import ExcelJS from 'exceljs';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RUBRIC_MAX = { singing: 50, artistry: 25, spirit: 15, costume: 10 } as const;

/** A total (integer 0–100) spread over the default rubric, deterministically, each within its maximum. */
function split(total: number): Record<string, number> {
  const v = { singing: Math.floor(total / 2), artistry: Math.floor(total / 4), spirit: Math.floor(total * 0.15), costume: 0 };
  v.costume = total - v.singing - v.artistry - v.spirit;
  for (const k of ['singing', 'artistry', 'spirit'] as const) {
    while (v.costume > RUBRIC_MAX.costume && v[k] < RUBRIC_MAX[k]) {
      v[k]++;
      v.costume--;
    }
  }
  return v;
}

/** supertest parser: the raw body bytes (for the XLSX downloads). */
function binary(res: request.Response, cb: (err: Error | null, body: unknown) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}

async function sheetRows(bytes: Buffer): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  const rows: unknown[][] = [];
  ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

/** Every key anywhere in a JSON value. */
function allKeys(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      allKeys(x, out);
    }
  }
  return out;
}

describe('judging API: rounds, assignment, blind scoring, ranking, shortlist, awards, 公示, exports', () => {
  let t: TestApp;
  let admin: string;
  let periodId: string;
  const songs: string[] = [];
  /** E1..E6 by name: id, code, county, school. */
  const entries: Record<string, { id: string; code: string; countyId: string; schoolId: string }> = {};
  /** Round A bases (every judge gives the entry this total): song A E1 > E2 > E3, song B E4 > E5 > E6. */
  const BASE: Record<string, number> = { E1: 90, E2: 80, E3: 70, E4: 85, E5: 75, E6: 65 };
  const judges: Record<string, { id: string; username: string; token: string; countyId: string | null; schoolId: string | null }> = {};
  let roundA: string;
  let roundB: string;

  const as = (token?: string) => {
    const auth = <T extends request.Test>(r: T) => (token ? r.set('Authorization', `Bearer ${token}`) : r);
    return {
      get: (url: string) => auth(request(t.app).get(url)),
      post: (url: string, body?: object) => auth(request(t.app).post(url)).send(body),
      put: (url: string, body?: object) => auth(request(t.app).put(url)).send(body),
    };
  };
  const entryName = (id: string) => Object.keys(entries).find((k) => entries[k].id === id)!;
  const adminAssignments = async (roundId: string): Promise<Json[]> => (await as(admin).get(`/api/v1/rounds/${roundId}/assignments`).expect(200)).body;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.token('admin');
    periodId = (await t.container.campaign.listPeriods())[0].id;
    const campaign = await t.container.campaign.get();
    songs.push(campaign.songs[0].id, campaign.songs[1].id);
    // Three counties, one school each, two entries per school (one per song), forwarded by the county.
    const plan: Array<[string, string, string]> = [
      ['c-lishi', 'E1', 'E4'],
      ['c-fenyang', 'E2', 'E5'],
      ['c-wenshui', 'E3', 'E6'],
    ];
    for (const [countyId, a, b] of plan) {
      const school = await schoolWithToken(t, countyId);
      const reviewer = await t.createUser('county', { countyId });
      const reviewerToken = await t.token(reviewer.username);
      for (const [name, song] of [
        [a, songs[0]],
        [b, songs[1]],
      ] as const) {
        const e = await createEntry(t, school.token, { title: `${name}号作品`, songId: song });
        await attachReadyVideo(t, e.id);
        await as(school.token).post(`/api/v1/entries/${e.id}/submit`).expect(200);
        await as(reviewerToken).post(`/api/v1/entries/${e.id}/forward`, { periodId }).expect(200);
        entries[name] = { id: e.id, code: e.code, countyId, schoolId: school.schoolId! };
      }
    }
    // J1 from 离石区 (county conflict with E1, E4); J2 a teacher at the 汾阳市 school (school + county
    // conflict with E2, E5); J3–J7 without county or school.
    const j2School = entries.E2.schoolId;
    const specs: Array<[string, { countyId?: string | null; schoolId?: string }]> = [
      ['J1', { countyId: 'c-lishi' }],
      ['J2', { schoolId: j2School }],
      ['J3', { countyId: null }],
      ['J4', { countyId: null }],
      ['J5', { countyId: null }],
      ['J6', { countyId: null }],
      ['J7', { countyId: null }],
    ];
    await Promise.all(
      specs.map(async ([name, o]) => {
        const u = await t.createUser('judge', { ...o, displayName: `评委${name}` });
        judges[name] = { id: u.id, username: u.username, token: await t.token(u.username), countyId: u.countyId, schoolId: u.schoolId };
      }),
    );
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  });

  test('when the admin creates a round without a rubric, then it gets the default rubric (50/25/15/10) as a draft', async () => {
    const res = await as(admin)
      .post('/api/v1/rounds', { name: '第一轮初评', periodId, judgesPerEntry: 3, blind: true, aggregation: 'trimmed_mean' })
      .expect(201);
    expect(res.body).toMatchObject({
      name: '第一轮初评',
      periodId,
      judgesPerEntry: 3,
      blind: true,
      aggregation: 'trimmed_mean',
      status: 'draft',
      entryCount: 0,
      judgeCount: 0,
    });
    expect(res.body.rubric).toEqual([
      { key: 'singing', label: '演唱水平', max: 50 },
      { key: 'artistry', label: '艺术表现', max: 25 },
      { key: 'spirit', label: '精神面貌', max: 15 },
      { key: 'costume', label: '服装形象', max: 10 },
    ]);
    roundA = res.body.id;
  });

  test('when a rubric does not sum to 100, then 400 with a Chinese message and no round is created', async () => {
    const before = (await as(admin).get('/api/v1/rounds').expect(200)).body.length;
    const res = await as(admin)
      .post('/api/v1/rounds', {
        name: '错误标准',
        judgesPerEntry: 3,
        blind: true,
        aggregation: 'mean',
        rubric: [
          { key: 'a', label: '演唱', max: 60 },
          { key: 'b', label: '表现', max: 30 },
        ],
      })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual([{ field: 'rubric', message: '各项满分之和必须是 100，现在是 90' }]);
    expect((await as(admin).get('/api/v1/rounds').expect(200)).body.length).toBe(before);
  });

  test('when the admin adds the forwarded entries of the period, then all six join and become in_judging', async () => {
    const res = await as(admin).post(`/api/v1/rounds/${roundA}/entries`, {}).expect(200);
    expect(res.body).toEqual({ added: 6 });
    for (const e of Object.values(entries)) expect((await as(admin).get(`/api/v1/entries/${e.id}`).expect(200)).body.status).toBe('in_judging');
    // Adding again adds nothing (and does not fail).
    expect((await as(admin).post(`/api/v1/rounds/${roundA}/entries`, {}).expect(200)).body).toEqual({ added: 0 });
  });

  test('when the admin sets a panel of 5 judges, then the round has 5 judges; a non-judge account is refused', async () => {
    const ids = ['J1', 'J2', 'J3', 'J4', 'J5'].map((j) => judges[j].id);
    const res = await as(admin).post(`/api/v1/rounds/${roundA}/judges`, { userIds: ids }).expect(200);
    expect(res.body.judges.map((j: Json) => j.id).sort()).toEqual([...ids].sort());
    const school = await t.createUser('school');
    const bad = await as(admin)
      .post(`/api/v1/rounds/${roundA}/judges`, { userIds: [...ids, school.id] })
      .expect(400);
    expect(bad.body.errors[0].message).toBe('只能选择未停用的评委账号');
    expect((await as(admin).get(`/api/v1/rounds/${roundA}`).expect(200)).body).toMatchObject({ entryCount: 6, judgeCount: 5 });
  });

  test('when the constraints cannot be met (k = 5 but the 离石区 judge may not judge 离石区 entries), then assign → 409 with a Chinese reason and nothing is assigned', async () => {
    const x = (await as(admin).post('/api/v1/rounds', { name: '不可行的轮次', judgesPerEntry: 5, blind: true, aggregation: 'trimmed_mean' }).expect(201)).body
      .id;
    await as(admin)
      .post(`/api/v1/rounds/${x}/entries`, { entryIds: Object.values(entries).map((e) => e.id) })
      .expect(200);
    await as(admin)
      .post(`/api/v1/rounds/${x}/judges`, { userIds: ['J1', 'J2', 'J3', 'J4', 'J5'].map((j) => judges[j].id) })
      .expect(200);
    const res = await as(admin).post(`/api/v1/rounds/${x}/assign`).expect(409);
    expect(res.body).toMatchObject({ code: 'invalid_state', title: '无法完成分配' });
    expect(res.body.detail).toMatch(/[\u4e00-\u9fff]/);
    expect(res.body.detail).toContain('5');
    expect((await as(admin).get(`/api/v1/rounds/${x}`).expect(200)).body.assignmentCount).toBe(0);
    // Opening an unassigned round is refused too.
    expect((await as(admin).post(`/api/v1/rounds/${x}/open`).expect(409)).body.code).toBe('invalid_state');
  });

  test('when the admin assigns with k = 3, then every entry has 3 distinct judges, loads differ by ≤ 1, and nobody judges their own county or school', async () => {
    const res = await as(admin).post(`/api/v1/rounds/${roundA}/assign`).expect(200);
    expect(res.body.assignmentCount).toBe(18);
    expect(res.body.assignments).toHaveLength(18);
    expect(res.body.balanced).toBe(true);
    const loads = Object.values(res.body.loads as Record<string, number>);
    expect(loads).toHaveLength(5);
    expect(loads.reduce((a, b) => a + b, 0)).toBe(18);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);

    const rows = await adminAssignments(roundA);
    expect(rows).toHaveLength(18);
    for (const [name, e] of Object.entries(entries)) {
      const on = rows.filter((r) => r.entryId === e.id).map((r) => r.judgeId);
      expect({ name, n: new Set(on).size }).toEqual({ name, n: 3 });
      for (const j of Object.values(judges).filter((x) => on.includes(x.id))) {
        expect(j.countyId === e.countyId || j.schoolId === e.schoolId).toBe(false);
      }
    }
    // Deterministic: assigning again changes nothing.
    const again = await as(admin).post(`/api/v1/rounds/${roundA}/assign`).expect(200);
    expect(again.body.loads).toEqual(res.body.loads);
    expect((await adminAssignments(roundA)).map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
  });

  test('when the round is still a draft, then judges see nothing; when opened, then the round is open', async () => {
    expect((await as(judges.J3.token).get('/api/v1/judging/assignments').expect(200)).body).toEqual([]);
    const res = await as(admin).post(`/api/v1/rounds/${roundA}/open`).expect(200);
    expect(res.body).toMatchObject({ status: 'open', scoringOpen: true, assignmentCount: 18 });
    // The structure cannot change any more.
    await as(admin).post(`/api/v1/rounds/${roundA}/assign`).expect(409);
    await as(admin)
      .post(`/api/v1/rounds/${roundA}/judges`, { userIds: [judges.J3.id] })
      .expect(409);
  });

  test('when a judge lists the queue, then it holds exactly their assignments, blind (no school, county, director or uploader)', async () => {
    const rows = await adminAssignments(roundA);
    for (const name of ['J1', 'J2', 'J3', 'J4', 'J5']) {
      const mine = rows.filter((r) => r.judgeId === judges[name].id);
      const res = await as(judges[name].token).get('/api/v1/judging/assignments').expect(200);
      expect(res.body.map((a: Json) => a.id).sort()).toEqual(mine.map((r) => r.id).sort());
      for (const a of res.body as Json[]) {
        expect(a).toMatchObject({ roundId: roundA, status: 'pending', blind: true, editable: true, scores: null });
        expect(Object.keys(a.entry).sort()).toEqual(['code', 'durationS', 'form', 'label', 'level', 'posterUrl', 'previewUrl', 'song', 'title']);
        expect(a.entry.code).toBe(a.entry.label); // blind: the round's label, not the public entry code
        expect(a.entry.previewUrl).toBe(`/api/v1/judging/assignments/${a.id}/preview`);
      }
      const keys = allKeys(res.body);
      for (const k of ['school', 'schoolId', 'county', 'countyId', 'director', 'directorName', 'uploader', 'uploadedBy', 'createdBy', 'entryId'])
        expect(keys.has(k)).toBe(false);
    }
  });

  describe('scoring as J3', () => {
    let mine: Json[];
    beforeAll(async () => {
      mine = (await as(judges.J3.token).get('/api/v1/judging/assignments').expect(200)).body;
      expect(mine.length).toBeGreaterThanOrEqual(3);
    });

    test('when a score is out of range, then 400 per criterion with a Chinese message and nothing is stored', async () => {
      const id = mine[0].id;
      const res = await as(judges.J3.token)
        .put(`/api/v1/judging/assignments/${id}`, { scores: { singing: 51, artistry: -1, spirit: 'abc', costume: 9.55 } })
        .expect(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toEqual([
        { field: 'scores.singing', message: '「演唱水平」的分数必须在 0 到 50 之间' },
        { field: 'scores.artistry', message: '「艺术表现」的分数必须在 0 到 25 之间' },
        { field: 'scores.spirit', message: '「精神面貌」的分数必须在 0 到 15 之间' },
        { field: 'scores.costume', message: '「服装形象」的分数最多保留一位小数' },
      ]);
      expect((await as(judges.J3.token).get(`/api/v1/judging/assignments/${id}`).expect(200)).body).toMatchObject({ status: 'pending', scores: null });
    });

    test('when the judge saves a draft, then submits, then edits while the round is open, then each is kept', async () => {
      const a = mine[0];
      const draft = await as(judges.J3.token)
        .put(`/api/v1/judging/assignments/${a.id}`, { scores: { singing: 40 }, comment: '  音准好  ' })
        .expect(200);
      expect(draft.body).toMatchObject({ status: 'draft', scores: { singing: 40 }, comment: '音准好' });
      const incomplete = await as(judges.J3.token)
        .put(`/api/v1/judging/assignments/${a.id}`, { scores: { singing: 40 }, submit: true })
        .expect(400);
      expect(incomplete.body.errors.map((e: Json) => e.field)).toEqual(['scores.artistry', 'scores.spirit', 'scores.costume']);
      const submitted = await as(judges.J3.token)
        .put(`/api/v1/judging/assignments/${a.id}`, { scores: { singing: 40, artistry: 20, spirit: 12, costume: 8.5 }, comment: '音准好', submit: true })
        .expect(200);
      expect(submitted.body).toMatchObject({ status: 'submitted', scores: { singing: 40, artistry: 20, spirit: 12, costume: 8.5 }, editable: true });
      const edited = await as(judges.J3.token)
        .put(`/api/v1/judging/assignments/${a.id}`, { scores: { singing: 45, artistry: 20, spirit: 12, costume: 8.5 }, comment: '改了一下' })
        .expect(200);
      expect(edited.body).toMatchObject({ status: 'submitted', scores: { singing: 45 }, comment: '改了一下' });
      const row = await t.container.database.db.selectFrom('assignments').select(['total', 'status']).where('id', '=', a.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ total: 85.5, status: 'submitted' });
      // A second draft on another assignment, for the progress numbers.
      await as(judges.J3.token)
        .put(`/api/v1/judging/assignments/${mine[1].id}`, { scores: { artistry: 20 } })
        .expect(200);
    });

    test('when another judge on the same entry looks, then they never see J3’s scores or comment', async () => {
      const rows = await adminAssignments(roundA);
      const entryId = rows.find((r) => r.id === mine[0].id)!.entryId;
      const others = rows.filter((r) => r.entryId === entryId && r.judgeId !== judges.J3.id);
      expect(others).toHaveLength(2);
      for (const o of others) {
        const j = Object.values(judges).find((x) => x.id === o.judgeId)!;
        const list = await as(j.token).get('/api/v1/judging/assignments').expect(200);
        const one = await as(j.token).get(`/api/v1/judging/assignments/${o.id}`).expect(200);
        for (const body of [list.text, one.text]) {
          expect(body).not.toContain('改了一下');
          expect(body).not.toContain('85.5');
          expect(body).not.toContain(mine[0].id);
        }
        expect(one.body.scores).toBeNull();
        // Nor can they open J3's assignment.
        await as(j.token).get(`/api/v1/judging/assignments/${mine[0].id}`).expect(404);
      }
    });

    test('when J3 declares a conflict, then 204, J3 no longer has the entry and another eligible judge does', async () => {
      const before = await adminAssignments(roundA);
      const target = mine[2];
      const entryId = before.find((r) => r.id === target.id)!.entryId;
      const e = entries[entryName(entryId)];
      await as(judges.J3.token).post(`/api/v1/judging/assignments/${target.id}/conflict`, {}).expect(400); // a reason is required
      await as(judges.J3.token).post(`/api/v1/judging/assignments/${target.id}/conflict`, { reason: '该校音乐老师是我的学生' }).expect(204);

      const after = await adminAssignments(roundA);
      const onEntry = after.filter((r) => r.entryId === entryId).map((r) => r.judgeId);
      expect(onEntry).toHaveLength(3);
      expect(onEntry).not.toContain(judges.J3.id);
      const newcomer = onEntry.find((id) => !before.some((r) => r.entryId === entryId && r.judgeId === id))!;
      expect(newcomer).toBeDefined();
      const nj = Object.values(judges).find((x) => x.id === newcomer)!;
      expect(nj.countyId === e.countyId || nj.schoolId === e.schoolId).toBe(false);

      const label = target.entry.label as string; // blind round: judges know the entry by its label
      const j3List = (await as(judges.J3.token).get('/api/v1/judging/assignments').expect(200)).body as Json[];
      expect(j3List.map((a) => a.entry.code)).not.toContain(label);
      await as(judges.J3.token).get(`/api/v1/judging/assignments/${target.id}`).expect(404);
      const njList = (await as(nj.token).get('/api/v1/judging/assignments').expect(200)).body as Json[];
      expect(njList.map((a) => a.entry.code)).toContain(label);
      const audit = await t.container.database.db.selectFrom('audit_log').select(['reason', 'detail']).where('action', '=', 'assignment.conflict').execute();
      expect(audit).toEqual([{ reason: '该校音乐老师是我的学生', detail: expect.objectContaining({ entryId, reassignedTo: newcomer }) }]);
      // A later automatic assignment must not give it back to J3 (the conflict is recorded).
      const conflicts = await t.container.database.db.selectFrom('judge_conflicts').select(['judge_id', 'entry_id']).execute();
      expect(conflicts).toEqual([{ judge_id: judges.J3.id, entry_id: entryId }]);
    });

    test('when the admin asks for progress, then assigned / submitted per judge match', async () => {
      const rows = await adminAssignments(roundA);
      const res = await as(admin).get(`/api/v1/rounds/${roundA}/progress`).expect(200);
      expect(res.body).toHaveLength(5);
      for (const p of res.body as Json[]) {
        const assigned = rows.filter((r) => r.judgeId === p.judgeId).length;
        expect(p).toEqual({ judgeId: p.judgeId, name: expect.stringMatching(/^评委J[1-5]$/), assigned, submitted: p.judgeId === judges.J3.id ? 1 : 0 });
      }
      expect(res.body.reduce((a: number, p: Json) => a + p.assigned, 0)).toBe(18);
    });
  });

  test('when every judge submits every score (twice at once, as from two tabs or two web processes), then progress is complete and each submission is audited once', async () => {
    const rows = await adminAssignments(roundA);
    for (const name of ['J1', 'J2', 'J3', 'J4', 'J5']) {
      const list = (await as(judges[name].token).get('/api/v1/judging/assignments').expect(200)).body as Json[];
      for (const a of list) {
        const e = entryName(rows.find((r) => r.id === a.id)!.entryId);
        const both = await Promise.all(
          [0, 1].map(() => as(judges[name].token).put(`/api/v1/judging/assignments/${a.id}`, { scores: split(BASE[e]), submit: true })),
        );
        expect(both.map((r) => r.status)).toEqual([200, 200]);
      }
    }
    const progress = (await as(admin).get(`/api/v1/rounds/${roundA}/progress`).expect(200)).body as Json[];
    for (const p of progress) expect(p.submitted).toBe(p.assigned);
    const audits = await t.container.database.db
      .selectFrom('audit_log')
      .select(['object_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('action', '=', 'score.submit')
      .where(
        'object_id',
        'in',
        rows.map((r) => r.id as string),
      )
      .groupBy('object_id')
      .execute();
    expect(audits).toHaveLength(rows.length);
    expect(audits.filter((a) => Number(a.n) !== 1)).toEqual([]);
  });

  test('when the round is closed, then PUT → 409 round_closed, the queue is empty and the assignment is 404', async () => {
    const mine = (await as(judges.J4.token).get('/api/v1/judging/assignments').expect(200)).body as Json[];
    expect((await as(admin).post(`/api/v1/rounds/${roundA}/close`).expect(200)).body.status).toBe('closed');
    const res = await as(judges.J4.token)
      .put(`/api/v1/judging/assignments/${mine[0].id}`, { scores: split(50), submit: true })
      .expect(409);
    expect(res.body).toMatchObject({ code: 'round_closed', detail: '本轮评审已结束，不能再修改评分。' });
    expect((await as(judges.J4.token).post(`/api/v1/judging/assignments/${mine[0].id}/conflict`, { reason: '迟到的回避' }).expect(409)).body.code).toBe(
      'round_closed',
    );
    expect((await as(judges.J4.token).get('/api/v1/judging/assignments').expect(200)).body).toEqual([]);
    await as(judges.J4.token).get(`/api/v1/judging/assignments/${mine[0].id}`).expect(404);
    const stored = await t.container.database.db.selectFrom('assignments').select('total').where('id', '=', mine[0].id).executeTakeFirstOrThrow();
    expect(stored.total).not.toBe(50);
  });

  test('when the admin reopens one score with a reason, then it is audited and that judge can edit that one score (only) again', async () => {
    const rows = await adminAssignments(roundA);
    const j4 = rows.filter((r) => r.judgeId === judges.J4.id);
    const [reopened, other] = j4;
    await as(admin).post(`/api/v1/assignments/${reopened.id}/reopen`, {}).expect(400); // a reason is required
    expect((await as(admin).post(`/api/v1/assignments/${reopened.id}/reopen`, { reason: '评委录入错误，申请更正' }).expect(200)).body).toEqual({
      id: reopened.id,
      status: 'draft',
    });
    const audit = await t.container.database.db
      .selectFrom('audit_log')
      .select(['actor_name', 'from_state', 'to_state', 'reason'])
      .where('action', '=', 'score.reopen')
      .where('object_id', '=', reopened.id)
      .execute();
    expect(audit).toEqual([{ actor_name: 'admin', from_state: 'submitted', to_state: 'draft', reason: '评委录入错误，申请更正' }]);

    const list = (await as(judges.J4.token).get('/api/v1/judging/assignments').expect(200)).body as Json[];
    expect(list.map((a) => a.id)).toEqual([reopened.id]);
    expect(list[0]).toMatchObject({ status: 'draft', editable: true });
    const e = entryName(reopened.entryId);
    await as(judges.J4.token)
      .put(`/api/v1/judging/assignments/${reopened.id}`, { scores: split(BASE[e] - 1) })
      .expect(200);
    expect(
      (
        await as(judges.J4.token)
          .put(`/api/v1/judging/assignments/${other.id}`, { scores: split(10) })
          .expect(409)
      ).body.code,
    ).toBe('round_closed');
    // Another judge's score is still locked.
    const j5 = rows.find((r) => r.judgeId === judges.J5.id)!;
    expect(
      (
        await as(judges.J5.token)
          .put(`/api/v1/judging/assignments/${j5.id}`, { scores: split(10) })
          .expect(409)
      ).body.code,
    ).toBe('round_closed');
    // Submitting locks it again.
    await as(judges.J4.token)
      .put(`/api/v1/judging/assignments/${reopened.id}`, { scores: split(BASE[e]), submit: true })
      .expect(200);
    expect(
      (
        await as(judges.J4.token)
          .put(`/api/v1/judging/assignments/${reopened.id}`, { scores: split(10) })
          .expect(409)
      ).body.code,
    ).toBe('round_closed');
    expect((await as(judges.J4.token).get('/api/v1/judging/assignments').expect(200)).body).toEqual([]);
  });

  test('when the admin shortlists the top 3 overall, then E1, E4, E2; per song top 2, then E1, E2 (song A) and E4, E5 (song B) and statuses follow', async () => {
    const ranking = (await as(admin).get(`/api/v1/rounds/${roundA}/ranking`).expect(200)).body as Json[];
    expect(ranking.map((r) => [entryName(r.entryId), r.rank, r.scoreDisplay, r.scoreCount])).toEqual([
      ['E1', 1, '90.00', 3],
      ['E4', 2, '85.00', 3],
      ['E2', 3, '80.00', 3],
      ['E5', 4, '75.00', 3],
      ['E3', 5, '70.00', 3],
      ['E6', 6, '65.00', 3],
    ]);
    const overall = await as(admin).post(`/api/v1/rounds/${roundA}/shortlist`, { top: 3 }).expect(200);
    expect(overall.body.shortlisted.map(entryName)).toEqual(['E1', 'E4', 'E2']);
    const perSong = await as(admin).post(`/api/v1/rounds/${roundA}/shortlist`, { top: 2, per: 'song' }).expect(200);
    expect(perSong.body.shortlisted.map(entryName).sort()).toEqual(['E1', 'E2', 'E4', 'E5']);
    const statuses = Object.fromEntries(
      await Promise.all(Object.entries(entries).map(async ([n, e]) => [n, (await as(admin).get(`/api/v1/entries/${e.id}`).expect(200)).body.status])),
    );
    expect(statuses).toEqual({ E1: 'shortlisted', E2: 'shortlisted', E3: 'not_selected', E4: 'shortlisted', E5: 'shortlisted', E6: 'not_selected' });
    expect((await as(admin).post(`/api/v1/rounds/${roundA}/shortlist`, { top: 0 }).expect(400)).body.code).toBe('validation_failed');
  });

  /**
   * Round B, k = 5 (judges J3–J7, in that order), trimmed mean — drop one highest and one lowest total:
   *   E2: 88 84 86 60 100 → (88+84+86)/3 = 86.00   raw 83.6  spread 40
   *   E1: 90 80 85 70 95  → (90+80+85)/3 = 85.00   raw 84    spread 25
   *   E4: 95 70 85 80 90  → (90+80+85)/3 = 85.00   raw 84    spread 25  (E1's totals, other judges: tied with E1)
   *   E5: 70 72 74 76 78  → (72+74+76)/3 = 74.00   raw 74    spread 8
   */
  const FINAL: Record<string, number[]> = { E2: [88, 84, 86, 60, 100], E1: [90, 80, 85, 70, 95], E4: [95, 70, 85, 80, 90], E5: [70, 72, 74, 76, 78] };
  const PANEL_B = ['J3', 'J4', 'J5', 'J6', 'J7'];

  test('when a final round is built from the shortlist with 5 judges per entry and scored, then the ranking is the hand-computed trimmed mean with E1 and E4 tied', async () => {
    roundB = (await as(admin).post('/api/v1/rounds', { name: '决赛', judgesPerEntry: 5, blind: true, aggregation: 'trimmed_mean' }).expect(201)).body.id;
    expect((await as(admin).post(`/api/v1/rounds/${roundB}/entries`, { fromRoundShortlist: roundA }).expect(200)).body).toEqual({ added: 4 });
    await as(admin)
      .post(`/api/v1/rounds/${roundB}/judges`, { userIds: PANEL_B.map((j) => judges[j].id) })
      .expect(200);
    const assigned = await as(admin).post(`/api/v1/rounds/${roundB}/assign`).expect(200);
    expect(Object.values(assigned.body.loads)).toEqual([4, 4, 4, 4, 4]);
    expect((await as(admin).get(`/api/v1/rounds/${roundB}`).expect(200)).body.sourceRoundId).toBe(roundA);
    await as(admin).post(`/api/v1/rounds/${roundB}/open`).expect(200);
    const rows = await adminAssignments(roundB);
    for (const [i, j] of PANEL_B.entries()) {
      for (const r of rows.filter((x) => x.judgeId === judges[j].id)) {
        await as(judges[j].token)
          .put(`/api/v1/judging/assignments/${r.id}`, { scores: split(FINAL[entryName(r.entryId)][i]), submit: true })
          .expect(200);
      }
    }
    // Awards are refused while the round is open.
    await as(admin)
      .post(`/api/v1/rounds/${roundB}/awards`, { tiers: [{ award: 'first', count: 1 }] })
      .expect(409);
    await as(admin).post(`/api/v1/rounds/${roundB}/close`).expect(200);

    const ranking = (await as(admin).get(`/api/v1/rounds/${roundB}/ranking`).expect(200)).body as Json[];
    expect(
      ranking.map((r) => ({
        e: entryName(r.entryId),
        rank: r.rank,
        score: r.scoreDisplay,
        raw: r.rawMean,
        n: r.scoreCount,
        spread: r.spread,
        tied: r.tied,
        flags: r.flags,
      })),
    ).toEqual([
      { e: 'E2', rank: 1, score: '86.00', raw: 83.6, n: 5, spread: 40, tied: false, flags: ['wide_spread'] },
      // E1 and E4 share rank 2, listed by code.
      ...[
        { e: 'E1', rank: 2, score: '85.00', raw: 84, n: 5, spread: 25, tied: true, flags: ['wide_spread'] },
        { e: 'E4', rank: 2, score: '85.00', raw: 84, n: 5, spread: 25, tied: true, flags: ['wide_spread'] },
      ].sort((a, b) => (entries[a.e].code < entries[b.e].code ? -1 : 1)),
      { e: 'E5', rank: 4, score: '74.00', raw: 74, n: 5, spread: 8, tied: false, flags: [] },
    ]);
    expect(ranking[0].score).toBeCloseTo(86, 10);
  });

  test('when award tiers cut through the E1/E4 tie, then 409 telling a person to decide; with a cut that does not, then the awards are made', async () => {
    const tie = await as(admin)
      .post(`/api/v1/rounds/${roundB}/awards`, {
        tiers: [
          { award: 'first', count: 2 },
          { award: 'second', count: 2 },
        ],
      })
      .expect(409);
    expect(tie.body.code).toBe('invalid_state');
    expect(tie.body.detail).toBe('第 2 名有并列，奖项分界处需要人工决定，请调整各奖项数量。');
    expect((await as(admin).get(`/api/v1/rounds/${roundB}`).expect(200)).body.awardsConfirmedAt).toBeNull();
    await as(admin).post(`/api/v1/rounds/${roundB}/publish`).expect(409); // nothing to publish yet

    const res = await as(admin)
      .post(`/api/v1/rounds/${roundB}/awards`, {
        tiers: [
          { award: 'third', count: 1 },
          { award: 'first', count: 1 },
          { award: 'second', count: 2 },
        ],
      })
      .expect(200);
    expect(Object.fromEntries(res.body.awarded.map((a: Json) => [entryName(a.entryId), a.award]))).toEqual({
      E2: 'first',
      E1: 'second',
      E4: 'second',
      E5: 'third',
    });
    const e2 = (await as(admin).get(`/api/v1/entries/${entries.E2.id}`).expect(200)).body;
    expect(e2).toMatchObject({ status: 'awarded', award: 'first' });
  });

  test('when the round is published, then GET /api/v1/results (no login) lists the awarded entries by tier without any score', async () => {
    const before = await as().get('/api/v1/results').expect(200);
    expect(before.body).toEqual([]);
    expect((await as(admin).post(`/api/v1/rounds/${roundB}/publish`).expect(200)).body.publishedAt).toEqual(expect.any(String));
    const res = await as().get('/api/v1/results').expect(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ id: roundB, name: '决赛' });
    const tiers = res.body[0].tiers as Json[];
    expect(tiers.map((x) => [x.award, x.label, x.entries.map((e: Json) => e.code)])).toEqual([
      ['first', '一等奖', [entries.E2.code]],
      ['second', '二等奖', [entries.E1.code, entries.E4.code].sort()],
      ['third', '三等奖', [entries.E5.code]],
    ]);
    expect(tiers[0].entries[0]).toMatchObject({ title: 'E2号作品', county: '汾阳市' });
    // Each awarded school is told its tier, once (publishing again repeats nothing).
    await as(admin).post(`/api/v1/rounds/${roundB}/publish`).expect(200);
    const told = await t.container.db
      .selectFrom('notifications')
      .select(['title', 'entry_id'])
      .where('kind', '=', 'entry.awarded')
      .where('entry_id', 'in', [entries.E2.id, entries.E5.id, entries.E3.id])
      .execute();
    expect(told.map((m) => m.title).sort()).toEqual(['《E2号作品》获得一等奖', '《E5号作品》获得三等奖']);
    const keys = [...allKeys(res.body)];
    expect(keys.filter((k) => /score|mean|spread|total|rank|judge/i.test(k))).toEqual([]);
    // No number anywhere but the revision numbers and the objection count (ids, codes and names are strings).
    const leaves: unknown[] = [];
    JSON.parse(res.text, (k, v) => (v === null || typeof v !== 'object' ? (['revision', 'objectionCount'].includes(k) || leaves.push(v), v) : v));
    expect(leaves.filter((v) => typeof v === 'number')).toEqual([]);
  });

  test('when the admin downloads the XLSX exports, then they parse with the right headers and rows', async () => {
    const ranking = await as(admin).get(`/api/v1/rounds/${roundB}/ranking.xlsx`).buffer(true).parse(binary).expect(200);
    expect(ranking.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(ranking.headers['content-disposition']).toMatch(/^attachment; filename="ranking\.xlsx"; filename\*=UTF-8''/);
    const r = await sheetRows(ranking.body as Buffer);
    expect(r[0]).toEqual(['名次', '编号', '作品名称', '歌曲', '学校', '县区', '得分', '原始平均分', '评分数', '极差', '并列', '入围', '奖项', '匿名编号']);
    expect(r[1][13]).toMatch(/^[A-Z]-\d{3}$/);
    expect(r).toHaveLength(5);
    expect(r[1].slice(0, 2)).toEqual([1, entries.E2.code]);
    expect(r[1][6]).toBe(86);
    expect(r[1][12]).toBe('一等奖');
    expect(r.slice(2, 4).map((x) => [x[0], x[10]])).toEqual([
      [2, '是'],
      [2, '是'],
    ]);

    const scores = await as(admin).get(`/api/v1/rounds/${roundB}/scores.xlsx`).buffer(true).parse(binary).expect(200);
    expect(scores.headers['content-disposition']).toMatch(/^attachment; filename="scores\.xlsx"/);
    const s = await sheetRows(scores.body as Buffer);
    expect(s[0]).toEqual([
      '编号',
      '作品名称',
      '评委',
      '状态',
      '演唱水平（50）',
      '艺术表现（25）',
      '精神面貌（15）',
      '服装形象（10）',
      '总分',
      '标准分（z）',
      '评语',
    ]);
    expect(s).toHaveLength(1 + 4 * 5);
    const e2Totals = s
      .filter((x) => x[0] === entries.E2.code)
      .map((x) => x[8])
      .sort((a, b) => Number(a) - Number(b));
    expect(e2Totals).toEqual([60, 84, 86, 88, 100]);
    // Each judge's z values (raw total standardised within the judge) average 0.
    const zByJudge = new Map<unknown, number[]>();
    for (const row of s.slice(1)) zByJudge.set(row[2], [...(zByJudge.get(row[2]) ?? []), Number(row[9])]);
    for (const zs of zByJudge.values()) expect(Math.abs(zs.reduce((a, b) => a + b, 0))).toBeLessThan(0.05);
    for (const row of s.slice(1)) {
      expect(row[3]).toBe('已提交');
      expect(Number(row[4]) + Number(row[5]) + Number(row[6]) + Number(row[7])).toBe(row[8]);
    }
    // Judges and other roles may not download them.
    await as(judges.J3.token).get(`/api/v1/rounds/${roundB}/scores.xlsx`).expect(403);
  });
});
