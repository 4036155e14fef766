import { sql, type Insertable, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { DB, SchoolsTable } from '../platform/db/schema';
import type { Page, PageQuery } from '../platform/validate';
import type { County, School } from './org.types';

type Q = Kysely<DB> | Transaction<DB>;

/** Locks the school's row: serialises what must not run twice at once for one school (e.g. reserving upload bytes against its cap). */
export async function lockSchool(trx: Transaction<DB>, id: string): Promise<void> {
  await trx.selectFrom('schools').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function listCounties(db: Q): Promise<County[]> {
  return db.selectFrom('counties').select(['id', 'code', 'name']).orderBy('sort').execute();
}

export async function listCountiesWithSchoolCounts(db: Q): Promise<Array<County & { schoolCount: number }>> {
  const rows = await db
    .selectFrom('counties as c')
    .leftJoin('schools as s', 's.county_id', 'c.id')
    .select(['c.id', 'c.code', 'c.name', (eb) => eb.fn.count<number>('s.id').as('schoolCount')])
    .groupBy(['c.id', 'c.code', 'c.name', 'c.sort'])
    .orderBy('c.sort')
    .execute();
  return rows.map((r) => ({ ...r, schoolCount: Number(r.schoolCount) }));
}

export async function countCityDirectSchools(db: Q): Promise<number> {
  const { n } = await db
    .selectFrom('schools')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('county_id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(n);
}

export async function findCounty(db: Q, id: string): Promise<County | undefined> {
  return db.selectFrom('counties').select(['id', 'code', 'name']).where('id', '=', id).executeTakeFirst();
}

function schoolQuery(db: Q) {
  return db
    .selectFrom('schools as s')
    .leftJoin('counties as c', 'c.id', 's.county_id')
    .select(['s.id', 's.name', 's.county_id as countyId', 'c.name as countyName', 's.level']);
}

export async function findSchool(db: Q, id: string): Promise<School | undefined> {
  return schoolQuery(db).where('s.id', '=', id).executeTakeFirst();
}

export interface SchoolFilter {
  /** a county id, or 'city' for 市直 schools */
  countyId?: string;
  q?: string;
}

export async function listSchools(db: Q, filter: SchoolFilter, page: PageQuery): Promise<Page<School>> {
  let q = schoolQuery(db);
  if (filter.countyId === 'city') q = q.where('s.county_id', 'is', null);
  else if (filter.countyId) q = q.where('s.county_id', '=', filter.countyId);
  if (filter.q) q = q.where('s.name', 'ilike', `%${filter.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`);
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const items = await q
    .orderBy('c.sort', (ob) => ob.nullsFirst())
    .orderBy('s.name')
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  return { items, total: Number(n), page: page.page, pageSize: page.pageSize };
}

export async function insertSchool(db: Q, row: Insertable<SchoolsTable>): Promise<string> {
  const { id } = await db.insertInto('schools').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

/** Several schools in one statement (an import's batch). */
export async function insertSchools(db: Q, rows: Insertable<SchoolsTable>[]): Promise<void> {
  await db.insertInto('schools').values(rows).execute();
}

/**
 * The schools (name and county) whose name is one of `nameKeys` (nameKey() of each name), compared
 * as the unique index does: normalize(name, NFKC) (migrations/0009_names_nfkc.sql).
 */
export async function schoolsNamed(db: Q, nameKeys: readonly string[]) {
  return db
    .selectFrom('schools')
    .select(['name', 'county_id'])
    .where(sql<string>`normalize(name, NFKC)`, 'in', nameKeys)
    .execute();
}

export async function updateSchool(db: Q, id: string, patch: Updateable<SchoolsTable>): Promise<void> {
  await db
    .updateTable('schools')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}
