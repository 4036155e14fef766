import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { downloadBinary, readXlsx } from '../support/xlsx';

describe('county review: return, forward within the quota, rank', () => {
  let t: TestApp;
  let periodId: string;
  beforeAll(async () => {
    t = await createTestApp();
    periodId = (await t.container.campaign.listPeriods())[0].id;
  });
  afterAll(async () => {
    await t.close();
  });

  const as = (token: string) => ({
    get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
    put: (url: string, body?: object) => request(t.app).put(url).set('Authorization', `Bearer ${token}`).send(body),
  });

  /** A county (its own), a school in it, and `n` submitted entries of that school. */
  async function countyWithSubmitted(countyId: string, n: number) {
    const school = await schoolWithToken(t, countyId);
    const reviewer = await t.createUser('county', { countyId });
    const token = await t.token(reviewer.username);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const entry = await createEntry(t, school.token, { title: `作品${i + 1}` });
      await attachReadyVideo(t, entry.id);
      await as(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
      ids.push(entry.id);
    }
    return { school, reviewer, token, ids };
  }

  test('when the county returns an entry with a reason, then the school sees returned with the reason and can resubmit', async () => {
    const { school, token, ids } = await countyWithSubmitted('c-fenyang', 1);
    const res = await as(token).post(`/api/v1/entries/${ids[0]}/return`, { reason: '声音太小，请重新录制' }).expect(200);
    expect(res.body).toMatchObject({ status: 'returned', returnReason: '声音太小，请重新录制' });
    const seen = await as(school.token).get(`/api/v1/entries/${ids[0]}`).expect(200);
    expect(seen.body.returnReason).toBe('声音太小，请重新录制');
    await as(school.token).post(`/api/v1/entries/${ids[0]}/submit`).expect(200);
    const history = await as(token).get(`/api/v1/entries/${ids[0]}/history`).expect(200);
    expect(history.body.find((h: { action: string }) => h.action === 'entry.return')).toMatchObject({
      from: 'submitted',
      to: 'returned',
      reason: '声音太小，请重新录制',
    });
  });

  test('when a return has no reason, then 400 and nothing changes', async () => {
    const { token, ids } = await countyWithSubmitted('c-fenyang', 1);
    const res = await as(token).post(`/api/v1/entries/${ids[0]}/return`, { reason: '  ' }).expect(400);
    expect(res.body.errors[0]).toEqual({ field: 'reason', message: '退回原因不能为空' });
    expect((await as(token).get(`/api/v1/entries/${ids[0]}`)).body.status).toBe('submitted');
  });

  test('when the county forwards up to its quota, then the next forward is refused with quota_exceeded and nothing changes', async () => {
    const { token, ids } = await countyWithSubmitted('c-wenshui', 3);
    const admin = await t.token('admin');
    await as(admin).put(`/api/v1/periods/${periodId}/quotas/c-wenshui`, { quota: 2 }).expect(200);
    await as(token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(200);
    const second = await as(token).post(`/api/v1/entries/${ids[1]}/forward`, { periodId }).expect(200);
    expect(second.body).toMatchObject({ status: 'forwarded', forwardRank: 2 });
    const third = await as(token).post(`/api/v1/entries/${ids[2]}/forward`, { periodId }).expect(409);
    expect(third.body.code).toBe('quota_exceeded');
    expect(third.body.detail).toContain('已报送 2 / 2');
    expect((await as(token).get(`/api/v1/entries/${ids[2]}`)).body.status).toBe('submitted');
    const overview = await as(token).get(`/api/v1/periods/${periodId}/quotas`).expect(200);
    expect(overview.body).toEqual([{ countyId: 'c-wenshui', countyName: '文水县', quota: 2, overridden: true, used: 2 }]);
  });

  test('when two reviewers forward at the same time, then the quota still holds', async () => {
    const { token, ids } = await countyWithSubmitted('c-jiaocheng', 6);
    const second = await t.createUser('county', { countyId: 'c-jiaocheng' });
    const token2 = await t.token(second.username);
    await as(await t.token('admin'))
      .put(`/api/v1/periods/${periodId}/quotas/c-jiaocheng`, { quota: 3 })
      .expect(200);
    const results = await Promise.all(ids.map((id, i) => as(i % 2 ? token2 : token).post(`/api/v1/entries/${id}/forward`, { periodId })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'quota_exceeded')).toBe(true);
    const forwarded = await t.container.database.db
      .selectFrom('entries')
      .select(['forward_rank'])
      .where('county_id', '=', 'c-jiaocheng')
      .where('status', '=', 'forwarded')
      .orderBy('forward_rank')
      .execute();
    expect(forwarded.map((f) => f.forward_rank)).toEqual([1, 2, 3]);
  });

  test('when the county forwards at a rank and reorders, then ranks stay 1..n', async () => {
    const { token, ids } = await countyWithSubmitted('c-xingxian', 3);
    await as(token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(200);
    await as(token).post(`/api/v1/entries/${ids[1]}/forward`, { periodId }).expect(200);
    const top = await as(token).post(`/api/v1/entries/${ids[2]}/forward`, { periodId, rank: 1 }).expect(200);
    expect(top.body.forwardRank).toBe(1);
    await as(token).post(`/api/v1/entries/${ids[2]}/rank`, { rank: 3 }).expect(200);
    const ranks = await Promise.all(ids.map(async (id) => (await as(token).get(`/api/v1/entries/${id}`)).body.forwardRank));
    expect(ranks).toEqual([1, 2, 3]);
  });

  test('when the forwarding deadline has passed, then forward and reorder are refused', async () => {
    const { token, ids } = await countyWithSubmitted('c-linxian', 2);
    await as(token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(200);
    const db = t.container.database.db;
    const before = await db.selectFrom('periods').select(['submit_by', 'forward_by']).where('id', '=', periodId).executeTakeFirstOrThrow();
    await db
      .updateTable('periods')
      .set({ submit_by: new Date(Date.now() - 7200_000), forward_by: new Date(Date.now() - 3600_000) })
      .where('id', '=', periodId)
      .execute();
    try {
      const late = await as(token).post(`/api/v1/entries/${ids[1]}/forward`, { periodId }).expect(409);
      expect(late.body.detail).toBe('本期县区报送已截止，不能再报送。');
      await as(token).post(`/api/v1/entries/${ids[0]}/rank`, { rank: 1 }).expect(409);
    } finally {
      await db.updateTable('periods').set(before).where('id', '=', periodId).execute();
    }
  });

  test('when another county acts on an entry, then 404; a school or judge gets 403', async () => {
    const { school, ids } = await countyWithSubmitted('c-liulin', 1);
    const otherCounty = await t.createUser('county', { countyId: 'c-shilou' });
    const other = await t.token(otherCounty.username);
    await as(other).post(`/api/v1/entries/${ids[0]}/return`, { reason: 'x' }).expect(404);
    await as(other).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(404);
    await as(other).get(`/api/v1/entries/${ids[0]}`).expect(404);
    await as(school.token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(403);
    const judge = await t.token((await t.createUser('judge')).username);
    await as(judge).post(`/api/v1/entries/${ids[0]}/return`, { reason: 'x' }).expect(403);
    await as(judge).get('/api/v1/stats').expect(403);
  });

  test('when the city returns a 市直 entry, then it is returned; the county cannot return a forwarded entry', async () => {
    const cityDirect = await schoolWithToken(t, null);
    const entry = await createEntry(t, cityDirect.token);
    await attachReadyVideo(t, entry.id);
    await as(cityDirect.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    const admin = await t.token('admin');
    const res = await as(admin).post(`/api/v1/entries/${entry.id}/return`, { reason: '请补充作品简介' }).expect(200);
    expect(res.body.status).toBe('returned');

    const { token, ids } = await countyWithSubmitted('c-lanxian', 1);
    await as(token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(200);
    const refused = await as(token).post(`/api/v1/entries/${ids[0]}/return`, { reason: 'x' }).expect(409);
    expect(refused.body.code).toBe('invalid_state');
  });

  test('when a county asks for statistics, then it sees only its own numbers and schools with no entry', async () => {
    const reviewer = await t.createUser('county', { countyId: 'c-jiaokou' });
    const token = await t.token(reviewer.username);
    const idle = await t.createSchool({ name: '交口县无作品小学', countyId: 'c-jiaokou' });
    const active = await schoolWithToken(t, 'c-jiaokou');
    await createEntry(t, active.token, { form: 'gesture_dance' });
    const res = await as(token).get('/api/v1/stats').expect(200);
    expect(res.body.scope.countyId).toBe('c-jiaokou');
    expect(res.body.byCountyStatus).toEqual([{ countyId: 'c-jiaokou', countyName: '交口县', byStatus: { draft: 1 }, total: 1 }]);
    expect(res.body.byForm.find((f: { code: string }) => f.code === 'gesture_dance').count).toBe(1);
    const names = res.body.schoolsWithoutEntries.flatMap((g: { schools: Array<{ name: string }> }) => g.schools.map((s) => s.name));
    expect(names).toContain(idle.name);
    expect(names).not.toContain(active.schoolId);
    const adminStats = await as(await t.token('admin'))
      .get('/api/v1/stats')
      .expect(200);
    expect(adminStats.body.byCountyStatus.length).toBe(14);
  });

  test('when the city exports the forwarded list, then an XLSX with one row per forwarded entry downloads', async () => {
    const { token, ids } = await countyWithSubmitted('c-zhongyang', 1);
    await as(token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(200);
    const res = await downloadBinary(as(await t.token('admin')).get(`/api/v1/exports/forwarded.xlsx?periodId=${periodId}`)).expect(200);
    expect(res.headers['content-type']).toContain('spreadsheetml');
    const [header, ...rows] = await readXlsx(res.body as Buffer);
    expect(header).toEqual(['编号', '作品名称', '歌曲', '自选', '表演形式', '学段', '学校', '县区', '排序', '时长（秒）', '技术检查', '状态', '监护人授权']);
    expect(rows.some((r) => r[7] === '中阳县' && r[8] === 1 && r[10] === '通过' && r[11] === '已报送市教育局' && r[12] === '电视、新媒体、公示')).toBe(true);
  });

  test('when reviewers use the pages, then the worklist shows 已报送 x / y and the audit log lists the actions', async () => {
    const { reviewer, ids } = await countyWithSubmitted('c-fangshan', 2);
    const { agent, csrf } = await t.browser(reviewer.username);
    const list = await agent.get('/review').expect(200);
    expect(list.text).toContain('作品审核');
    expect(list.text).toContain('作品1');
    // Without JS the form first shows what forwarding spends; only the confirmed post acts.
    const ask = await agent.post(`/entries/${ids[0]}/forward`).type('form').send({ _csrf: csrf, periodId }).expect(200);
    expect(ask.text).toContain('报送后占用名额 1/10');
    expect((await agent.get(`/api/v1/entries/${ids[0]}`)).body.status).toBe('submitted');
    await agent.post(`/entries/${ids[0]}/forward`).type('form').send({ _csrf: csrf, periodId, _confirmed: '1' }).expect(303);
    await agent.post(`/entries/${ids[1]}/return`).type('form').send({ _csrf: csrf, reason: '画面太暗' }).expect(303);
    const forwarded = await agent.get(`/review?tab=forwarded&periodId=${periodId}`).expect(200);
    expect(forwarded.text).toMatch(/已报送 <strong>1 \/ 10<\/strong>/);
    const page = await agent.get(`/entries/${ids[0]}`).expect(200);
    expect(page.text).toContain('报送排序：第 1 位');
    const admin = await t.browser('admin');
    const audit = await admin.agent.get('/audit?action=entry.return').expect(200);
    expect(audit.text).toContain('画面太暗');
    // Who did what to which entry, in words: the reviewer's name, the action, the entry's code and title, the states.
    const row = /<tr>\s*<td data-label="时间">[\s\S]*?<\/tr>/.exec(audit.text)![0];
    expect(row).toContain(`<td data-label="谁">${reviewer.username}</td>`);
    expect(row).toContain('<td data-label="做了什么">退回了作品</td>');
    expect(row).toMatch(/作品 <a href="\/entries\/[^"]+">CX-[A-Z0-9]+「作品2」<\/a>/);
    expect(row).toContain('已提交，待县区审核 → 已退回，待修改');
    expect(audit.text).not.toContain('entry.return</');
    expect(audit.text).not.toContain('{&quot;');
    const stats = await admin.agent.get('/stats').expect(200);
    expect(stats.text).toContain('<svg class="chart"');
  });
});
