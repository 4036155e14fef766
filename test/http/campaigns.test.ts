import request from 'supertest';
import { CAMPAIGN_LIST_TTL_MS } from '../../src/campaign/campaign.service';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { downloadBinary, readXlsx } from '../support/xlsx';

/**
 * Issue 16 part 3 and 4 (without retention): campaigns first-class. Campaign A is today's ('main');
 * the city creates B (next year), opens it, and from then on every list, count, quota, round and
 * export answers for the chosen campaign only. Closing A makes it read-only.
 */
describe('campaigns', () => {
  let t: TestApp;
  let admin: string;
  let county: string;
  let school: Awaited<ReturnType<typeof schoolWithToken>>;
  let aPeriod: string;
  let aForwarded: { id: string; code: string };
  let aDraft: { id: string; code: string };
  let aRound: string;
  let b: { id: string };
  let bEntry: { id: string; code: string };
  let bPeriod: string;

  const as = (token: string) => ({
    get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) =>
      request(t.app)
        .post(url)
        .set('Authorization', `Bearer ${token}`)
        .send(body ?? {}),
    patch: (url: string, body: object) => request(t.app).patch(url).set('Authorization', `Bearer ${token}`).send(body),
    put: (url: string, body: object) => request(t.app).put(url).set('Authorization', `Bearer ${token}`).send(body),
  });
  const codes = (res: request.Response) => (res.body.items as Array<{ code: string }>).map((e) => e.code).sort();

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.token('admin');
    const c = await t.createUser('county', { countyId: 'c-lishi' });
    county = await t.token(c.username);
    school = await schoolWithToken(t, 'c-lishi');
    aPeriod = (await t.container.campaign.listPeriods('main'))[0].id;

    // Campaign A: one entry forwarded to the city and judged in a round, one draft.
    aForwarded = await createEntry(t, school.token, { title: '去年的合唱' });
    await attachReadyVideo(t, aForwarded.id);
    await as(school.token).post(`/api/v1/entries/${aForwarded.id}/submit`).expect(200);
    await as(county).post(`/api/v1/entries/${aForwarded.id}/forward`, { periodId: aPeriod }).expect(200);
    aDraft = await createEntry(t, school.token, { title: '去年的草稿' });
    aRound = (
      await as(admin)
        .post('/api/v1/rounds', {
          name: '2026 初评',
          periodId: aPeriod,
          judgesPerEntry: 1,
          blind: true,
          aggregation: 'mean',
          rubric: [
            { key: 'song', label: '演唱', max: 60 },
            { key: 'show', label: '表演', max: 40 },
          ],
        })
        .expect(201)
    ).body.id;
    await as(admin)
      .post(`/api/v1/rounds/${aRound}/entries`, { entryIds: [aForwarded.id] })
      .expect(200);

    // Campaign B: next year's, copied from A, then opened for submissions.
    const year = (await as(admin).get('/api/v1/campaign').expect(200)).body.year as number;
    b = (
      await as(admin)
        .post('/api/v1/campaigns', { title: '明年的展播', year: year + 1, copyFrom: 'main', copySongs: true, copyPeriods: true, copyRubric: true })
        .expect(201)
    ).body;
    await as(admin).post(`/api/v1/campaigns/${b.id}/status`, { status: 'open' }).expect(200);
    bPeriod = (await t.container.campaign.listPeriods(b.id))[0].id;
    const bSong = (await t.container.campaign.get(b.id)).songs[0].id;
    bEntry = await createEntry(t, school.token, { title: '今年的合唱', songId: bSong });
    await attachReadyVideo(t, bEntry.id);
    await as(school.token).post(`/api/v1/entries/${bEntry.id}/submit`).expect(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("when the city creates next year's campaign, then songs, periods (one year later, same quotas) and the rubric are copied and it waits in 筹备中", async () => {
    const [a, next] = await Promise.all([t.container.campaign.get('main'), t.container.campaign.get(b.id)]);
    expect(next.songs.map((s) => [s.title, s.designated])).toEqual(a.songs.map((s) => [s.title, s.designated]));
    expect(next.songs.map((s) => s.id)).not.toEqual(a.songs.map((s) => s.id));
    expect(next.periods).toHaveLength(a.periods.length);
    const [pa, pb] = [a.periods[0], next.periods[0]];
    expect([pb.name, pb.quota]).toEqual([pa.name, pa.quota]);
    expect(pb.submitBy.getUTCFullYear()).toBe(pa.submitBy.getUTCFullYear() + 1);
    expect(pb.submitBy.getUTCMonth()).toBe(pa.submitBy.getUTCMonth());
    expect(next.rubric?.map((c) => c.label)).toEqual(['演唱', '表演']);
    const audit = await t.container.database.db.selectFrom('audit_log').select(['action', 'to_state']).where('object_id', '=', b.id).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'campaign.create', to_state: 'preparing' },
      { action: 'campaign.status', to_state: 'open' },
    ]);
  });

  it('when B opens, then A stops taking submissions (评审中), new entries go to B, and A’s draft can no longer be submitted', async () => {
    const list = (await as(school.token).get('/api/v1/campaigns').expect(200)).body.items as Array<{ id: string; status: string }>;
    expect(list.filter((c) => c.status === 'open').map((c) => c.id)).toEqual([b.id]);
    expect(list.find((c) => c.id === 'main')?.status).toBe('running');
    // Even while looking at A, a school's new entry belongs to the open campaign.
    const made = await as(school.token)
      .post('/api/v1/entries?campaignId=main', {
        title: '新作品',
        songId: (await t.container.campaign.get(b.id)).songs[1].id,
        form: 'chorus',
        level: 'primary',
        performerCount: 3,
      })
      .expect(201);
    expect(made.body.campaignId).toBe(b.id);
    // A's song is not one of B's songs.
    const aSong = (await t.container.campaign.get('main')).songs[1].id;
    const wrong = await as(school.token)
      .post('/api/v1/entries', { title: '旧歌', songId: aSong, form: 'chorus', level: 'primary', performerCount: 3 })
      .expect(400);
    expect(wrong.body.errors).toEqual([{ field: 'songId', message: '歌曲不存在' }]);
    await attachReadyVideo(t, aDraft.id);
    const refused = await as(school.token).post(`/api/v1/entries/${aDraft.id}/submit`).expect(409);
    expect(refused.body.detail).toBe('这件作品所属的活动已不再接受报送，不能提交。');
  });

  it('when the school, the county and the city list entries, then each campaign shows only its own', async () => {
    for (const token of [school.token, county, admin]) {
      const inB = codes(await as(token).get('/api/v1/entries?pageSize=100').expect(200));
      const inA = codes(await as(token).get('/api/v1/entries?pageSize=100&campaignId=main').expect(200));
      expect(inB).toContain(bEntry.code);
      expect(inB).not.toContain(aForwarded.code);
      expect(inA).toContain(aForwarded.code);
      expect(inA).not.toContain(bEntry.code);
      // The header chooses as the query does.
      const viaHeader = codes(await as(token).get('/api/v1/entries?pageSize=100').set('X-Campaign-Id', 'main').expect(200));
      expect(viaHeader).toEqual(inA);
    }
  });

  it('when the city reads statistics, then the counts are the chosen campaign’s', async () => {
    const sB = (await as(admin).get('/api/v1/stats').expect(200)).body;
    const sA = (await as(admin).get('/api/v1/stats?campaignId=main').expect(200)).body;
    const draftsAndMore = await t.container.database.db.selectFrom('entries').select(['campaign_id']).execute();
    expect(sA.totals.entries).toBe(draftsAndMore.filter((e) => e.campaign_id === 'main').length);
    expect(sB.totals.entries).toBe(draftsAndMore.filter((e) => e.campaign_id === b.id).length);
    expect(sA.totals.entries + sB.totals.entries).toBe(draftsAndMore.length);
  });

  it('when the city lists rounds or quotas, then another campaign’s round or period is not there (404 for the period)', async () => {
    const roundsB = (await as(admin).get('/api/v1/rounds').expect(200)).body as Array<{ id: string }>;
    const roundsA = (await as(admin).get('/api/v1/rounds?campaignId=main').expect(200)).body as Array<{ id: string }>;
    expect(roundsA.map((r) => r.id)).toContain(aRound);
    expect(roundsB.map((r) => r.id)).not.toContain(aRound);
    await as(admin).get(`/api/v1/periods/${aPeriod}/quotas`).expect(404);
    const quotasA = (await as(admin).get(`/api/v1/periods/${aPeriod}/quotas?campaignId=main`).expect(200)).body as Array<{ countyId: string; used: number }>;
    expect(quotasA.find((q) => q.countyId === 'c-lishi')?.used).toBe(1);
    const quotasB = (await as(county).get(`/api/v1/periods/${bPeriod}/quotas`).expect(200)).body as Array<{ countyId: string; used: number }>;
    expect(quotasB).toEqual([expect.objectContaining({ countyId: 'c-lishi', used: 0 })]);
  });

  it('when a round of B is built, then A’s period is refused and A’s entries are never added, even by id', async () => {
    const bad = await as(admin).post('/api/v1/rounds', { name: '错期', periodId: aPeriod, judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(400);
    expect(bad.body.errors).toEqual([{ field: 'periodId', message: '报送期不存在' }]);
    const round = (
      await as(admin).post('/api/v1/rounds', { name: '2027 初评', periodId: bPeriod, judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)
    ).body;
    expect(round.campaignId).toBe(b.id);
    // The new-round form of B starts from the rubric copied from A.
    const { agent } = await t.browser('admin');
    const form = await agent.get('/rounds').expect(200);
    expect(form.text).toContain('value="演唱"');
    expect(form.text).toContain('value="表演"');
    const added = await as(admin)
      .post(`/api/v1/rounds/${round.id}/entries`, { entryIds: [aForwarded.id] })
      .expect(200);
    expect(added.body.added).toBe(0);
    const ids = await t.container.database.db.selectFrom('round_entries').select('entry_id').where('round_id', '=', round.id).execute();
    expect(ids).toEqual([]);
  });

  it('when the city exports the forwarded list, then only the chosen campaign’s entries are in it', async () => {
    const rowsOf = async (q: string) =>
      (await readXlsx((await downloadBinary(as(admin).get(`/api/v1/exports/forwarded.xlsx?${q}`)).expect(200)).body as Buffer)).slice(1).map((r) => r[0]);
    expect(await rowsOf(`periodId=${aPeriod}&campaignId=main`)).toEqual([aForwarded.code]);
    expect(await rowsOf('')).not.toContain(aForwarded.code);
  });

  it('when the TV desk and the 公示 are read, then they are per campaign', async () => {
    const db = t.container.database.db;
    await db.updateTable('entries').set({ status: 'broadcast_selected' }).where('id', '=', aForwarded.id).execute();
    const tv = await t.createUser('tv', { countyId: null });
    const tvToken = await t.token(tv.username);
    const deskB = (await as(tvToken).get('/api/v1/broadcast/entries').expect(200)).body as Array<{ entry: { code: string } }>;
    const deskA = (await as(tvToken).get('/api/v1/broadcast/entries?campaignId=main').expect(200)).body as Array<{ entry: { code: string } }>;
    expect(deskA.map((d) => d.entry.code)).toEqual([aForwarded.code]);
    expect(deskB.map((d) => d.entry.code)).toEqual([]);
    await db.updateTable('entries').set({ status: 'in_judging' }).where('id', '=', aForwarded.id).execute();
    await db.updateTable('round_entries').set({ award: 'first' }).where('round_id', '=', aRound).execute();
    await db.updateTable('rounds').set({ published_at: new Date() }).where('id', '=', aRound).execute();
    const publicA = (await request(t.app).get('/api/v1/results?campaignId=main').expect(200)).body as Array<{ id: string }>;
    const publicB = (await request(t.app).get('/api/v1/results').expect(200)).body as Array<{ id: string }>;
    expect(JSON.stringify(publicA)).toContain(aForwarded.code);
    expect(JSON.stringify(publicB)).not.toContain(aForwarded.code);
    // The public page names the campaign and links the other years.
    const html = (await request(t.app).get('/results?campaignId=main').expect(200)).text;
    expect(html).toContain(aForwarded.code);
    expect(html).toContain(`href="/results?campaignId=${b.id}"`);
  });

  it('when someone names a campaign that does not exist, then 404 with a Chinese message (never silently another campaign)', async () => {
    const res = await as(admin).get('/api/v1/entries?campaignId=nope').expect(404);
    expect(res.body.detail).toBe('活动不存在。');
  });

  it('when a county reviewer switches campaign in the nav, then the pages show that campaign until switched back', async () => {
    const c = await t.createUser('county', { countyId: 'c-lishi' });
    const { agent, csrf } = await t.browser(c.username);
    const before = await agent.get('/entries').expect(200);
    expect(before.text).toContain(bEntry.code);
    expect(before.text).not.toContain(aForwarded.code);
    await agent.post('/campaign/switch').type('form').send({ _csrf: csrf, campaignId: 'main', next: '/entries' }).expect(303).expect('Location', '/entries');
    const after = await agent.get('/entries').expect(200);
    expect(after.text).toContain(aForwarded.code);
    expect(after.text).not.toContain(bEntry.code);
    expect(after.text).toMatch(/<option value="main" selected>/);
    await agent.post('/campaign/switch').type('form').send({ _csrf: csrf, campaignId: b.id, next: '/entries' }).expect(303);
    expect((await agent.get('/entries').expect(200)).text).toContain(bEntry.code);
  });

  it('when the city closes A, then every write to it is refused with a Chinese 409 and reading still works', async () => {
    const db = t.container.database.db;
    await db.updateTable('entries').set({ status: 'returned' }).where('id', '=', aForwarded.id).execute();
    const notConfirmed = await as(admin).post('/api/v1/campaigns/main/close', {}).expect(400);
    expect(notConfirmed.body.errors[0].field).toBe('confirm');
    const closed = await as(admin).post('/api/v1/campaigns/main/close', { confirm: true }).expect(200);
    expect(closed.body.status).toBe('closed');
    const refusals = [
      await as(school.token).patch(`/api/v1/entries/${aDraft.id}`, { title: '改个名字' }),
      await as(county).post(`/api/v1/entries/${aForwarded.id}/forward`, { periodId: aPeriod }),
      await as(admin).patch(`/api/v1/periods/${aPeriod}`, { quota: 99 }),
      await as(admin).put(`/api/v1/periods/${aPeriod}/quotas/c-lishi`, { quota: 3 }),
      await as(admin).post('/api/v1/rounds?campaignId=main', { name: '补评', judgesPerEntry: 1, blind: true, aggregation: 'mean' }),
      await as(admin).patch(`/api/v1/rounds/${aRound}`, { name: '改名' }),
      await as(admin).post('/api/v1/campaigns/main/status', { status: 'open' }),
    ];
    for (const r of refusals) {
      expect([r.status, r.body.code, r.body.detail]).toEqual([409, 'campaign_closed', '该活动已关闭归档，只能查看，不能再修改。']);
    }
    expect((await db.selectFrom('entries').select('title').where('id', '=', aDraft.id).executeTakeFirstOrThrow()).title).toBe('去年的草稿');
    expect((await db.selectFrom('periods').select('quota').where('id', '=', aPeriod).executeTakeFirstOrThrow()).quota).not.toBe(99);
    expect(codes(await as(admin).get('/api/v1/entries?campaignId=main&pageSize=100').expect(200))).toContain(aDraft.code);
    // B is untouched by A's closing.
    await as(school.token).patch(`/api/v1/entries/${bEntry.id}`, { title: '今年的合唱（改）' }).expect(409); // submitted: not editable — the ordinary rule
    await as(admin).patch(`/api/v1/periods/${bPeriod}`, { quota: 11 }).expect(200);
  });

  it('when someone other than the city tries to create, open or close a campaign, then 403', async () => {
    for (const token of [school.token, county]) {
      await as(token).post('/api/v1/campaigns', { title: '越权', year: 2040 }).expect(403);
      await as(token).post(`/api/v1/campaigns/${b.id}/status`, { status: 'running' }).expect(403);
      await as(token).post(`/api/v1/campaigns/${b.id}/close`, { confirm: true }).expect(403);
    }
  });

  it('when another process adds a campaign, then this one lists it once its cached list is older than CAMPAIGN_LIST_TTL_MS', async () => {
    const listed = async () => ((await as(admin).get('/api/v1/campaigns').expect(200)).body.items as Array<{ id: string }>).map((c) => c.id);
    await listed(); // the list is now cached
    // Another web process's change: written past this process's service.
    await t.container.database.db
      .insertInto('campaigns')
      .values({ id: 'other-process-2035', title: '别的进程建的活动', year: 2035, status: 'preparing' })
      .execute();

    expect(await listed()).not.toContain('other-process-2035');
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + CAMPAIGN_LIST_TTL_MS + 1);
    try {
      expect(await listed()).toContain('other-process-2035');
    } finally {
      clock.mockRestore();
    }
  });
});
