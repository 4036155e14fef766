/**
 * Issue 14, judging speed: the judge's queue by cursor. `GET /api/v1/judging/assignments` stays the
 * whole array (API.md); with `?limit=` it is one page and `Link: <…>; rel="next"` names the next.
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

let t: TestApp;
let judge: { Authorization: string };
const ENTRIES = 7;

beforeAll(async () => {
  t = await createTestApp();
  const admin = { Authorization: `Bearer ${await t.token('admin')}` };
  const j = await t.createUser('judge', { countyId: null });
  judge = { Authorization: `Bearer ${await t.token(j.username)}` };
  const school = await schoolWithToken(t);
  const ids: string[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const e = await createEntry(t, school.token, { title: `作品${i}` });
    await attachReadyVideo(t, e.id);
    ids.push(e.id);
  }
  await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', 'in', ids).execute();
  const roundId = (
    await request(t.app).post('/api/v1/rounds').set(admin).send({ name: '分页', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201)
  ).body.id;
  await request(t.app).post(`/api/v1/rounds/${roundId}/entries`).set(admin).send({ entryIds: ids }).expect(200);
  await request(t.app)
    .post(`/api/v1/rounds/${roundId}/judges`)
    .set(admin)
    .send({ userIds: [j.id] })
    .expect(200);
  await request(t.app).post(`/api/v1/rounds/${roundId}/assign`).set(admin).send({}).expect(200);
  await request(t.app).post(`/api/v1/rounds/${roundId}/open`).set(admin).send({}).expect(200);
});

afterAll(async () => {
  await t?.close();
});

const nextOf = (res: request.Response) => /<([^>]+)>; rel="next"/.exec(res.headers.link ?? '')?.[1];

async function walk(limit: number, between?: (page: Array<{ id: string }>) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let url: string | undefined = `/api/v1/judging/assignments?limit=${limit}`;
  while (url) {
    const res = await request(t.app).get(url).set(judge).expect(200);
    const page = res.body as Array<{ id: string }>;
    expect(page.length).toBeLessThanOrEqual(limit);
    seen.push(...page.map((a) => a.id));
    await between?.(page);
    url = nextOf(res);
  }
  return seen;
}

test('when no limit is given, then the whole queue is one array without a Link header (as API.md says)', async () => {
  const res = await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200);
  expect(res.body).toHaveLength(ENTRIES);
  expect(res.headers.link).toBeUndefined();
});

test('when the queue is read 3 at a time following Link, then the pages together are the whole queue in the same order, and the last page has no Link', async () => {
  const whole = ((await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200)).body as Array<{ id: string }>).map((a) => a.id);
  expect(await walk(3)).toEqual(whole);
});

test('when the judge submits the last item of a page before asking for the next, then no unscored item is skipped', async () => {
  const pending = ((await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200)).body as Array<{ id: string; status: string }>)
    .filter((a) => a.status !== 'submitted')
    .map((a) => a.id);
  const seen = await walk(2, async (page) => {
    const last = page[page.length - 1];
    if (last)
      await request(t.app)
        .put(`/api/v1/judging/assignments/${last.id}`)
        .set(judge)
        .send({ scores: { singing: 40, artistry: 20, spirit: 10, costume: 5 }, submit: true })
        .expect(200);
  });
  for (const id of pending) expect(seen).toContain(id);
});

test('when the cursor or the limit is not valid, then 400 with a Chinese message', async () => {
  const bad = await request(t.app).get('/api/v1/judging/assignments?limit=2&cursor=not-a-cursor').set(judge).expect(400);
  expect(bad.body).toMatchObject({ code: 'validation_failed' });
  expect(bad.body.detail).toContain('翻页位置');
  const forged = Buffer.from(JSON.stringify([0, 'yesterday', 'r', 'k', 'i'])).toString('base64url');
  await request(t.app).get(`/api/v1/judging/assignments?limit=2&cursor=${forged}`).set(judge).expect(400);
  await request(t.app).get('/api/v1/judging/assignments?limit=0').set(judge).expect(400);
  await request(t.app).get('/api/v1/judging/assignments?limit=201').set(judge).expect(400);
});

test("when the judge's page is read 3 at a time and past the end, then every page shows the whole queue's counts", async () => {
  const whole = (await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200)).body as Array<{ status: string }>;
  const counts = `已提交 ${whole.filter((a) => a.status === 'submitted').length} / ${whole.length}`;
  for (const page of [1, 2, 3, 4]) {
    const html = (await request(t.app).get(`/judging?page=${page}&pageSize=3`).set(judge).expect(200)).text;
    expect(html).toContain(counts);
  }
});
