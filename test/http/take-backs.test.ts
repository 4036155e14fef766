import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

/**
 * Take-backs (issue 17 §4): the county recalls a forwarded entry before the forwarding deadline
 * (reason, audited, quota freed); the school withdraws a submitted entry before the county acts.
 * And the confirm step of one-way page actions without JavaScript (§3).
 */
describe('take-backs and confirmations', () => {
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
  });

  async function countyWithForwarded(countyId: string, n: number) {
    const school = await schoolWithToken(t, countyId);
    const reviewer = await t.createUser('county', { countyId });
    const token = await t.token(reviewer.username);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const entry = await createEntry(t, school.token, { title: `作品${i + 1}` });
      await attachReadyVideo(t, entry.id);
      await as(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
      await as(token).post(`/api/v1/entries/${entry.id}/forward`, { periodId }).expect(200);
      ids.push(entry.id);
    }
    return { school, reviewer, token, ids };
  }

  test('when the county recalls a forwarded entry with a reason, then it is back to 待审核, its quota place is free and the history says why', async () => {
    const { token, ids } = await countyWithForwarded('c-fenyang', 2);
    const quotaBefore = (await as(token).get(`/api/v1/periods/${periodId}/quotas`)).body[0].used;
    const res = await as(token).post(`/api/v1/entries/${ids[0]}/recall`, { reason: '换报另一件作品' }).expect(200);
    expect(res.body).toMatchObject({ status: 'submitted', forwardRank: null });
    expect((await as(token).get(`/api/v1/periods/${periodId}/quotas`)).body[0].used).toBe(quotaBefore - 1);
    // The other forwarded entry moves up to rank 1.
    expect((await as(token).get(`/api/v1/entries/${ids[1]}`)).body.forwardRank).toBe(1);
    const history = await as(token).get(`/api/v1/entries/${ids[0]}/history`).expect(200);
    expect(history.body.find((h: { action: string }) => h.action === 'entry.recall')).toMatchObject({
      from: 'forwarded',
      to: 'submitted',
      reason: '换报另一件作品',
    });
  });

  test('when a recall has no reason, comes after the deadline, or from someone else, then it is refused and nothing changes', async () => {
    const { school, token, ids } = await countyWithForwarded('c-xiaoyi', 1);
    const blank = await as(token).post(`/api/v1/entries/${ids[0]}/recall`, { reason: ' ' }).expect(400);
    expect(blank.body.errors[0]).toEqual({ field: 'reason', message: '撤回原因不能为空' });
    const other = await t.token((await t.createUser('county', { countyId: 'c-shilou' })).username);
    await as(other).post(`/api/v1/entries/${ids[0]}/recall`, { reason: 'x' }).expect(404);
    await as(school.token).post(`/api/v1/entries/${ids[0]}/recall`, { reason: 'x' }).expect(403);
    for (const role of ['judge', 'tv', 'admin'] as const) {
      const caller = role === 'admin' ? 'admin' : (await t.createUser(role)).username;
      await as(await t.token(caller))
        .post(`/api/v1/entries/${ids[0]}/recall`, { reason: 'x' })
        .expect(403);
    }
    await request(t.app).post(`/api/v1/entries/${ids[0]}/recall`).send({ reason: 'x' }).expect(401);

    const db = t.container.database.db;
    const before = await db.selectFrom('periods').select(['submit_by', 'forward_by']).where('id', '=', periodId).executeTakeFirstOrThrow();
    await db
      .updateTable('periods')
      .set({ submit_by: new Date(Date.now() - 7200_000), forward_by: new Date(Date.now() - 3600_000) })
      .where('id', '=', periodId)
      .execute();
    try {
      const late = await as(token).post(`/api/v1/entries/${ids[0]}/recall`, { reason: '换报' }).expect(409);
      expect(late.body.detail).toBe('本期县区报送已截止，不能再撤回。如需退回，请联系市教育局。');
      // The page no longer offers it.
      const { agent } = await t.browser((await t.createUser('county', { countyId: 'c-xiaoyi' })).username);
      expect((await agent.get(`/entries/${ids[0]}`).expect(200)).text).not.toContain('撤回报送');
    } finally {
      await db.updateTable('periods').set(before).where('id', '=', periodId).execute();
    }
    expect((await as(token).get(`/api/v1/entries/${ids[0]}`)).body.status).toBe('forwarded');
  });

  test('when the county uses the page to recall, then the flash says the quota is freed; a recalled entry can be forwarded again', async () => {
    const { reviewer, token, ids } = await countyWithForwarded('c-jiaokou', 1);
    const { agent, csrf } = await t.browser(reviewer.username);
    const page = await agent.get(`/entries/${ids[0]}`).expect(200);
    expect(page.text).toContain('撤回报送');
    const empty = await agent.post(`/entries/${ids[0]}/recall`).type('form').send({ _csrf: csrf, reason: '' }).expect(303);
    expect(empty.headers.location).toContain('msg=recall_reason_required');
    const done = await agent.post(`/entries/${ids[0]}/recall`).type('form').send({ _csrf: csrf, reason: '换报' }).expect(303);
    expect((await agent.get(done.headers.location).expect(200)).text).toContain('已撤回报送，名额已释放');
    await as(token).post(`/api/v1/entries/${ids[0]}/forward`, { periodId }).expect(200);
  });

  test('when the school withdraws a submitted entry, then it is a draft again; once the county has forwarded it, withdrawing is refused', async () => {
    const school = await schoolWithToken(t, 'c-zhongyang');
    const token = await t.token((await t.createUser('county', { countyId: 'c-zhongyang' })).username);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    await as(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    expect((await as(school.token).post(`/api/v1/entries/${entry.id}/withdraw`).expect(200)).body.status).toBe('draft');
    await as(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    await as(token).post(`/api/v1/entries/${entry.id}/forward`, { periodId }).expect(200);
    const refused = await as(school.token).post(`/api/v1/entries/${entry.id}/withdraw`).expect(409);
    expect(refused.body.detail).toBe('作品已报送市教育局，不能再撤回。');
  });

  test('when a returned entry is shown to its school, then it offers 提交 but not 撤回', async () => {
    const school = await schoolWithToken(t, 'c-lanxian');
    const token = await t.token((await t.createUser('county', { countyId: 'c-lanxian' })).username);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    await as(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    await as(token).post(`/api/v1/entries/${entry.id}/return`, { reason: '声音太小' }).expect(200);
    const { agent } = await t.browser(school.username);
    const html = (await agent.get(`/entries/${entry.id}`).expect(200)).text;
    expect(html).toContain('提交到县区教育局');
    expect(html).not.toMatch(/>撤回<\/button>/);
  });

  test('when a school submits through the page without JavaScript, then a confirm page says what happens first and only its confirmed post submits', async () => {
    const school = await schoolWithToken(t, 'c-linxian');
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    const { agent, csrf } = await t.browser(school.username);
    // The page's form carries the same sentence for the dialog.
    expect((await agent.get(`/entries/${entry.id}`)).text).toContain('data-confirm="提交后作品交临县教育局审核');
    const ask = await agent.post(`/entries/${entry.id}/submit`).type('form').send({ _csrf: csrf }).expect(200);
    expect(ask.text).toContain('确认提交到县区教育局');
    expect(ask.text).toContain('县区处理前可以撤回');
    expect(ask.text).toContain('name="_confirmed" value="1"');
    expect((await as(school.token).get(`/api/v1/entries/${entry.id}`)).body.status).toBe('draft');
    await agent.post(`/entries/${entry.id}/submit`).type('form').send({ _csrf: csrf, _confirmed: '1' }).expect(303);
    expect((await as(school.token).get(`/api/v1/entries/${entry.id}`)).body.status).toBe('submitted');
  });

  test('when another school posts the submit form, then no confirm page is shown: 404', async () => {
    const school = await schoolWithToken(t, 'c-lishi');
    const entry = await createEntry(t, school.token);
    const other = await t.createUser('school', { countyId: 'c-lishi' });
    const { agent, csrf } = await t.browser(other.username);
    await agent.post(`/entries/${entry.id}/submit`).type('form').send({ _csrf: csrf }).expect(404);
  });
});
