import { sql } from 'kysely';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

/**
 * The city's broadcast page (issue 17 §7): it lists awarded entries still to select and selects
 * several at once — all or none, after a confirmation; the TV desk shows each programme's poster
 * and preview and a master's progress while it is made.
 */
describe('broadcast: select several awarded entries; the desk shows previews and progress', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function awarded(token: string, title: string, award = 'first') {
    const e = await createEntry(t, token, { title });
    await attachReadyVideo(t, e.id);
    await t.container.database.db.updateTable('entries').set({ status: 'awarded', award }).where('id', '=', e.id).execute();
    return e.id;
  }

  test('when the city ticks two awarded entries and confirms, then both are selected with masters queued; unticked ones stay listed', async () => {
    const school = await schoolWithToken(t);
    const a = await awarded(school.token, '一等奖作品甲');
    const b = await awarded(school.token, '二等奖作品乙', 'second');
    const c = await awarded(school.token, '三等奖作品丙', 'third');
    const { agent, csrf } = await t.browser('admin');
    const page = (await agent.get('/broadcast').expect(200)).text;
    expect(page).toContain('待选送的获奖作品');
    for (const title of ['一等奖作品甲', '二等奖作品乙', '三等奖作品丙']) expect(page).toContain(title);
    expect(page).toContain('<span class="badge badge-award">二等奖</span>');

    // Without JS: the confirm page first, nothing selected yet.
    const ask = await agent
      .post('/broadcast/select')
      .type('form')
      .send(`_csrf=${csrf}&entryId=${a}&entryId=${b}&profile=h264-1080p25&pillarbox=black`)
      .expect(200);
    expect(ask.text).toContain('选送这 2 件作品后');
    const db = t.container.database.db;
    expect((await db.selectFrom('entries').select('status').where('id', '=', a).executeTakeFirstOrThrow()).status).toBe('awarded');

    const done = await agent
      .post('/broadcast/select')
      .type('form')
      .send(`_csrf=${csrf}&entryId=${a}&entryId=${b}&profile=h264-1080p25&pillarbox=black&_confirmed=1`)
      .expect(303);
    expect(done.headers.location).toBe('/broadcast?msg=broadcast_selected_many');
    const rows = await db.selectFrom('entries').select(['id', 'status']).where('id', 'in', [a, b, c]).execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({ [a]: 'broadcast_selected', [b]: 'broadcast_selected', [c]: 'awarded' });
    const masters = await db.selectFrom('masters').select(['entry_id', 'status', 'profile']).where('entry_id', 'in', [a, b]).execute();
    expect(masters.map((m) => [m.status, m.profile])).toEqual([
      ['queued', 'h264-1080p25'],
      ['queued', 'h264-1080p25'],
    ]);

    const after = (await agent.get(done.headers.location).expect(200)).text;
    expect(after).toContain('所勾选的作品已选送电视台');
    const awaiting = /<section class="card" id="awaiting">[\s\S]*?<\/section>/.exec(after)![0];
    expect(awaiting).toContain('三等奖作品丙');
    expect(awaiting).not.toContain('一等奖作品甲');
  });

  test('when one ticked entry is no longer awarded, then nothing is selected and the page says why', async () => {
    const school = await schoolWithToken(t);
    const ok = await awarded(school.token, '可以选送');
    const notYet = await createEntry(t, school.token, { title: '还没获奖' });
    const { agent, csrf } = await t.browser('admin');
    const res = await agent.post('/broadcast/select').type('form').send(`_csrf=${csrf}&entryId=${ok}&entryId=${notYet.id}&_confirmed=1`).expect(409);
    expect(res.text).toContain('只有获奖作品可以选送电视台。');
    expect((await t.container.database.db.selectFrom('entries').select('status').where('id', '=', ok).executeTakeFirstOrThrow()).status).toBe('awarded');
    const none = await agent.post('/broadcast/select').type('form').send(`_csrf=${csrf}`).expect(303);
    expect(none.headers.location).toBe('/broadcast?msg=broadcast_none_ticked');
  });

  test('when the city pages through the awaiting list, then the desk stays on its page, and each list keeps the other in its links', async () => {
    const db = t.container.database.db;
    const school = await schoolWithToken(t);
    const model = await awarded(school.token, '待选送原件');
    // 60 more awarded entries (copies of one, straight in the database): two pages of awaiting.
    await sql`INSERT INTO entries
              SELECT (jsonb_populate_record(e, jsonb_build_object('id', 'await-' || g, 'code', e.code || '-' || g, 'title', '待选送' || lpad(g::text, 2, '0')))).*
                FROM entries e, generate_series(1, 60) g WHERE e.id = ${model}`.execute(db);
    const { agent } = await t.browser('admin');
    const awaitingOf = (html: string) =>
      /<section class="card" id="awaiting">[\s\S]*?<\/section>/
        .exec(html)![0]
        .replace(/&#x3D;/g, '=')
        .replace(/&amp;/g, '&');
    const deskOf = (html: string) => html.slice(html.indexOf('<h2>已选送的节目</h2>'));
    const titles = (html: string) => [...awaitingOf(html).matchAll(/<\/code> ([^<]+?) <span class="muted small">/g)].map((m) => m[1]);

    const first = (await agent.get('/broadcast').expect(200)).text;
    const second = (await agent.get('/broadcast?awaitingPage=2').expect(200)).text;
    expect(titles(first)).toHaveLength(50);
    expect(titles(second).length).toBeGreaterThan(10);
    expect(titles(second).filter((x) => titles(first).includes(x))).toEqual([]);
    // The desk below is the same first page either way.
    expect(deskOf(second)).toBe(deskOf(first));
    // The awaiting list's links page it (and come back to it), keeping the desk's page; the desk's keep the list's.
    expect(awaitingOf(first)).toContain('href="/broadcast?awaitingPage=2#awaiting"');
    const onDeskPage2 = (await agent.get('/broadcast?page=2&awaitingPage=2').expect(200)).text;
    expect(awaitingOf(onDeskPage2)).toContain('href="/broadcast?page=2&awaitingPage=1#awaiting"');
    expect(titles(onDeskPage2)).toEqual(titles(second));
  });

  test('when the TV desk opens, then it shows no selection list, and each programme has its poster, an inline preview and its master progress', async () => {
    const school = await schoolWithToken(t);
    const id = await awarded(school.token, '电视台要看的节目');
    await request(t.app)
      .post(`/api/v1/entries/${id}/broadcast`)
      .set('Authorization', `Bearer ${await t.token('admin')}`)
      .send({})
      .expect(200);
    await t.container.database.db.updateTable('masters').set({ status: 'processing', progress: 37 }).where('entry_id', '=', id).execute();
    const tv = await t.createUser('tv');
    const { agent, csrf } = await t.browser(tv.username);
    const desk = (await agent.get('/broadcast').expect(200)).text;
    expect(desk).not.toContain('待选送的获奖作品');
    expect(desk).toContain(`poster="/api/v1/entries/${id}/poster"`);
    expect(desk).toContain(`src="/api/v1/entries/${id}/preview"`);
    expect(desk).toMatch(new RegExp(`data-entry-id="${id}"><progress class="bar" max="100" value="37"`));
    // Selecting is the city's alone.
    const refused = await agent.post('/broadcast/select').type('form').send({ _csrf: csrf, entryId: id, _confirmed: '1' }).expect(403);
    expect(refused.text).toContain('没有权限');
  });
});
