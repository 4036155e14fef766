/**
 * Issue 14, defect 4: a `date` column is a calendar day. Both drivers hand it over as the
 * "YYYY-MM-DD" string (PGlite used to parse it into a UTC-midnight Date, which services had to
 * undo with a helper, and which a local-time reader would show as the day before east of UTC).
 */
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../support/db';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
});

test('when a date column is read, then it is the calendar day as a string, whatever the driver', async () => {
  const { rows } = await sql<{ d: unknown; first: unknown }>`select '2026-06-01'::date as d, '2026-01-01'::date as first`.execute(testDb.database.db);
  expect(rows[0]).toEqual({ d: '2026-06-01', first: '2026-01-01' });
});
