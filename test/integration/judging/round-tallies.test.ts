/**
 * The rounds list's counts (entries, judges, assignments, submitted scores) come from round_tallies,
 * kept by statement triggers (migration 0028), not counted on every view. Whatever writes the rows
 * (the API's round editing, judges' saves, conflicts, reopening, bulk statements, a round deleted
 * by the archive), every round's tally equals a direct count, and /api/v1/rounds and the /rounds
 * page show those numbers.
 *
 * The tests run in order and share the state built so far (each one is one step).
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { resolveMigrationsDir } from '../../../src/platform/db/migrate';
import { SCRIPT_MARKER } from '../../../src/platform/db/pglite-dialect';
import { createTestApp, type TestApp } from '../../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../../support/factories';
import { sleep } from '../../support/entries';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Counts {
  entries: number;
  judges: number;
  assignments: number;
  submitted: number;
}

const SCORES = { singing: 45, artistry: 20, spirit: 12, costume: 8 };
/** Two-connection interleavings need PostgreSQL (PGlite has one connection and runs transactions one after another). */
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

let t: TestApp;
let admin: string;
const judges: Array<{ id: string; token: string }> = [];
const entryIds: string[] = [];
let roundA: string;
let roundB: string;

const as = (token: string) => ({
  get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
  post: (url: string, body?: object) => request(t.app).post(url).set('Authorization', `Bearer ${token}`).send(body),
  put: (url: string, body?: object) => request(t.app).put(url).set('Authorization', `Bearer ${token}`).send(body),
  delete: (url: string) => request(t.app).delete(url).set('Authorization', `Bearer ${token}`),
});

/** Per round: the tally as stored, and the same four numbers counted directly. */
async function talliesAndCounts(): Promise<Array<{ id: string; tally: Counts | null; counted: Counts }>> {
  const { rows } = await sql<
    { id: string; t_entries: number | null; t_judges: number | null; t_assignments: number | null; t_submitted: number | null } & Counts
  >`
    SELECT r.id, t.entries AS t_entries, t.judges AS t_judges, t.assignments AS t_assignments, t.submitted AS t_submitted,
           (SELECT count(*)::int FROM round_entries re WHERE re.round_id = r.id) AS entries,
           (SELECT count(*)::int FROM round_judges rj WHERE rj.round_id = r.id) AS judges,
           (SELECT count(*)::int FROM assignments a WHERE a.round_id = r.id) AS assignments,
           (SELECT count(*)::int FROM assignments a WHERE a.round_id = r.id AND a.status = 'submitted') AS submitted
      FROM rounds r LEFT JOIN round_tallies t ON t.round_id = r.id
     ORDER BY r.created_at, r.id`.execute(t.container.database.db);
  return rows.map((r) => ({
    id: r.id,
    tally: r.t_entries === null ? null : { entries: r.t_entries, judges: r.t_judges!, assignments: r.t_assignments!, submitted: r.t_submitted! },
    counted: { entries: r.entries, judges: r.judges, assignments: r.assignments, submitted: r.submitted },
  }));
}

/**
 * Every round's tally equals its direct count, and what the city sees says the same: the API's
 * entry/judge/assignment counts and the /rounds page's "N 件", "N 位", "submitted / assignments".
 * Returns the counts by round id.
 */
async function expectExactEverywhere(): Promise<Map<string, Counts>> {
  const rows = await talliesAndCounts();
  for (const r of rows) expect({ id: r.id, ...r.tally }).toEqual({ id: r.id, ...r.counted });
  const byId = new Map(rows.map((r) => [r.id, r.counted]));

  const listed = (await as(admin).get('/api/v1/rounds').expect(200)).body as Json[];
  expect(listed.map((r) => r.id).sort()).toEqual([...byId.keys()].sort());
  for (const r of listed) {
    const c = byId.get(r.id)!;
    expect({ id: r.id, entryCount: r.entryCount, judgeCount: r.judgeCount, assignmentCount: r.assignmentCount }).toEqual({
      id: r.id,
      entryCount: c.entries,
      judgeCount: c.judges,
      assignmentCount: c.assignments,
    });
  }
  const page = (await as(admin).get('/rounds').expect(200)).text;
  for (const [id, c] of byId) {
    const row = new RegExp(`href="/rounds/${id}"[\\s\\S]*?</tr>`).exec(page)?.[0] ?? '';
    expect(row).toContain(`${c.entries} 件`);
    expect(row).toContain(`${c.judges} 位`);
    expect(row).toContain(c.assignments ? `${c.submitted} / ${c.assignments}` : '尚未分配');
  }
  return byId;
}

async function forwardedEntry(schoolToken: string, title: string): Promise<string> {
  const e = await createEntry(t, schoolToken, { title });
  await attachReadyVideo(t, e.id);
  await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', e.id).execute();
  return e.id;
}

async function queue(judge: { token: string }): Promise<Array<{ id: string; status: string; roundId: string }>> {
  return (await as(judge.token).get('/api/v1/judging/assignments').expect(200)).body;
}

beforeAll(async () => {
  t = await createTestApp();
  admin = await t.token('admin');
  const school = await schoolWithToken(t);
  for (let i = 0; i < 6; i++) entryIds.push(await forwardedEntry(school.token, `计数作品${i + 1}`));
  // Judges without school or county: no conflict rule keeps them off an entry.
  for (let j = 0; j < 4; j++) {
    const u = await t.createUser('judge', { countyId: null });
    judges.push({ id: u.id, token: await t.token(u.username) });
  }
});

afterAll(async () => {
  await t?.close();
});

test('when two rounds are created, then each shows 0 entries, 0 judges and "not assigned yet"', async () => {
  roundA = (await as(admin).post('/api/v1/rounds', { name: '计数甲', judgesPerEntry: 2, blind: true, aggregation: 'mean' }).expect(201)).body.id;
  roundB = (await as(admin).post('/api/v1/rounds', { name: '计数乙', judgesPerEntry: 1, blind: false, aggregation: 'mean' }).expect(201)).body.id;
  const counts = await expectExactEverywhere();
  expect(counts.get(roundA)).toEqual({ entries: 0, judges: 0, assignments: 0, submitted: 0 });
  expect(counts.get(roundB)).toEqual({ entries: 0, judges: 0, assignments: 0, submitted: 0 });
});

test('when entries and a panel are added and the round is assigned, then each round shows its own entries, judges and assignments', async () => {
  await as(admin)
    .post(`/api/v1/rounds/${roundA}/entries`, { entryIds: entryIds.slice(0, 4) })
    .expect(200);
  await as(admin)
    .post(`/api/v1/rounds/${roundB}/entries`, { entryIds: entryIds.slice(4) })
    .expect(200);
  await as(admin)
    .post(`/api/v1/rounds/${roundA}/judges`, { userIds: judges.slice(0, 3).map((j) => j.id) })
    .expect(200);
  await as(admin)
    .post(`/api/v1/rounds/${roundB}/judges`, { userIds: [judges[3].id] })
    .expect(200);
  await as(admin).post(`/api/v1/rounds/${roundA}/assign`).expect(200);
  await as(admin).post(`/api/v1/rounds/${roundB}/assign`).expect(200);
  const counts = await expectExactEverywhere();
  expect(counts.get(roundA)).toEqual({ entries: 4, judges: 3, assignments: 8, submitted: 0 });
  expect(counts.get(roundB)).toEqual({ entries: 2, judges: 1, assignments: 2, submitted: 0 });
});

test("when the panel is replaced and the round reassigned, then the removed judge's assignments leave the count and the new ones join it", async () => {
  await as(admin)
    .post(`/api/v1/rounds/${roundA}/judges`, { userIds: [judges[0].id, judges[1].id] })
    .expect(200);
  let counts = await expectExactEverywhere();
  expect(counts.get(roundA)!.judges).toBe(2);
  expect(counts.get(roundA)!.assignments).toBeLessThan(8);
  await as(admin).post(`/api/v1/rounds/${roundA}/assign`).expect(200);
  counts = await expectExactEverywhere();
  expect(counts.get(roundA)).toEqual({ entries: 4, judges: 2, assignments: 8, submitted: 0 });
});

test('when an assignment is removed and added back by hand, then the round shows one fewer and then the same again', async () => {
  const [pair] = (await as(admin).get(`/api/v1/rounds/${roundA}/assignments`).expect(200)).body as Json[];
  await as(admin).delete(`/api/v1/assignments/${pair.id}`).expect(204);
  expect((await expectExactEverywhere()).get(roundA)!.assignments).toBe(7);
  await as(admin).post(`/api/v1/rounds/${roundA}/assignments`, { entryId: pair.entryId, judgeId: pair.judgeId }).expect(201);
  expect((await expectExactEverywhere()).get(roundA)!.assignments).toBe(8);
});

test('when judges save drafts, then nothing counts as submitted; when they submit, then the submitted count rises by one each', async () => {
  await as(admin).post(`/api/v1/rounds/${roundA}/open`).expect(200);
  await as(admin).post(`/api/v1/rounds/${roundB}/open`).expect(200);
  const [first, second] = (await queue(judges[0])).filter((a) => a.roundId === roundA);
  await as(judges[0].token)
    .put(`/api/v1/judging/assignments/${first.id}`, { scores: { singing: 40 } })
    .expect(200);
  await as(judges[0].token)
    .put(`/api/v1/judging/assignments/${second.id}`, { scores: { singing: 30 }, comment: '草稿' })
    .expect(200);
  expect((await expectExactEverywhere()).get(roundA)!.submitted).toBe(0);

  await as(judges[0].token).put(`/api/v1/judging/assignments/${first.id}`, { scores: SCORES, submit: true }).expect(200);
  expect((await expectExactEverywhere()).get(roundA)!.submitted).toBe(1);
  await as(judges[0].token).put(`/api/v1/judging/assignments/${second.id}`, { scores: SCORES, submit: true }).expect(200);
  // Saving a submitted score again (a corrected comment) keeps it submitted, counted once.
  await as(judges[0].token).put(`/api/v1/judging/assignments/${second.id}`, { scores: SCORES, comment: '改了评语', submit: true }).expect(200);
  expect((await expectExactEverywhere()).get(roundA)).toEqual({ entries: 4, judges: 2, assignments: 8, submitted: 2 });
});

test('when the admin reopens a submitted score, then it no longer counts as submitted', async () => {
  const [submitted] = (await queue(judges[0])).filter((a) => a.roundId === roundA && a.status === 'submitted');
  await as(admin).post(`/api/v1/assignments/${submitted.id}/reopen`, { reason: '评分录入有误' }).expect(200);
  expect((await expectExactEverywhere()).get(roundA)!.submitted).toBe(1);
});

test('when a judge declares a conflict and nobody else on the panel can take the entry, then the round shows one assignment fewer', async () => {
  const pending = (await queue(judges[1])).find((a) => a.roundId === roundA && a.status === 'pending')!;
  const before = (await expectExactEverywhere()).get(roundA)!;
  const res = await as(judges[1].token).post(`/api/v1/judging/assignments/${pending.id}/conflict`, { reason: '是我的学生' });
  expect([200, 204]).toContain(res.status);
  const after = (await expectExactEverywhere()).get(roundA)!;
  // A panel of two and two judges per entry: the other judge has the entry already.
  expect(after.assignments).toBe(before.assignments - 1);
});

test('when two judges submit in the same round at the same moment, then both saves succeed and the submitted count is exact', async () => {
  const mine = (judge: { token: string }) => queue(judge).then((q) => q.filter((a) => a.roundId === roundA && a.status !== 'submitted'));
  const [q0, q1] = await Promise.all([mine(judges[0]), mine(judges[1])]);
  const saves = [...q0.map((a) => [judges[0], a] as const), ...q1.map((a) => [judges[1], a] as const)];
  expect(saves.length).toBeGreaterThanOrEqual(2);
  const results = await Promise.all(saves.map(([j, a]) => as(j.token).put(`/api/v1/judging/assignments/${a.id}`, { scores: SCORES, submit: true })));
  expect(results.map((r) => r.status)).toEqual(saves.map(() => 200));
  const counts = (await expectExactEverywhere()).get(roundA)!;
  expect(counts.submitted).toBe(counts.assignments);
});

onPostgres('when two score saves hold the round (FOR SHARE) and write in turn, then neither deadlocks and both are counted', async () => {
  const db = t.container.database.db;
  // Round B: back to pending, so there are two scores to submit.
  const ids = (await db.selectFrom('assignments').select('id').where('round_id', '=', roundB).orderBy('id').execute()).map((a) => a.id);
  expect(ids).toHaveLength(2);
  const before = (await expectExactEverywhere()).get(roundB)!;
  let bothLocked!: () => void;
  const locked = new Promise<void>((resolve) => (bothLocked = resolve));
  let holding = 0;
  const save = (id: string, wait: number) =>
    db.transaction().execute(async (trx) => {
      // As scoring.repository lockForChange: the round shared, then the assignment.
      await trx.selectFrom('rounds').select('id').where('id', '=', roundB).forShare().execute();
      await trx.selectFrom('assignments').select('id').where('id', '=', id).forUpdate().execute();
      if (++holding === 2) bothLocked();
      await locked;
      await sleep(wait);
      await trx
        .updateTable('assignments')
        .set({ status: 'submitted', scores: JSON.stringify(SCORES), total: 85 })
        .where('id', '=', id)
        .execute();
      await sleep(200); // the other saver writes (and waits for the tally) while this one holds it
    });
  await Promise.all([save(ids[0], 0), save(ids[1], 50)]);
  expect((await expectExactEverywhere()).get(roundB)).toEqual({ ...before, submitted: before.submitted + 2 });
});

test('when thousands of assignments are inserted, updated, moved and deleted in single statements, then the tallies are exact', async () => {
  const db = t.container.database.db;
  // 300 more entries (copies of one, straight in the database) in round C with the four judges:
  // 1,200 assignments in one INSERT, a third of them already submitted.
  await sql`INSERT INTO entries
            SELECT (jsonb_populate_record(e, jsonb_build_object('id', 'bulk-' || g, 'code', e.code || '-' || g, 'video_id', NULL, 'status', 'forwarded'))).*
              FROM entries e, generate_series(1, 300) g WHERE e.id = ${entryIds[0]}`.execute(db);
  const roundC = (await as(admin).post('/api/v1/rounds', { name: '计数丙', judgesPerEntry: 4, blind: false, aggregation: 'mean' }).expect(201)).body.id;
  await sql`INSERT INTO round_entries (round_id, entry_id, label) SELECT ${roundC}, id, 'C-' || id FROM entries WHERE id LIKE 'bulk-%'`.execute(db);
  await sql`INSERT INTO round_judges (round_id, judge_id) SELECT ${roundC}, id FROM users WHERE id IN (${sql.join(judges.map((j) => j.id))})`.execute(db);
  await sql`INSERT INTO assignments (round_id, entry_id, judge_id, status)
            SELECT ${roundC}, re.entry_id, rj.judge_id, CASE WHEN rj.judge_id = ${judges[0].id} OR re.entry_id LIKE '%0' THEN 'submitted' ELSE 'pending' END
              FROM round_entries re JOIN round_judges rj ON rj.round_id = re.round_id WHERE re.round_id = ${roundC}`.execute(db);
  let counts = await expectExactEverywhere();
  expect(counts.get(roundC)).toEqual({ entries: 300, judges: 4, assignments: 1200, submitted: 300 + 30 * 3 });

  // One UPDATE: every pending score submitted, every submitted one back to draft.
  await sql`UPDATE assignments SET status = CASE WHEN status = 'submitted' THEN 'draft' ELSE 'submitted' END WHERE round_id = ${roundC}`.execute(db);
  counts = await expectExactEverywhere();
  expect(counts.get(roundC)!.submitted).toBe(1200 - 390);

  // One UPDATE moving 100 of round C's assignments (and their entries) to round A.
  const a = counts.get(roundA)!;
  await sql`UPDATE round_entries SET round_id = ${roundA} WHERE round_id = ${roundC} AND entry_id IN (SELECT entry_id FROM round_entries WHERE round_id = ${roundC} ORDER BY entry_id LIMIT 25)`.execute(
    db,
  );
  await sql`UPDATE assignments SET round_id = ${roundA} WHERE round_id = ${roundC} AND entry_id IN (SELECT entry_id FROM round_entries WHERE round_id = ${roundA} AND entry_id LIKE 'bulk-%')`.execute(
    db,
  );
  counts = await expectExactEverywhere();
  expect(counts.get(roundA)!.assignments).toBe(a.assignments + 100);
  expect(counts.get(roundA)!.entries).toBe(a.entries + 25);
  expect(counts.get(roundC)).toMatchObject({ entries: 275, assignments: 1100 });

  // One DELETE of half of round C's assignments, then its entries removed.
  await sql`DELETE FROM assignments WHERE round_id = ${roundC} AND judge_id IN (${judges[0].id}, ${judges[1].id})`.execute(db);
  expect((await expectExactEverywhere()).get(roundC)!.assignments).toBe(550);
  await sql`DELETE FROM assignments WHERE round_id = ${roundC}`.execute(db);
  await sql`DELETE FROM round_entries WHERE round_id = ${roundC} AND entry_id LIKE 'bulk-1%'`.execute(db);
  counts = await expectExactEverywhere();
  // bulk-1, -10…-19, -100…-199 (111) less the 25 that moved to round A (all of them among these).
  expect(counts.get(roundC)).toEqual({ entries: 275 - (111 - 25), judges: 4, assignments: 0, submitted: 0 });
});

test('when a round is deleted, then its tally goes with it and the other rounds keep theirs', async () => {
  const db = t.container.database.db;
  const before = await expectExactEverywhere();
  await db.deleteFrom('rounds').where('id', '=', roundB).execute(); // entries, panel and assignments by cascade
  const after = await expectExactEverywhere();
  expect(after.has(roundB)).toBe(false);
  expect(await db.selectFrom('round_tallies').select('round_id').where('round_id', '=', roundB).execute()).toEqual([]);
  expect(after.get(roundA)).toEqual(before.get(roundA));
});

test('when the campaign is closed, then a write is still refused (tallies unchanged), and the archive can delete a round with its tally', async () => {
  const db = t.container.database.db;
  const campaignId = (await db.selectFrom('rounds').select('campaign_id').where('id', '=', roundA).executeTakeFirstOrThrow()).campaign_id;
  await db.updateTable('campaigns').set({ status: 'closed', closed_at: new Date() }).where('id', '=', campaignId).execute();
  const before = await talliesAndCounts();
  await expect(db.deleteFrom('assignments').where('round_id', '=', roundA).execute()).rejects.toMatchObject({ code: 'CXR01' });
  expect(await talliesAndCounts()).toEqual(before);

  await db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('cx.archive_write', 'on', true)`.execute(trx);
    await trx.deleteFrom('rounds').where('id', '=', roundA).execute();
  });
  const rows = await talliesAndCounts();
  expect(rows.map((r) => r.id)).not.toContain(roundA);
  for (const r of rows) expect(r.tally).toEqual(r.counted);
});

test('when migration 0028 runs over existing rounds, then it fills every tally from the rows', async () => {
  const db = t.container.database.db;
  const before = await talliesAndCounts();
  expect(before.some((r) => r.counted.entries > 0)).toBe(true);
  // Back to the shape before 0028, then run its SQL as the migrator does.
  await sql`DROP TABLE round_tallies CASCADE`.execute(db);
  for (const [table, name] of [
    ['rounds', 'rounds_tally_insert'],
    ...['assignments', 'round_entries', 'round_judges'].flatMap((tb) => ['insert', 'delete', 'update', 'truncate'].map((op) => [tb, `${tb}_tally_${op}`])),
  ])
    await sql`DROP TRIGGER ${sql.id(name)} ON ${sql.table(table)}`.execute(db);
  await sql`DROP FUNCTION round_tallies_new_round(), round_tallies_assignments(), round_tallies_members(), round_tallies_add(text[], int[], int[], int[], int[])`.execute(
    db,
  );
  const text = fs.readFileSync(path.join(resolveMigrationsDir(), '0028_round_tallies.sql'), 'utf8');
  await sql.raw(`${SCRIPT_MARKER}\n${text}`).execute(db);
  expect(await talliesAndCounts()).toEqual(before);
});
