/**
 * Issue 14, judging speed: the judge's queue is read in the order of one index (migration 0015),
 * whose keys are copies kept on each assignment by triggers. What a judge notices: the order of
 * the queue (unscored first; by round, oldest first; then by label in a blind round, by code in an
 * open one), the same whether read whole, by cursor or by the page's numbered pages — and still
 * right after a draft round is switched between blind and open, a label or a code changes.
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

let t: TestApp;
let admin: { Authorization: string };
let judge: { Authorization: string };
let judgeId: string;
const SCORES = { singing: 40, artistry: 20, spirit: 10, costume: 5 };

beforeAll(async () => {
  t = await createTestApp();
  admin = { Authorization: `Bearer ${await t.token('admin')}` };
  const j = await t.createUser('judge', { countyId: null });
  judgeId = j.id;
  judge = { Authorization: `Bearer ${await t.token(j.username)}` };
});

afterAll(async () => {
  await t?.close();
});

/** A round of `n` new entries, all assigned to the judge; left a draft unless `open`. */
async function roundOf(name: string, n: number, opts: { blind: boolean; open: boolean }): Promise<{ id: string; entryIds: string[] }> {
  const school = await schoolWithToken(t);
  const entryIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = await createEntry(t, school.token, { title: `${name}${i}` });
    await attachReadyVideo(t, e.id);
    entryIds.push(e.id);
  }
  await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', 'in', entryIds).execute();
  const id = (await request(t.app).post('/api/v1/rounds').set(admin).send({ name, judgesPerEntry: 1, blind: opts.blind, aggregation: 'mean' }).expect(201)).body
    .id as string;
  await request(t.app).post(`/api/v1/rounds/${id}/entries`).set(admin).send({ entryIds }).expect(200);
  await request(t.app)
    .post(`/api/v1/rounds/${id}/judges`)
    .set(admin)
    .send({ userIds: [judgeId] })
    .expect(200);
  await request(t.app).post(`/api/v1/rounds/${id}/assign`).set(admin).send({}).expect(200);
  if (opts.open) await request(t.app).post(`/api/v1/rounds/${id}/open`).set(admin).send({}).expect(200);
  return { id, entryIds };
}

interface QueueItem {
  id: string;
  roundId: string;
  status: string;
  entry: { code: string; label: string };
}

const whole = async (): Promise<QueueItem[]> => (await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200)).body as QueueItem[];

async function byCursor(limit: number): Promise<QueueItem[]> {
  const seen: QueueItem[] = [];
  let url: string | undefined = `/api/v1/judging/assignments?limit=${limit}`;
  while (url) {
    const res: request.Response = await request(t.app).get(url).set(judge).expect(200);
    seen.push(...(res.body as QueueItem[]));
    url = /<([^>]+)>; rel="next"/.exec(res.headers.link ?? '')?.[1];
  }
  return seen;
}

/** The order the queue promises, computed here from what the judge is shown. */
function expectedOrder(items: QueueItem[], roundOrder: string[]): string[] {
  return [...items]
    .sort(
      (a, b) =>
        Number(a.status === 'submitted') - Number(b.status === 'submitted') ||
        roundOrder.indexOf(a.roundId) - roundOrder.indexOf(b.roundId) ||
        (a.entry.code < b.entry.code ? -1 : a.entry.code > b.entry.code ? 1 : 0) ||
        (a.id < b.id ? -1 : 1),
    )
    .map((a) => a.id);
}

test('when a judge has two rounds and has scored some, then the whole queue, the cursor pages and the numbered page all list unscored first, oldest round first, then by label or code', async () => {
  const blind = await roundOf('甲轮', 5, { blind: true, open: true });
  const open = await roundOf('乙轮', 4, { blind: false, open: true });
  const first = await whole();
  expect(first).toHaveLength(9);
  // Blind items show the label as their code; open ones the entry code.
  for (const a of first) if (a.roundId === blind.id) expect(a.entry.code).toBe(a.entry.label);
  for (const a of first.filter((x) => x.roundId === open.id)) expect(a.entry.code).not.toBe(a.entry.label);

  // Score one of each round: they move to the end of the queue.
  for (const a of [first.find((x) => x.roundId === blind.id)!, first.find((x) => x.roundId === open.id)!])
    await request(t.app).put(`/api/v1/judging/assignments/${a.id}`).set(judge).send({ scores: SCORES, submit: true }).expect(200);

  const now = await whole();
  const order = expectedOrder(now, [blind.id, open.id]);
  expect(now.map((a) => a.id)).toEqual(order);
  expect(now.slice(-2).every((a) => a.status === 'submitted')).toBe(true);
  expect((await byCursor(2)).map((a) => a.id)).toEqual(order);

  // The judge's page lists the same first items, in the same order.
  const html = (await request(t.app).get('/judging').set(judge).expect(200)).text;
  const shown = [...html.matchAll(/<a href="\/judging\/([^"]+)"><code>/g)].map((m) => m[1]);
  expect(shown).toEqual(order.slice(0, shown.length));
  expect(shown).toHaveLength(9);
});

test('when a draft round is switched from blind to open before it opens, then its queue is ordered by entry code, not by the old labels', async () => {
  const before = new Set((await whole()).map((a) => a.id));
  const r = await roundOf('丙轮', 6, { blind: true, open: false });
  await request(t.app).patch(`/api/v1/rounds/${r.id}`).set(admin).send({ blind: false }).expect(200);
  await request(t.app).post(`/api/v1/rounds/${r.id}/open`).set(admin).send({}).expect(200);
  const mine = (await whole()).filter((a) => !before.has(a.id));
  expect(mine).toHaveLength(6);
  const codes = mine.map((a) => a.entry.code);
  expect(codes).toEqual([...codes].sort());
  expect((await byCursor(4)).filter((a) => !before.has(a.id)).map((a) => a.id)).toEqual(mine.map((a) => a.id));
});

test('when an entry code or a blind label changes in the database, then the queue follows the new value', async () => {
  const db = t.container.database.db;
  const r = await roundOf('丁轮', 3, { blind: false, open: true });
  const mineOf = async () => (await whole()).filter((a) => a.roundId === r.id);
  const before = await mineOf();
  // Give the last entry a code that sorts first.
  const last = before[before.length - 1]!;
  const lastEntry = await db.selectFrom('assignments').select('entry_id').where('id', '=', last.id).executeTakeFirstOrThrow();
  await db.updateTable('entries').set({ code: '0-FIRST' }).where('id', '=', lastEntry.entry_id).execute();
  const after = await mineOf();
  expect(after[0]!.id).toBe(last.id);
  expect(after[0]!.entry.code).toBe('0-FIRST');
  expect((await byCursor(1)).filter((a) => a.roundId === r.id).map((a) => a.id)).toEqual(after.map((a) => a.id));

  const b = await roundOf('戊轮', 3, { blind: true, open: true });
  const blindBefore = (await whole()).filter((a) => a.roundId === b.id);
  const lastBlind = blindBefore[blindBefore.length - 1]!;
  const row = await db.selectFrom('assignments').select('entry_id').where('id', '=', lastBlind.id).executeTakeFirstOrThrow();
  await db.updateTable('round_entries').set({ label: '0-000' }).where('round_id', '=', b.id).where('entry_id', '=', row.entry_id).execute();
  const blindAfter = (await whole()).filter((a) => a.roundId === b.id);
  expect(blindAfter[0]!.id).toBe(lastBlind.id);
  expect(blindAfter[0]!.entry.label).toBe('0-000');
});

test('when a round is not blind, then its queue rows name the school and county; in a blind round they do not', async () => {
  const open = await roundOf('己轮', 2, { blind: false, open: true });
  const blind = await roundOf('庚轮', 2, { blind: true, open: true });
  const school = await t.container.database.db
    .selectFrom('entries as e')
    .innerJoin('schools as s', 's.id', 'e.school_id')
    .leftJoin('counties as c', 'c.id', 'e.county_id')
    .select(['s.name as school', 'c.name as county'])
    .where('e.id', '=', open.entryIds[0]!)
    .executeTakeFirstOrThrow();
  type Shown = QueueItem & { entry: { school?: { name: string }; county?: { name: string } | null } };
  const items = (await whole()) as Shown[];

  for (const a of items.filter((x) => x.roundId === open.id)) {
    expect(a.entry.school).toEqual({ name: school.school });
    expect(a.entry.county).toEqual(school.county ? { name: school.county } : null);
  }
  for (const a of items.filter((x) => x.roundId === blind.id)) {
    expect(a.entry).not.toHaveProperty('school');
    expect(a.entry).not.toHaveProperty('county');
  }
});
