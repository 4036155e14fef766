/**
 * Issue 14, judging speed: the ranking is kept per round until a score changes. These tests read
 * the ranking, change what it depends on (a submit, a re-save, an admin's reopen) and check the
 * next ranking shows the change — a cache that served a stale ranking would fail them.
 */
import request from 'supertest';
import { toCurrentUser } from '../../src/accounts/user.repository';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';

let t: TestApp;
let admin: { Authorization: string };
let judge: { Authorization: string };
let roundId: string;
let schoolId: string;
const ids: Record<string, string> = {};

/** A total spread over the default rubric (50/25/15/10). */
function split(total: number) {
  const singing = Math.min(50, total);
  const artistry = Math.min(25, total - singing);
  const spirit = Math.min(15, total - singing - artistry);
  return { singing, artistry, spirit, costume: total - singing - artistry - spirit };
}

async function ranking(): Promise<Array<{ name: string; rank: number; score: string | null; n: number }>> {
  const rows = (await request(t.app).get(`/api/v1/rounds/${roundId}/ranking`).set(admin).expect(200)).body as Array<{
    entryId: string;
    rank: number;
    scoreDisplay: string | null;
    scoreCount: number;
  }>;
  return rows.map((r) => ({ name: Object.keys(ids).find((k) => ids[k] === r.entryId)!, rank: r.rank, score: r.scoreDisplay, n: r.scoreCount }));
}

async function assignmentOf(name: string): Promise<string> {
  const list = (await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200)).body as Array<{ id: string; entry: { label: string } }>;
  const { label } = await t.container.database.db
    .selectFrom('round_entries')
    .select('label')
    .where('round_id', '=', roundId)
    .where('entry_id', '=', ids[name])
    .executeTakeFirstOrThrow();
  return list.find((a) => a.entry.label === label)!.id;
}

const submit = async (name: string, total: number) =>
  request(t.app)
    .put(`/api/v1/judging/assignments/${await assignmentOf(name)}`)
    .set(judge)
    .send({ scores: split(total), submit: true })
    .expect(200);

beforeAll(async () => {
  t = await createTestApp();
  admin = { Authorization: `Bearer ${await t.token('admin')}` };
  const j = await t.createUser('judge', { countyId: null });
  judge = { Authorization: `Bearer ${await t.token(j.username)}` };
  const school = await schoolWithToken(t);
  schoolId = school.schoolId!;
  for (const name of ['甲', '乙']) {
    const e = await createEntry(t, school.token, { title: name });
    await attachReadyVideo(t, e.id);
    ids[name] = e.id;
  }
  await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', 'in', Object.values(ids)).execute();
  roundId = (await request(t.app).post('/api/v1/rounds').set(admin).send({ name: '缓存', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201))
    .body.id;
  await request(t.app)
    .post(`/api/v1/rounds/${roundId}/entries`)
    .set(admin)
    .send({ entryIds: Object.values(ids) })
    .expect(200);
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

test('when scores are submitted, re-saved and reopened between two readings, then each reading shows the scores as they are', async () => {
  expect((await ranking()).map((r) => [r.rank, r.score, r.n])).toEqual([
    [1, null, 0],
    [1, null, 0],
  ]);

  await submit('甲', 90);
  await submit('乙', 80);
  expect(await ranking()).toEqual([
    { name: '甲', rank: 1, score: '90.00', n: 1 },
    { name: '乙', rank: 2, score: '80.00', n: 1 },
  ]);

  // A submitted score saved again with another value (the round is still open).
  await submit('甲', 70);
  expect(await ranking()).toEqual([
    { name: '乙', rank: 1, score: '80.00', n: 1 },
    { name: '甲', rank: 2, score: '70.00', n: 1 },
  ]);

  // The admin reopens 乙's score: it no longer counts until it is submitted again.
  await request(t.app)
    .post(`/api/v1/assignments/${await assignmentOf('乙')}/reopen`)
    .set(admin)
    .send({ reason: '复核' })
    .expect(200);
  expect(await ranking()).toEqual([
    { name: '甲', rank: 1, score: '70.00', n: 1 },
    { name: '乙', rank: 2, score: null, n: 0 },
  ]);
});

test('when the school of ranked entries is renamed, then the next ranking shows the new name (no score changed)', async () => {
  // The API's ranking has no school field; the round page and the XLSX export show the service's rows.
  const adminUser = toCurrentUser(await t.container.database.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow());
  const schoolNames = async () => (await t.container.results.ranking(adminUser, roundId)).rows.map((r) => r.schoolName);
  expect(await schoolNames()).not.toContain('改名后的学校');
  await request(t.app).patch(`/api/v1/schools/${schoolId}`).set(admin).send({ name: '改名后的学校' }).expect(200);
  expect(await schoolNames()).toEqual(['改名后的学校', '改名后的学校']);
});
