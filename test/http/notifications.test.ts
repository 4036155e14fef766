import request from 'supertest';
import { notify } from '../../src/notifications/notify';
import { createTestApp, type TestApp } from '../support/app';

describe('消息 and 通知设置: API and pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const bearer = (token: string) => ({
    get: (url: string) => request(t.app).get(`/api/v1${url}`).set('Authorization', `Bearer ${token}`),
    post: (url: string, body: object) => request(t.app).post(`/api/v1${url}`).set('Authorization', `Bearer ${token}`).send(body),
    put: (url: string, body: object) => request(t.app).put(`/api/v1${url}`).set('Authorization', `Bearer ${token}`).send(body),
  });

  it('when someone has 25 messages, then they come 20 at a time newest first, and marking read counts down only their own', async () => {
    const judge = await t.createUser('judge');
    const other = await t.createUser('judge');
    for (let i = 1; i <= 25; i++)
      await notify(t.container.db, { kind: 'round.assigned', recipients: { userIds: [judge.id] }, title: `消息 ${i}`, link: '/judging' });
    await notify(t.container.db, { kind: 'round.assigned', recipients: { userIds: [other.id] }, title: '别人的消息' });
    const api = bearer(await t.token(judge.username));

    const first = (await api.get('/notifications').expect(200)).body;
    expect(first.items).toHaveLength(20);
    expect(first.items[0]).toMatchObject({ title: '消息 25', kindLabel: '评审分配', link: '/judging', read: false });
    expect(first.unread).toBe(25);
    const second = (await api.get(`/notifications?before=${first.nextBefore}`).expect(200)).body;
    expect(second.items.map((m: { title: string }) => m.title)).toEqual(['消息 5', '消息 4', '消息 3', '消息 2', '消息 1']);
    expect(second.nextBefore).toBeNull();

    const othersId = (
      await bearer(await t.token(other.username))
        .get('/notifications')
        .expect(200)
    ).body.items[0].id;
    expect((await api.post('/notifications/read', { ids: [first.items[0].id, othersId] }).expect(200)).body).toEqual({ unread: 24 });
    expect(
      (
        await bearer(await t.token(other.username))
          .get('/notifications')
          .expect(200)
      ).body.unread,
    ).toBe(1);
    expect((await api.get('/notifications?unread=1&limit=100').expect(200)).body.items).toHaveLength(24);
    expect((await api.post('/notifications/read', {}).expect(400)).body.errors).toEqual([{ field: 'ids', message: '请选择要标记为已读的消息' }]);
    expect((await api.post('/notifications/read', { all: true }).expect(200)).body).toEqual({ unread: 0 });
  });

  it('when a message is marked read with its button on the page, then only it is read', async () => {
    const county = await t.createUser('county');
    await notify(t.container.db, { kind: 'entry.forwarded', recipients: { userIds: [county.id] }, title: '第一条' });
    await notify(t.container.db, { kind: 'entry.forwarded', recipients: { userIds: [county.id] }, title: '第二条' });
    const { agent, csrf } = await t.browser(county.username);
    const page = await agent.get('/notifications').expect(200);
    const id = /name="ids" value="(\d+)"/.exec(page.text)![1];
    await agent
      .post('/notifications/read')
      .type('form')
      .send({ _csrf: csrf, ids: id, next: '/notifications' })
      .expect(303)
      .expect('Location', '/notifications');
    expect((await agent.get('/notifications?unread=1').expect(200)).text).toContain('未读（1）');
  });

  it('when a message is opened on the page, then it is read and the browser goes to its link; someone else’s message goes nowhere', async () => {
    const school = await t.createUser('school');
    const stranger = await t.createUser('school');
    await notify(t.container.db, { kind: 'entry.returned', recipients: { userIds: [school.id] }, title: '《合唱》被退回', link: '/entries/abc' });
    const { agent, csrf } = await t.browser(school.username);
    const list = await agent.get('/notifications').expect(200);
    expect(list.text).toContain('《合唱》被退回');
    expect(list.text).toMatch(/class="nav-badge">1/);
    const id = /action="\/notifications\/(\d+)\/open"/.exec(list.text)![1];

    const s = await t.browser(stranger.username);
    await s.agent.post(`/notifications/${id}/open`).type('form').send({ _csrf: s.csrf }).expect(303).expect('Location', '/notifications');
    await agent.post(`/notifications/${id}/open`).type('form').send({ _csrf: csrf }).expect(303).expect('Location', '/entries/abc');
    const after = await agent.get('/notifications').expect(200);
    expect(after.text).not.toContain('nav-badge');
  });

  it('when a person sets a wrong email address, then the form says why in Chinese; a right one is kept and can be opted out', async () => {
    const tv = await t.createUser('tv');
    const { agent, csrf } = await t.browser(tv.username);
    const bad = await agent.post('/notifications/settings').type('form').send({ _csrf: csrf, email: 'not-an-address', emailNotify: 'on' }).expect(400);
    expect(bad.text).toContain('邮箱格式不正确');
    expect(bad.text).toContain('not-an-address');
    await agent.post('/notifications/settings').type('form').send({ _csrf: csrf, email: 'tv@example.cn' }).expect(303);
    const api = bearer(await t.token(tv.username));
    expect((await api.get('/notifications/preferences').expect(200)).body).toEqual({ email: 'tv@example.cn', emailNotify: false, emailEnabled: false });
    expect((await api.put('/notifications/preferences', { email: 'tv2@example.cn', emailNotify: true }).expect(200)).body).toMatchObject({
      email: 'tv2@example.cn',
      emailNotify: true,
    });
    expect((await agent.get('/notifications/settings').expect(200)).text).toContain('尚未配置邮件服务器');
  });

  it('when the admin adds group robots, then mistakes are explained, the saved one is listed without its key, and it can be removed', async () => {
    const { agent, csrf } = await t.browser('admin');
    const form = {
      _csrf: csrf,
      name: '离石区群',
      kind: 'dingtalk',
      countyId: 'c-lishi',
      url: 'https://oapi.dingtalk.com/robot/send?access_token=SECRET123',
      enabled: 'on',
    };
    const badSecret = await agent
      .post('/notifications/robots')
      .type('form')
      .send({ ...form, secret: 'abc' })
      .expect(400);
    expect(badSecret.text).toContain('钉钉加签密钥以 SEC 开头');
    const badUrl = await agent
      .post('/notifications/robots')
      .type('form')
      .send({ ...form, url: 'ftp://x' })
      .expect(400);
    expect(badUrl.text).toContain('Webhook 地址应以 https:// 开头');
    const badCounty = await agent
      .post('/notifications/robots')
      .type('form')
      .send({ ...form, countyId: 'c-nowhere' })
      .expect(400);
    expect(badCounty.text).toContain('所选县区不存在');

    await agent
      .post('/notifications/robots')
      .type('form')
      .send({ ...form, secret: 'SECabc' })
      .expect(303)
      .expect('Location', '/notifications/robots?saved=added');
    const page = await agent.get('/notifications/robots').expect(200);
    expect(page.text).toContain('离石区群');
    expect(page.text).toContain('https://oapi.dingtalk.com/robot/send?…');
    expect(page.text).not.toContain('SECRET123');
    expect(page.text).not.toContain('SECabc');
    const api = bearer(await t.token('admin'));
    const robots = (await api.get('/notifications/robots').expect(200)).body.items;
    expect(robots).toEqual([expect.objectContaining({ name: '离石区群', kind: 'dingtalk', countyId: 'c-lishi', signed: true, enabled: true })]);
    await request(t.app)
      .delete(`/api/v1/notifications/robots/${robots[0].id}`)
      .set('Authorization', `Bearer ${await t.token('admin')}`)
      .expect(204);
    expect((await api.get('/notifications/robots').expect(200)).body.items).toEqual([]);
  });

  it('when 监督 or 新媒体编辑 sign in, then their home has a to-do and 消息, and the API returns the same items', async () => {
    for (const role of ['supervisor', 'newmedia'] as const) {
      const user = await t.createUser(role);
      const { agent } = await t.browser(user.username);
      const home = await agent.get('/').expect(200);
      expect(home.text).toContain('待办');
      expect(home.text).toContain('data-key="judging.awarded"');
      expect(home.text).toContain('href="/notifications"');
      const todo = (
        await bearer(await t.token(user.username))
          .get('/todo')
          .expect(200)
      ).body.items;
      expect(todo.map((i: { key: string }) => i.key).sort()).toEqual(['judging.awarded', 'messages.unread']);
    }
  });
});
