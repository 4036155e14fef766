import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken, songId } from '../support/factories';

describe('entries: a school creates, edits, submits and withdraws', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  const api = (token: string) => ({
    get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
    patch: (url: string, body?: object) => request(t.app).patch(url).set('Authorization', `Bearer ${token}`).send(body),
  });

  test('when a school creates an entry, then it is a draft with a code that reveals neither school nor county', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    expect(entry.status).toBe('draft');
    expect(entry.code).toMatch(/^CX-[2-9A-HJKMNP-Z]{5}$/);
    const res = await api(school.token).get(`/api/v1/entries/${entry.id}`).expect(200);
    expect(res.body).toMatchObject({
      title: '三年级二班合唱',
      form: 'chorus',
      level: 'primary',
      performerCount: 40,
      directorName: '李老师',
      video: null,
      county: { id: 'c-lishi', name: '离石区' },
    });
    expect(res.body.song).toMatchObject({ title: '吕梁颂', designated: true });
  });

  test('when a self-chosen song is entered, then it is flagged as not designated', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token, { songId: undefined, customSongTitle: '我和我的祖国' });
    const res = await api(school.token).get(`/api/v1/entries/${entry.id}`).expect(200);
    expect(res.body.song).toEqual({ id: null, title: '我和我的祖国', designated: false });
  });

  test('when both or neither of a designated song and a custom title are given, then 400 says to pick one', async () => {
    const school = await schoolWithToken(t);
    const both = await api(school.token)
      .post('/api/v1/entries', { title: 'x', songId: await songId(t), customSongTitle: 'y', form: 'chorus', level: 'primary', performerCount: 3 })
      .expect(400);
    expect(both.body.code).toBe('validation_failed');
    expect(both.body.errors[0].message).toContain('二选一');
    const bad = await api(school.token).post('/api/v1/entries', { title: '', form: 'nope', level: 'primary', performerCount: 0 }).expect(400);
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['title', 'performerCount']));
  });

  test('when extra fields such as status, schoolId or award are sent, then they are ignored', async () => {
    const school = await schoolWithToken(t);
    const other = await t.createSchool();
    const res = await api(school.token)
      .post('/api/v1/entries', {
        title: 'x',
        songId: await songId(t),
        form: 'chorus',
        level: 'primary',
        performerCount: 3,
        status: 'awarded',
        schoolId: other.id,
        award: 'first',
        code: 'CX-AAAAA',
      })
      .expect(201);
    expect(res.body.status).toBe('draft');
    expect(res.body.school.id).toBe(school.schoolId);
    expect(res.body.award).toBeNull();
    expect(res.body.code).not.toBe('CX-AAAAA');
  });

  test('when the school edits a draft, then the change is saved; another school gets 404', async () => {
    const school = await schoolWithToken(t);
    const other = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await api(school.token).patch(`/api/v1/entries/${entry.id}`, { title: '新名字', performerCount: 12 }).expect(200);
    const res = await api(school.token).get(`/api/v1/entries/${entry.id}`).expect(200);
    expect(res.body).toMatchObject({ title: '新名字', performerCount: 12 });
    await api(other.token).patch(`/api/v1/entries/${entry.id}`, { title: 'hacked' }).expect(404);
    await api(other.token).get(`/api/v1/entries/${entry.id}`).expect(404);
  });

  test('when a school submits without a processed video, then 409 explains what is missing', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    const res = await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(409);
    expect(res.body).toMatchObject({ code: 'invalid_state', detail: '请先上传作品视频。' });
  });

  test('when the video failed its technical check, then submitting is refused', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id, 'fail');
    const res = await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(409);
    expect(res.body.detail).toContain('未通过技术检查');
  });

  test('when a county school submits a ready entry, then it is submitted into the open period and editing is locked', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id, 'warn');
    const res = await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    expect(res.body.status).toBe('submitted');
    expect(res.body.periodId).toEqual(expect.any(String));
    const again = await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(409);
    expect(again.body.detail).toBe('作品已经提交过了。');
    await api(school.token).patch(`/api/v1/entries/${entry.id}`, { title: 'late change' }).expect(409);
  });

  test('when a 市直 school submits, then the entry goes straight to the city (forwarded)', async () => {
    const school = await schoolWithToken(t, null);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    const res = await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    expect(res.body.status).toBe('forwarded');
    expect(res.body.county).toBeNull();
    await api(school.token).post(`/api/v1/entries/${entry.id}/withdraw`).expect(409);
  });

  test('when the school withdraws a submitted entry, then it is a draft again and the history lists every step', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(200);
    const res = await api(school.token).post(`/api/v1/entries/${entry.id}/withdraw`).expect(200);
    expect(res.body.status).toBe('draft');
    const history = await api(school.token).get(`/api/v1/entries/${entry.id}/history`).expect(200);
    expect(history.body.map((h: { action: string; from: string | null; to: string | null }) => [h.action, h.from, h.to])).toEqual([
      ['entry.create', null, 'draft'],
      ['entry.submit', 'draft', 'submitted'],
      ['entry.withdraw', 'submitted', 'draft'],
    ]);
    expect(history.body[1].actor).toBe(school.username);
  });

  test('when no period is open any more, then submitting is refused with a clear message', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    const db = t.container.database.db;
    const periods = await db.selectFrom('periods').select(['id', 'submit_by', 'forward_by']).execute();
    await db
      .updateTable('periods')
      .set({ submit_by: new Date(Date.now() - 86400_000), forward_by: new Date(Date.now() - 3600_000) })
      .execute();
    try {
      const res = await api(school.token).post(`/api/v1/entries/${entry.id}/submit`).expect(409);
      expect(res.body.detail).toBe('当前没有开放的报送期，不能提交。');
    } finally {
      for (const p of periods) await db.updateTable('periods').set({ submit_by: p.submit_by, forward_by: p.forward_by }).where('id', '=', p.id).execute();
    }
  });

  test('when a school lists entries, then it sees only its own, paginated', async () => {
    const school = await schoolWithToken(t);
    const other = await schoolWithToken(t);
    await createEntry(t, school.token, { title: 'A' });
    await createEntry(t, school.token, { title: 'B' });
    await createEntry(t, other.token, { title: 'C' });
    const res = await api(school.token).get('/api/v1/entries?pageSize=1').expect(200);
    expect(res.body).toMatchObject({ total: 2, page: 1, pageSize: 1 });
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0].school.id).toBe(school.schoolId);
  });

  test('when a county reviewer lists entries, then drafts stay private to the school', async () => {
    const school = await schoolWithToken(t, 'c-xiaoyi');
    const county = await t.createUser('county', { countyId: 'c-xiaoyi' });
    const countyToken = await t.token(county.username);
    const draft = await createEntry(t, school.token, { title: '草稿' });
    const submitted = await createEntry(t, school.token, { title: '已提交' });
    await attachReadyVideo(t, submitted.id);
    await api(school.token).post(`/api/v1/entries/${submitted.id}/submit`).expect(200);
    const res = await api(countyToken).get('/api/v1/entries').expect(200);
    expect(res.body.items.map((e: { id: string }) => e.id)).toEqual([submitted.id]);
    await api(countyToken).get(`/api/v1/entries/${draft.id}`).expect(404);
  });

  test('when a county reviewer or judge tries to create an entry, then 403', async () => {
    const county = await t.createUser('county');
    const judge = await t.createUser('judge');
    for (const u of [county, judge]) {
      const res = await api(await t.token(u.username))
        .post('/api/v1/entries', { title: 'x' })
        .expect(403);
      expect(res.body.code).toBe('forbidden');
    }
  });

  test('when the school opens its entry page, then it shows the entry, its status and a video upload form', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token, { title: '<script>alert(1)</script>' });
    const { agent } = await t.browser(school.username);
    const page = await agent.get(`/entries/${entry.id}`).expect(200);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('草稿');
    expect(page.text).toContain('上传视频');
    const list = await agent.get('/entries').expect(200);
    expect(list.text).toContain(entry.code);
  });

  test('when the school fills in the new-entry form, then the entry is created and the page asks for the video', async () => {
    const school = await schoolWithToken(t);
    const { agent, csrf } = await t.browser(school.username);
    const res = await agent
      .post('/entries')
      .type('form')
      .send({ _csrf: csrf, title: '手势舞', songId: 'custom', customSongTitle: '少年', form: 'gesture_dance', level: 'junior', performerCount: '30' })
      .expect(303);
    const page = await agent.get(res.headers.location).expect(200);
    expect(page.text).toContain('作品已创建。下一步：上传作品视频。');
    expect(page.text).toContain('《少年》');
    const invalid = await agent.post('/entries').type('form').send({ _csrf: csrf, title: '', songId: '', form: '', level: '', performerCount: '' }).expect(400);
    expect(invalid.text).toContain('作品名称不能为空');
  });
});
