import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

/**
 * Without JavaScript every one-way page action first shows a confirm page saying what it does;
 * nothing changes until its 确认 button posts again with `_confirmed=1` (issue 17 §3). The
 * dialogs with JavaScript are tested in test/e2e (ux, judging, review).
 */
describe('confirm pages before one-way actions (no JavaScript)', () => {
  let t: TestApp;
  let admin: { Authorization: string };
  beforeAll(async () => {
    t = await createTestApp();
    admin = { Authorization: `Bearer ${await t.token('admin')}` };
  });
  afterAll(async () => {
    await t.close();
  });

  const roundStatus = async (id: string) =>
    (await t.container.database.db.selectFrom('rounds').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  test('when the city opens and closes a round, then each asks first and only the confirmed post acts', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', entry.id).execute();
    const judge = await t.createUser('judge', { countyId: null });
    const id = (
      await request(t.app).post('/api/v1/rounds').set(admin).send({ name: '确认测试', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)
    ).body.id;
    await request(t.app)
      .post(`/api/v1/rounds/${id}/entries`)
      .set(admin)
      .send({ entryIds: [entry.id] })
      .expect(200);
    await request(t.app)
      .post(`/api/v1/rounds/${id}/judges`)
      .set(admin)
      .send({ userIds: [judge.id] })
      .expect(200);
    await request(t.app).post(`/api/v1/rounds/${id}/assign`).set(admin).send({}).expect(200);
    const { agent, csrf } = await t.browser('admin');

    const askOpen = await agent.post(`/rounds/${id}/open`).type('form').send({ _csrf: csrf }).expect(200);
    expect(askOpen.text).toContain('确认开始评审');
    expect(askOpen.text).toContain('评分标准、评委人数和计分方法不能再修改');
    expect(askOpen.text).toContain(`href="/rounds/${id}">取消</a>`);
    expect(await roundStatus(id)).toBe('draft');
    await agent.post(`/rounds/${id}/open`).type('form').send({ _csrf: csrf, _confirmed: '1' }).expect(303);
    expect(await roundStatus(id)).toBe('open');

    const askClose = await agent.post(`/rounds/${id}/close`).type('form').send({ _csrf: csrf }).expect(200);
    expect(askClose.text).toContain('结束后所有评分锁定');
    expect(askClose.text).toMatch(/<button type="submit" class="button danger">确认结束<\/button>/);
    expect(await roundStatus(id)).toBe('open');
    await agent.post(`/rounds/${id}/close`).type('form').send({ _csrf: csrf, _confirmed: '1' }).expect(303);
    expect(await roundStatus(id)).toBe('closed');

    // 评定奖项 and 公示 ask the same way, keeping the form's fields for the confirmed post.
    const askAwards = await agent.post(`/rounds/${id}/awards`).type('form').send({ _csrf: csrf, first: '1', second: '0' }).expect(200);
    expect(askAwards.text).toContain('确认评定奖项');
    expect(askAwards.text).toContain('<input type="hidden" name="first" value="1">');
    const askPublish = await agent.post(`/rounds/${id}/publish`).type('form').send({ _csrf: csrf, publish: '1' }).expect(200);
    expect(askPublish.text).toContain('任何人无需登录即可在公示页看到获奖名单');
    // Withdrawing 公示 is a take-back: no question.
    await agent
      .post(`/rounds/${id}/publish`)
      .type('form')
      .send({ _csrf: csrf, publish: '0' })
      .expect((r) => expect(r.text).not.toContain('确认公示获奖名单'));
  });

  test('when the city selects one entry for broadcast from its page, then it asks first', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    await t.container.database.db.updateTable('entries').set({ status: 'awarded', award: 'first' }).where('id', '=', entry.id).execute();
    const { agent, csrf } = await t.browser('admin');
    expect((await agent.get(`/entries/${entry.id}`)).text).toContain('data-confirm="选送后作品状态改为「已选送电视台」');
    const ask = await agent.post(`/entries/${entry.id}/broadcast`).type('form').send({ _csrf: csrf, profile: 'h264-1080p25' }).expect(200);
    expect(ask.text).toContain('确认选送电视台');
    expect(ask.text).toContain('<input type="hidden" name="profile" value="h264-1080p25">');
    const status = async () =>
      (await t.container.database.db.selectFrom('entries').select('status').where('id', '=', entry.id).executeTakeFirstOrThrow()).status;
    expect(await status()).toBe('awarded');
    await agent.post(`/entries/${entry.id}/broadcast`).type('form').send({ _csrf: csrf, profile: 'h264-1080p25', _confirmed: '1' }).expect(303);
    expect(await status()).toBe('broadcast_selected');
  });

  test('when someone who may not act posts the form, then no confirm page is shown', async () => {
    const judge = await t.createUser('judge');
    const { agent, csrf } = await t.browser(judge.username);
    const id = (await request(t.app).post('/api/v1/rounds').set(admin).send({ name: '无权', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201))
      .body.id;
    await agent.post(`/rounds/${id}/close`).type('form').send({ _csrf: csrf }).expect(403);
    await agent.post(`/entries/some-entry/broadcast`).type('form').send({ _csrf: csrf }).expect(403);
  });
});
