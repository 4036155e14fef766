import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../platform/db/schema';

/** The SQL of 人人会唱 (learning progress): settings, reports with their songs, coverage counts. */
type Q = Kysely<DB> | Transaction<DB>;

export async function findSettings(db: Q, campaignId: string) {
  return db.selectFrom('learning_settings').select(['deadline', 'updated_at']).where('campaign_id', '=', campaignId).executeTakeFirst();
}

export async function campaignCreatedAt(db: Q, campaignId: string): Promise<Date> {
  const row = await db.selectFrom('campaigns').select('created_at').where('id', '=', campaignId).executeTakeFirstOrThrow();
  return new Date(row.created_at);
}

export async function upsertDeadline(db: Q, campaignId: string, deadline: string) {
  await db
    .insertInto('learning_settings')
    .values({ campaign_id: campaignId, deadline })
    .onConflict((oc) => oc.column('campaign_id').doUpdateSet({ deadline, updated_at: new Date() }))
    .execute();
}

export async function designatedSongs(db: Q, campaignId: string) {
  return db.selectFrom('songs').select(['id', 'title']).where('campaign_id', '=', campaignId).where('designated', '=', true).orderBy('sort').execute();
}

export async function findSchool(db: Q, schoolId: string) {
  return db
    .selectFrom('schools as s')
    .leftJoin('counties as c', 'c.id', 's.county_id')
    .select(['s.id', 's.name', 's.county_id', 'c.name as county_name'])
    .where('s.id', '=', schoolId)
    .executeTakeFirst();
}

export interface NewReport {
  campaignId: string;
  schoolId: string;
  teachers: number;
  classes: number;
  note: string;
  reportedBy: string;
  songs: Array<{ songId: string; teachersLearned: number; classesSinging: number }>;
}

/** Stores a report as the school's latest (the previous one stays, as history). Call inside a transaction. */
export async function insertReport(trx: Transaction<DB>, r: NewReport): Promise<{ id: string; reported_at: Date }> {
  // Serialise two reports of one school: the second waits, then finds the first as its previous one.
  await sql`SELECT id FROM schools WHERE id = ${r.schoolId} FOR UPDATE`.execute(trx);
  await trx
    .updateTable('learning_reports')
    .set({ is_latest: false })
    .where('campaign_id', '=', r.campaignId)
    .where('school_id', '=', r.schoolId)
    .where('is_latest', '=', true)
    .execute();
  const row = await trx
    .insertInto('learning_reports')
    .values({
      campaign_id: r.campaignId,
      school_id: r.schoolId,
      teachers: r.teachers,
      classes: r.classes,
      note: r.note,
      reported_by: r.reportedBy,
      reported_at: new Date(),
    })
    .returning(['id', 'reported_at'])
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('learning_report_songs')
    .values(r.songs.map((s) => ({ report_id: row.id, song_id: s.songId, teachers_learned: s.teachersLearned, classes_singing: s.classesSinging })))
    .execute();
  return { id: row.id, reported_at: new Date(row.reported_at) };
}

/** A school's reports, newest first (the first is the latest), with their song rows. */
export async function reportsOfSchool(db: Q, campaignId: string, schoolId: string, limit: number) {
  const reports = await db
    .selectFrom('learning_reports as r')
    .leftJoin('users as u', 'u.id', 'r.reported_by')
    .select(['r.id', 'r.teachers', 'r.classes', 'r.note', 'r.reported_at', 'r.is_latest', 'u.display_name as reporter'])
    .where('r.campaign_id', '=', campaignId)
    .where('r.school_id', '=', schoolId)
    .orderBy('r.reported_at', 'desc')
    .orderBy('r.id', 'desc')
    .limit(limit)
    .execute();
  const songs = reports.length
    ? await db
        .selectFrom('learning_report_songs')
        .select(['report_id', 'song_id', 'teachers_learned', 'classes_singing'])
        .where(
          'report_id',
          'in',
          reports.map((r) => r.id),
        )
        .execute()
    : [];
  const total = await db
    .selectFrom('learning_reports')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('school_id', '=', schoolId)
    .executeTakeFirstOrThrow();
  return { reports, songs, total: Number(total.n) };
}

/** Sums of the latest reports per county (NULL = 市直), and the number of schools and of reporting schools. */
export async function countyTotals(db: Q, campaignId: string, countyId: string | null) {
  let schools = db.selectFrom('schools as s');
  if (countyId) schools = schools.where('s.county_id', '=', countyId);
  const [schoolCounts, songTotals] = await Promise.all([
    schools
      .leftJoin('learning_reports as r', (j) => j.onRef('r.school_id', '=', 's.id').on('r.campaign_id', '=', campaignId).on('r.is_latest', '=', true))
      .select(['s.county_id', (eb) => eb.fn.countAll<number>().as('schools'), (eb) => eb.fn.count<number>('r.id').as('reported')])
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>('r.teachers'), sql<number>`0`).as('teachers'),
        eb.fn.coalesce(eb.fn.sum<number>('r.classes'), sql<number>`0`).as('classes'),
      ])
      .groupBy('s.county_id')
      .execute(),
    schools
      .innerJoin('learning_reports as r', (j) => j.onRef('r.school_id', '=', 's.id').on('r.campaign_id', '=', campaignId).on('r.is_latest', '=', true))
      .innerJoin('learning_report_songs as ls', 'ls.report_id', 'r.id')
      .select(['s.county_id', 'ls.song_id'])
      .select((eb) => [eb.fn.sum<number>('ls.teachers_learned').as('teachers_learned'), eb.fn.sum<number>('ls.classes_singing').as('classes_singing')])
      .groupBy(['s.county_id', 'ls.song_id'])
      .execute(),
  ]);
  return { schoolCounts, songTotals };
}

export async function listCounties(db: Q) {
  return db.selectFrom('counties').select(['id', 'name', 'code']).orderBy('sort').execute();
}

export interface SchoolFilter {
  countyId?: string | null;
  /** 'city' = 市直 schools only */
  cityDirect?: boolean;
  /** only schools without a report */
  notReported?: boolean;
}

function schoolQuery(db: Q, campaignId: string, f: SchoolFilter) {
  let q = db
    .selectFrom('schools as s')
    .leftJoin('counties as c', 'c.id', 's.county_id')
    .leftJoin('learning_reports as r', (j) => j.onRef('r.school_id', '=', 's.id').on('r.campaign_id', '=', campaignId).on('r.is_latest', '=', true));
  if (f.countyId) q = q.where('s.county_id', '=', f.countyId);
  if (f.cityDirect) q = q.where('s.county_id', 'is', null);
  if (f.notReported) q = q.where('r.id', 'is', null);
  return q;
}

/** One page of schools with their latest report (or none), ordered by county then name. */
export async function schoolPage(db: Q, campaignId: string, f: SchoolFilter, page: { page: number; pageSize: number }) {
  const base = schoolQuery(db, campaignId, f);
  const [rows, total] = await Promise.all([
    base
      .select(['s.id', 's.name', 's.county_id', 'c.name as county_name', 'r.id as report_id', 'r.teachers', 'r.classes', 'r.note', 'r.reported_at'])
      .orderBy('c.sort', (ob) => ob.asc().nullsFirst())
      .orderBy('s.name')
      .orderBy('s.id')
      .limit(page.pageSize)
      .offset((page.page - 1) * page.pageSize)
      .execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const reportIds = rows.map((r) => r.report_id).filter((id): id is string => id !== null);
  const songs = reportIds.length
    ? await db
        .selectFrom('learning_report_songs')
        .select(['report_id', 'song_id', 'teachers_learned', 'classes_singing'])
        .where('report_id', 'in', reportIds)
        .execute()
    : [];
  return { rows, songs, total: Number(total.n) };
}

/**
 * Coverage over time: for each Beijing day on which someone reported (the last `days` such days),
 * the sums over every school's latest report as of the end of that day.
 */
export async function trendRows(db: Q, campaignId: string, countyId: string | null, days: number) {
  const county = countyId ? sql`AND s.county_id = ${countyId}` : sql``;
  const result = await sql<{ day: string; schools: number; teachers: number; classes: number; teachers_learned: number; classes_singing: number }>`
    WITH scoped AS (
      SELECT r.id, r.school_id, r.teachers, r.classes, r.reported_at, (r.reported_at AT TIME ZONE 'UTC' + interval '8 hours')::date AS day
      FROM learning_reports r JOIN schools s ON s.id = r.school_id
      WHERE r.campaign_id = ${campaignId} ${county}
    ),
    days AS (SELECT DISTINCT day FROM scoped ORDER BY day DESC LIMIT ${days}),
    snap AS (
      SELECT DISTINCT ON (d.day, x.school_id) d.day, x.id, x.teachers, x.classes
      FROM days d JOIN scoped x ON x.day <= d.day
      ORDER BY d.day, x.school_id, x.reported_at DESC, x.id DESC
    ),
    songs AS (
      SELECT snap.day, sum(ls.teachers_learned) AS teachers_learned, sum(ls.classes_singing) AS classes_singing
      FROM snap JOIN learning_report_songs ls ON ls.report_id = snap.id
      GROUP BY snap.day
    )
    SELECT to_char(t.day, 'YYYY-MM-DD') AS day, t.schools, t.teachers, t.classes,
           coalesce(songs.teachers_learned, 0) AS teachers_learned, coalesce(songs.classes_singing, 0) AS classes_singing
    FROM (SELECT day, count(*) AS schools, sum(teachers) AS teachers, sum(classes) AS classes FROM snap GROUP BY day) t
    LEFT JOIN songs ON songs.day = t.day
    ORDER BY t.day`.execute(db);
  return result.rows;
}

/**
 * Schools to remind: no report yet, or a latest report below 100 % (some song with fewer teachers
 * or classes than the school has). One row per school.
 */
export async function schoolsToRemind(db: Q, campaignId: string) {
  return db
    .selectFrom('schools as s')
    .leftJoin('learning_reports as r', (j) => j.onRef('r.school_id', '=', 's.id').on('r.campaign_id', '=', campaignId).on('r.is_latest', '=', true))
    .select(['s.id', 's.name', 'r.id as report_id'])
    .where(({ or, eb, exists, selectFrom }) =>
      or([
        eb('r.id', 'is', null),
        exists(
          selectFrom('learning_report_songs as ls')
            .select('ls.report_id')
            .whereRef('ls.report_id', '=', 'r.id')
            .where(({ or: o, eb: e, ref }) => o([e('ls.teachers_learned', '<', ref('r.teachers')), e('ls.classes_singing', '<', ref('r.classes'))])),
        ),
      ]),
    )
    .orderBy('s.id')
    .execute();
}

/** The latest report of one school with its song rows (for the to-do), or undefined. */
export async function latestReport(db: Q, campaignId: string, schoolId: string) {
  const report = await db
    .selectFrom('learning_reports')
    .select(['id', 'teachers', 'classes'])
    .where('campaign_id', '=', campaignId)
    .where('school_id', '=', schoolId)
    .where('is_latest', '=', true)
    .executeTakeFirst();
  if (!report) return undefined;
  const songs = await db
    .selectFrom('learning_report_songs')
    .select(['song_id', 'teachers_learned', 'classes_singing'])
    .where('report_id', '=', report.id)
    .execute();
  return { ...report, songs };
}

/** Schools without a report in a county (or the whole city). */
export async function countNotReported(db: Q, campaignId: string, countyId: string | null) {
  const row = await schoolQuery(db, campaignId, { countyId, notReported: true })
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
