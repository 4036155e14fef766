import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

/**
 * Issue 13 items 1–2: each entry of a round has a per-round label dealt out at random; a blind
 * round's judge sees the label in place of the code and the title; a non-blind round's judge
 * still sees both.
 */
const N = 24;

describe('round labels', () => {
  let t: TestApp;
  let admin: string;
  let periodId: string;
  const entries: Array<{ id: string; code: string }> = [];
  const as = (token: string) => ({
    get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
  });

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.token('admin');
    periodId = (await t.container.campaign.listPeriods())[0].id;
    for (let s = 0; s < N / 4; s++) {
      const school = await schoolWithToken(t, null); // 市直: submitting forwards at once
      for (let i = 0; i < 4; i++) {
        const e = await createEntry(t, school.token, { title: `标签作品${s}-${i}` });
        await attachReadyVideo(t, e.id);
        await as(school.token).post(`/api/v1/entries/${e.id}/submit`).expect(200);
        entries.push({ id: e.id, code: e.code });
      }
    }
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  async function roundWith(name: string, blind: boolean, entryIds: string[]) {
    const id = (await as(admin).post('/api/v1/rounds', { name, periodId, judgesPerEntry: 1, blind, aggregation: 'mean' }).expect(201)).body.id as string;
    expect((await as(admin).post(`/api/v1/rounds/${id}/entries`, { entryIds }).expect(200)).body).toEqual({ added: entryIds.length });
    const ranking = (await as(admin).get(`/api/v1/rounds/${id}/ranking`).expect(200)).body as Array<{ entryId: string; code: string; label: string }>;
    return { id, labelOf: new Map(ranking.map((r) => [r.entryId, r.label])) };
  }

  test('when entries are put in two rounds, then each round numbers them 1…n in an order unrelated to their codes, and the two orders differ', async () => {
    const byCode = [...entries].sort((a, b) => a.code.localeCompare(b.code));
    const r1 = await roundWith(
      '标签一',
      true,
      byCode.map((e) => e.id),
    );
    const r2 = await roundWith(
      '标签二',
      true,
      byCode.map((e) => e.id),
    );
    for (const r of [r1, r2]) {
      const labels = byCode.map((e) => r.labelOf.get(e.id)!);
      expect(labels.every((l) => /^[A-Z]-\d{3}$/.test(l))).toBe(true);
      expect(labels.map((l) => Number(l.slice(2))).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      // Listing by code does not list by label (the chance of a random permutation being the identity is 1/24!).
      expect(labels).not.toEqual([...labels].sort());
    }
    expect(r1.labelOf.get(byCode[0].id)!.slice(0, 1)).not.toBe(r2.labelOf.get(byCode[0].id)!.slice(0, 1)); // the letter tells the rounds apart
    expect(byCode.map((e) => r1.labelOf.get(e.id)!.slice(2))).not.toEqual(byCode.map((e) => r2.labelOf.get(e.id)!.slice(2)));
    // Adding again keeps the labels (stable) and adds nothing.
    expect(
      (
        await as(admin)
          .post(`/api/v1/rounds/${r1.id}/entries`, { entryIds: byCode.map((e) => e.id) })
          .expect(200)
      ).body,
    ).toEqual({ added: 0 });
    const again = (await as(admin).get(`/api/v1/rounds/${r1.id}/ranking`).expect(200)).body as Array<{ entryId: string; label: string }>;
    expect(new Map(again.map((r) => [r.entryId, r.label]))).toEqual(r1.labelOf);
  });

  test.each([true, false])('when a judge opens their assignment in a round with blind=%s, then code and title are the label only when blind', async (blind) => {
    const entry = entries[blind ? 0 : 1];
    const r = await roundWith(blind ? '匿名轮' : '实名轮', blind, [entry.id]);
    const judge = await t.createUser('judge', { countyId: null });
    await as(admin)
      .post(`/api/v1/rounds/${r.id}/judges`, { userIds: [judge.id] })
      .expect(200);
    await as(admin).post(`/api/v1/rounds/${r.id}/assign`).expect(200);
    await as(admin).post(`/api/v1/rounds/${r.id}/open`).expect(200);
    const token = await t.token(judge.username);
    const [a] = (await as(token).get('/api/v1/judging/assignments').expect(200)).body;
    const one = (await as(token).get(`/api/v1/judging/assignments/${a.id}`).expect(200)).body;
    const label = r.labelOf.get(entry.id)!;
    if (blind) {
      expect(one.entry).toMatchObject({ code: label, title: `作品 ${label}`, label });
      expect(JSON.stringify(one)).not.toContain(entry.code);
      expect(JSON.stringify(one)).not.toContain('标签作品');
      expect(one.entry.school).toBeUndefined();
    } else {
      expect(one.entry).toMatchObject({ code: entry.code, title: expect.stringMatching(/^标签作品/), label });
      expect(one.entry.school).toEqual({ name: expect.any(String) });
    }
    const { agent } = await t.browser(judge.username);
    const page = await agent.get(`/judging/${a.id}`).expect(200);
    expect(page.text.includes(entry.code)).toBe(!blind);
    expect(page.text).toContain(blind ? label : entry.code);
  });

  test('when the round page adds an awarded round’s shortlist, then the awarded entry is left out and the page says so, unless the box is ticked', async () => {
    const [a, b] = [entries[2], entries[3]];
    const src = await roundWith('已评奖的一轮', true, [a.id, b.id]);
    const judge = await t.createUser('judge', { countyId: null });
    await as(admin)
      .post(`/api/v1/rounds/${src.id}/judges`, { userIds: [judge.id] })
      .expect(200);
    await as(admin).post(`/api/v1/rounds/${src.id}/assign`).expect(200);
    await as(admin).post(`/api/v1/rounds/${src.id}/open`).expect(200);
    const token = await t.token(judge.username);
    const queue = (await as(token).get('/api/v1/judging/assignments').expect(200)).body as Array<{ id: string; entry: { label: string } }>;
    for (const item of queue) {
      const total = item.entry.label === src.labelOf.get(a.id) ? 40 : 20; // a wins
      await request(t.app)
        .put(`/api/v1/judging/assignments/${item.id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ scores: { singing: total, artistry: 10, spirit: 5, costume: 5 }, submit: true })
        .expect(200);
    }
    await as(admin).post(`/api/v1/rounds/${src.id}/close`).expect(200);
    await as(admin).post(`/api/v1/rounds/${src.id}/shortlist`, { top: 2 }).expect(200);
    expect(
      (
        await as(admin)
          .post(`/api/v1/rounds/${src.id}/awards`, { tiers: [{ award: 'first', count: 1 }] })
          .expect(200)
      ).body.awarded,
    ).toEqual([{ entryId: a.id, award: 'first' }]);

    const { agent, csrf } = await t.browser('admin');
    const next = (await as(admin).post('/api/v1/rounds', { name: '页面复评', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body
      .id as string;
    const page = await agent.get(`/rounds/${next}`).expect(200);
    expect(page.text).toContain('也加入已获奖或已选送电视台的作品');
    const left = await agent
      .post(`/rounds/${next}/entries`)
      .type('form')
      .send({ _csrf: csrf, source: `round:${src.id}` })
      .expect(303);
    expect(left.headers.location).toBe(`/rounds/${next}?msg=round_entries_awarded_skipped`);
    expect((await agent.get(left.headers.location).expect(200)).text).toContain('已获奖或已选送电视台的作品没有加入本轮');
    const inRound = async () =>
      ((await as(admin).get(`/api/v1/rounds/${next}/ranking`).expect(200)).body as Array<{ entryId: string }>).map((r) => r.entryId).sort();
    expect(await inRound()).toEqual([b.id]);
    await agent
      .post(`/rounds/${next}/entries`)
      .type('form')
      .send({ _csrf: csrf, source: `round:${src.id}`, includeAwarded: 'on' })
      .expect(303);
    expect(await inRound()).toEqual([a.id, b.id].sort());

    // By id through the API: the same rule.
    const third = (await as(admin).post('/api/v1/rounds', { name: '按编号添加', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)).body
      .id as string;
    const refused = await as(admin)
      .post(`/api/v1/rounds/${third}/entries`, { entryIds: [a.id, b.id] })
      .expect(409);
    expect(refused.body.detail).toContain(`其中有 1 件作品已获奖或已选送电视台（${a.code}）`);
    expect(
      (
        await as(admin)
          .post(`/api/v1/rounds/${third}/entries`, { entryIds: [a.id, b.id], includeAwarded: false })
          .expect(200)
      ).body,
    ).toEqual({ added: 1, skipped: 1 });
    expect(
      (
        await as(admin)
          .post(`/api/v1/rounds/${third}/entries`, { entryIds: [a.id], includeAwarded: true })
          .expect(200)
      ).body,
    ).toEqual({ added: 1 });
    const bad = await as(admin)
      .post(`/api/v1/rounds/${third}/entries`, { entryIds: [a.id], includeAwarded: 'maybe' })
      .expect(400);
    expect(bad.body.errors).toEqual([{ field: 'includeAwarded', message: '包含已获奖作品的取值无效' }]);
  });
});
