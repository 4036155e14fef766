import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { resolveMigrationsDir } from '../../../src/platform/db/migrate';
import { SCRIPT_MARKER } from '../../../src/platform/db/pglite-dialect';
import { createTestApp, type TestApp } from '../../support/app';
import { attachReadyVideo, createEntry, schoolWithToken } from '../../support/factories';

/**
 * Migration 0011 gives the entries of rounds that existed before it their labels: per round, the
 * round's letter and a random permutation of 1…n, unique, NOT NULL afterwards.
 */
describe('migration 0011: labels for existing rounds', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  test('when rounds with entries existed before the migration, then each gets letter-number labels 1…n, unique and required', async () => {
    const admin = await t.token('admin');
    const school = await schoolWithToken(t, null);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await createEntry(t, school.token, { title: `迁移作品${i}` });
      await attachReadyVideo(t, e.id);
      await request(t.app).post(`/api/v1/entries/${e.id}/submit`).set('Authorization', `Bearer ${school.token}`).expect(200);
      ids.push(e.id);
    }
    const rounds: string[] = [];
    for (const name of ['旧轮一', '旧轮二']) {
      const id = (
        await request(t.app)
          .post('/api/v1/rounds')
          .set('Authorization', `Bearer ${admin}`)
          .send({ name, judgesPerEntry: 1, blind: true, aggregation: 'mean' })
          .expect(201)
      ).body.id;
      await request(t.app).post(`/api/v1/rounds/${id}/entries`).set('Authorization', `Bearer ${admin}`).send({ entryIds: ids }).expect(200);
      rounds.push(id);
    }
    const db = t.container.database.db;
    // Back to the shape before 0011, then run its SQL as the migrator does.
    await sql`ALTER TABLE round_entries DROP COLUMN label CASCADE`.execute(db); // with the queue-order trigger of 0015 that reads it
    const text = fs.readFileSync(path.join(resolveMigrationsDir(), '0011_round_entry_labels.sql'), 'utf8');
    await sql.raw(`${SCRIPT_MARKER}\n${text}`).execute(db);

    const rows = await db.selectFrom('round_entries').select(['round_id', 'label']).execute();
    for (const [i, id] of rounds.entries()) {
      const labels = rows.filter((r) => r.round_id === id).map((r) => r.label);
      expect(labels.every((l) => new RegExp(`^${'AB'[i]}-\\d{3}$`).test(l))).toBe(true);
      expect(labels.map((l) => Number(l.slice(2))).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    const { rows: column } = await sql<{
      is_nullable: string;
    }>`SELECT is_nullable FROM information_schema.columns WHERE table_name = 'round_entries' AND column_name = 'label'`.execute(db);
    expect(column).toEqual([{ is_nullable: 'NO' }]);
    await expect(sql`UPDATE round_entries SET label = 'A-001' WHERE round_id = ${rounds[0]}`.execute(db)).rejects.toThrow(/unique|duplicate/i);
  });
});
