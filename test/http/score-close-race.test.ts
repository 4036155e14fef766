/**
 * Issue 14, defect 3: a score save that races the round's close. The save used to lock only the
 * assignment and read the round's status before the close committed, so it could commit a score
 * after the round had closed. It now takes the round row (FOR SHARE) first: a close in progress
 * makes it wait, and it then sees `closed` and answers 409 round_closed. (On PGlite, with one
 * connection, the transactions are serialised anyway; the race is real on PostgreSQL.)
 */
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../support/factories';
import { sleep } from '../support/entries';

let t: TestApp;
let admin: { Authorization: string };
let judge: { Authorization: string };

beforeAll(async () => {
  t = await createTestApp();
  admin = { Authorization: `Bearer ${await t.token('admin')}` };
  const j = await t.createUser('judge', { countyId: null });
  judge = { Authorization: `Bearer ${await t.token(j.username)}` };
  const school = await schoolWithToken(t);
  const entry = await createEntry(t, school.token);
  await attachReadyVideo(t, entry.id);
  await t.container.database.db.updateTable('entries').set({ status: 'forwarded' }).where('id', '=', entry.id).execute();
  const round = (await request(t.app).post('/api/v1/rounds').set(admin).send({ name: '决赛', judgesPerEntry: 1, blind: true, aggregation: 'mean' }).expect(201))
    .body;
  await request(t.app)
    .post(`/api/v1/rounds/${round.id}/entries`)
    .set(admin)
    .send({ entryIds: [entry.id] })
    .expect(200);
  await request(t.app)
    .post(`/api/v1/rounds/${round.id}/judges`)
    .set(admin)
    .send({ userIds: [j.id] })
    .expect(200);
  await request(t.app).post(`/api/v1/rounds/${round.id}/assign`).set(admin).send({}).expect(200);
  await request(t.app).post(`/api/v1/rounds/${round.id}/open`).set(admin).send({}).expect(200);
  roundId = round.id;
});
let roundId: string;

afterAll(async () => {
  await t?.close();
});

test('when a judge submits while the round is being closed, then the save waits for the close and is refused 409 round_closed, and no score is stored', async () => {
  const [assignment] = (await request(t.app).get('/api/v1/judging/assignments').set(judge).expect(200)).body as Array<{ id: string }>;
  const db = t.container.database.db;

  // A close in progress: the round row is locked and already says `closed`, not yet committed.
  let commitClose!: () => void;
  let closeLocked!: () => void;
  const locked = new Promise<void>((resolve) => (closeLocked = resolve));
  const closing = db.transaction().execute(async (trx) => {
    await trx.selectFrom('rounds').select('id').where('id', '=', roundId).forUpdate().execute();
    await trx.updateTable('rounds').set({ status: 'closed' }).where('id', '=', roundId).execute();
    closeLocked();
    await new Promise<void>((resolve) => (commitClose = resolve));
  });
  await locked;

  const saving = request(t.app)
    .put(`/api/v1/judging/assignments/${assignment.id}`)
    .set(judge)
    .send({ scores: { singing: 45, artistry: 20, spirit: 12, costume: 8 }, submit: true })
    .then((res) => res);
  await sleep(300); // the save has read (and, before the fix, written) by now
  commitClose();
  await closing;
  const res = await saving;

  expect(res.status).toBe(409);
  expect(res.body).toMatchObject({ code: 'round_closed' });
  const row = await db.selectFrom('assignments').select(['status', 'scores', 'total']).where('id', '=', assignment.id).executeTakeFirstOrThrow();
  expect(row).toEqual({ status: 'pending', scores: null, total: null });
});
