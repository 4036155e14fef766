import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

/**
 * Words a person reads (issue 17 §7): codes have their Chinese labels, the scoring method shown is
 * the one applied, a school sees which award it won, banners say only what is true, and the
 * school import has a template.
 */
describe('words people read', () => {
  let t: TestApp;
  let admin: { Authorization: string };
  beforeAll(async () => {
    t = await createTestApp();
    admin = { Authorization: `Bearer ${await t.token('admin')}` };
  });
  afterAll(async () => {
    await t.close();
  });

  async function openRound(judgesPerEntry: number, aggregation: string, entryIds: string[], judgeIds: string[]) {
    const id = (
      await request(t.app)
        .post('/api/v1/rounds')
        .set(admin)
        .send({ name: `轮次${judgesPerEntry}`, judgesPerEntry, blind: true, aggregation })
        .expect(201)
    ).body.id;
    await request(t.app).post(`/api/v1/rounds/${id}/entries`).set(admin).send({ entryIds }).expect(200);
    await request(t.app).post(`/api/v1/rounds/${id}/judges`).set(admin).send({ userIds: judgeIds }).expect(200);
    await request(t.app).post(`/api/v1/rounds/${id}/assign`).set(admin).send({}).expect(200);
    return id as string;
  }

  test('when the first admin (named 市教育局管理员) opens a page, then the top bar names them once; a judge sees name and role', async () => {
    const { agent } = await t.browser('admin');
    const who = (html: string) => /<div class="who">[\s\S]*?<\/div>/.exec(html)![0];
    expect(who((await agent.get('/').expect(200)).text).match(/市教育局管理员/g)).toHaveLength(1);
    const judge = await t.createUser('judge', { displayName: '王老师' });
    const { agent: judgeAgent } = await t.browser(judge.username);
    const bar = who((await judgeAgent.get('/').expect(200)).text);
    expect(bar).toContain('王老师');
    expect(bar).toContain('<span class="badge badge-muted">评委</span>');
  });

  test('when a judge opens the queue and a score page, then 表演形式 and 学段 are words, not codes', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token, { level: 'junior', form: 'chorus' });
    await attachReadyVideo(t, entry.id);
    await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', entry.id).execute();
    const judge = await t.createUser('judge', { countyId: null });
    const roundId = await openRound(1, 'mean', [entry.id], [judge.id]);
    await request(t.app).post(`/api/v1/rounds/${roundId}/open`).set(admin).send({}).expect(200);
    const { agent } = await t.browser(judge.username);
    const queue = (await agent.get('/judging').expect(200)).text;
    expect(queue).toContain('<td data-label="学段">初中</td>');
    expect(queue).toContain('<td data-label="表演形式">合唱</td>');
    const id = /href="\/judging\/([^"]+)"/.exec(queue)![1];
    const score = (await agent.get(`/judging/${id}`).expect(200)).text;
    expect(score).toContain('<dt>学段</dt><dd>初中</dd>');
    expect(score).not.toContain('junior');
    // The button that submits says so.
    expect(score).toContain('提交并评下一件');
    expect(score).not.toContain('保存并下一个');
  });

  test('when a round trims but has 3 judges per entry, then its page says 平均分 and why; with 5 it keeps the trimmed method', async () => {
    const { agent } = await t.browser('admin');
    const newRound = async (judgesPerEntry: number) =>
      (
        await request(t.app)
          .post('/api/v1/rounds')
          .set(admin)
          .send({ name: `方法${judgesPerEntry}`, judgesPerEntry, blind: true, aggregation: 'trimmed_mean' })
          .expect(201)
      ).body.id as string;
    const three = await newRound(3);
    const page3 = (await agent.get(`/rounds/${three}`).expect(200)).text;
    expect(page3).toMatch(/<dt>计分方法<\/dt><dd>平均分<br><span class="muted small">每件作品 3 位评委，少于 5 个评分时不去掉最高分和最低分，直接取平均/);
    const five = await newRound(5);
    const page5 = (await agent.get(`/rounds/${five}`).expect(200)).text;
    expect(page5).toContain('<dt>计分方法</dt><dd>去掉一个最高分和一个最低分后取平均');
  });

  test('when a school’s entry won 一等奖 and went on to the TV desk, then its home, list and entry page still say 一等奖', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token, { title: '获奖的合唱' });
    await t.container.database.db.updateTable('entries').set({ status: 'broadcast_selected', award: 'first' }).where('id', '=', entry.id).execute();
    const { agent } = await t.browser(school.username);
    const home = (await agent.get('/').expect(200)).text;
    expect(home).toMatch(/<ul class="plain" id="awarded"><li><a href="\/entries\/[^"]+">《获奖的合唱》<\/a> <span class="badge badge-award">一等奖<\/span>/);
    expect((await agent.get('/entries').expect(200)).text).toContain('<span class="badge badge-award">一等奖</span>');
    const page = (await agent.get(`/entries/${entry.id}`).expect(200)).text;
    expect(page).toMatch(/<div class="page-head">[\s\S]*?<span class="badge badge-award">一等奖<\/span>[\s\S]*?已选送电视台/);
  });

  test('when a page is opened with the upload notice but the video is ready, then 「正在处理，请稍候」 is not shown', async () => {
    const school = await schoolWithToken(t);
    const entry = await createEntry(t, school.token);
    await attachReadyVideo(t, entry.id);
    const { agent } = await t.browser(school.username);
    const page = (await agent.get(`/entries/${entry.id}?msg=video_uploaded`).expect(200)).text;
    expect(page).not.toContain('正在处理，请稍候');
  });

  test('when the admin downloads the import template and uploads it unchanged, then its two example schools are imported; the school list shows 学段 in words', async () => {
    const { agent, csrf } = await t.browser('admin');
    const page = (await agent.get('/org/schools/import').expect(200)).text;
    expect(page).toContain('href="/org/schools/import/template.csv"');
    const template = await agent.get('/org/schools/import/template.csv').buffer(true).expect(200);
    expect(template.headers['content-type']).toContain('text/csv');
    expect(template.headers['content-disposition']).toContain('filename*=UTF-8');
    const csv = template.text;
    expect(csv.split(/\r\n/)[0]).toBe('\ufeff学校名称,所属县区,学段');
    await agent.post('/org/schools/import').field('_csrf', csrf).attach('file', Buffer.from(csv), '学校导入模板.csv').expect(303);
    const list = (await agent.get(`/org/schools?q=${encodeURIComponent('示例')}`).expect(200)).text;
    expect(list).toContain('离石区示例小学');
    expect(list).toContain('吕梁市示例中学');
    expect(list).toContain('<td data-label="学段">高中</td>');
  });
});
