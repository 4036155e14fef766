import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';

/** The round settings page (修改设置): everything while a draft, only the name and times once the round has started. */
describe('editing a round’s settings on its page', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.token('admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = (method: 'post' | 'get', path: string, body?: object) =>
    request(t.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${admin}`).send(body);
  const form = (csrf: string, fields: Record<string, string | string[]>) =>
    [
      `_csrf=${encodeURIComponent(csrf)}`,
      ...Object.entries(fields).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${encodeURIComponent(x)}`)),
    ].join('&');

  test('when a draft round is edited, then its name, judges per entry, method, times and rubric change and the round page says so', async () => {
    const round = (await api('post', '/rounds', { name: '初评（草稿）', judgesPerEntry: 3, blind: true, aggregation: 'trimmed_mean' }).expect(201)).body as {
      id: string;
    };
    const { agent, csrf } = await t.browser('admin');
    const page = await agent.get(`/rounds/${round.id}/edit`).expect(200);
    expect(page.text).toContain('value="初评（草稿）"');
    expect(page.text).toContain('value="演唱水平"');
    expect(page.text).not.toContain('评审已开始');

    const saved = await agent
      .post(`/rounds/${round.id}/edit`)
      .type('form')
      .send(
        form(csrf, {
          name: '市级初评',
          judgesPerEntry: '5',
          aggregation: 'mean',
          opensAt: '2026-12-01T09:00',
          closesAt: '2026-12-10T18:00',
          rubricLabel: ['演唱水平', '舞台表现', ''],
          rubricMax: ['60', '40', ''],
        }),
      )
      .expect(303);
    expect(saved.headers.location).toBe(`/rounds/${round.id}?msg=round_updated`);
    const shown = await agent.get(saved.headers.location as string).expect(200);
    expect(shown.text).toContain('轮次设置已保存。');
    expect(shown.text).toContain('市级初评');

    const after = (await api('get', `/rounds/${round.id}`).expect(200)).body;
    expect(after).toMatchObject({
      name: '市级初评',
      judgesPerEntry: 5,
      blind: false,
      aggregation: 'mean',
      opensAt: '2026-12-01T01:00:00.000Z',
      closesAt: '2026-12-10T10:00:00.000Z',
    });
    expect(after.rubric.map((c: { label: string; max: number }) => [c.label, c.max])).toEqual([
      ['演唱水平', 60],
      ['舞台表现', 40],
    ]);
  });

  test('when the rubric does not add up to 100, then the form shows why, keeps what was typed, and nothing changes', async () => {
    const round = (await api('post', '/rounds', { name: '复评', judgesPerEntry: 3, blind: true, aggregation: 'mean' }).expect(201)).body as { id: string };
    const { agent, csrf } = await t.browser('admin');
    const bad = await agent
      .post(`/rounds/${round.id}/edit`)
      .type('form')
      .send(
        form(csrf, {
          name: '复评二',
          judgesPerEntry: '3',
          blind: 'on',
          aggregation: 'mean',
          opensAt: '',
          closesAt: '',
          rubricLabel: ['演唱水平', '艺术表现'],
          rubricMax: ['50', '45'],
        }),
      )
      .expect(400);
    expect(bad.text).toContain('各项满分之和必须是 100，现在是 95');
    expect(bad.text).toContain('value="复评二"');
    expect(bad.text).toMatch(/name="rubricMax" value="45"/);
    expect((await api('get', `/rounds/${round.id}`).expect(200)).body.name).toBe('复评');
  });

  test('when a round has started, then only its name and times can be changed; the rest is shown locked', async () => {
    const round = (await api('post', '/rounds', { name: '已开始的轮次', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body as {
      id: string;
    };
    await t.container.db.updateTable('rounds').set({ status: 'open' }).where('id', '=', round.id).execute();
    const { agent, csrf } = await t.browser('admin');
    const page = await agent.get(`/rounds/${round.id}/edit`).expect(200);
    expect(page.text).toContain('评审已开始：只能修改名称和开始、截止时间');
    expect(page.text).toMatch(/name="judgesPerEntry"[^>]*disabled/);
    expect(page.text).toMatch(/<fieldset class="rubric" disabled>/);

    // a forged post of a locked field is ignored: only name and times are taken from the form
    await agent
      .post(`/rounds/${round.id}/edit`)
      .type('form')
      .send(form(csrf, { name: '已开始的轮次（延期）', closesAt: '2026-12-20T18:00', judgesPerEntry: '9', aggregation: 'zscore' }))
      .expect(303);
    const after = (await api('get', `/rounds/${round.id}`).expect(200)).body;
    expect(after).toMatchObject({ name: '已开始的轮次（延期）', closesAt: '2026-12-20T10:00:00.000Z', judgesPerEntry: 1, aggregation: 'mean' });
  });

  test('when someone who is not city staff opens the settings page, then 403', async () => {
    const round = (await api('post', '/rounds', { name: '权限测试', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body as { id: string };
    const judge = await t.createUser('judge');
    const { agent, csrf } = await t.browser(judge.username);
    await agent.get(`/rounds/${round.id}/edit`).expect(403);
    await agent
      .post(`/rounds/${round.id}/edit`)
      .type('form')
      .send(form(csrf, { name: 'x' }))
      .expect(403);
    expect((await api('get', `/rounds/${round.id}`).expect(200)).body.name).toBe('权限测试');
  });
});
