import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { migrateToLatest } from '../../../src/platform/db/migrate';

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  test('when the database is new, then the campaign is seeded with 13 counties, 5 designated songs and an open period', async () => {
    const db = t.database.db;
    const counties = await db.selectFrom('counties').select('name').orderBy('sort').execute();
    expect(counties).toHaveLength(13);
    expect(counties[0].name).toBe('离石区');
    const songs = await db.selectFrom('songs').select(['title', 'designated']).execute();
    expect(songs.filter((s) => s.designated).map((s) => s.title)).toContain('吕梁颂');
    const periods = await db.selectFrom('periods').selectAll().execute();
    expect(periods.length).toBeGreaterThanOrEqual(1);
    expect(new Date(periods[0].submit_by).getTime()).toBeGreaterThan(Date.now());
  });

  test('when migrations run again, then nothing is applied twice', async () => {
    expect(await migrateToLatest(t.database.db)).toEqual([]);
  });

  test('when several processes migrate at once, then each migration is applied once', async () => {
    // Concurrency only matters on a real server; PGlite is one connection in one process.
    const results = await Promise.all([migrateToLatest(t.database.db), migrateToLatest(t.database.db)]);
    expect(results.flat()).toEqual([]);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(t.database.db);
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });
});
