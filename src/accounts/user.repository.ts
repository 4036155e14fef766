import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { DB, UsersTable } from '../platform/db/schema';
import type { Page, PageQuery } from '../platform/validate';
import type { CurrentUser, Role, UserView } from './account.types';

type Q = Kysely<DB> | Transaction<DB>;
export type UserRow = Selectable<UsersTable>;

export function toCurrentUser(row: UserRow): CurrentUser {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    countyId: row.county_id,
    schoolId: row.school_id,
    mustChangePassword: row.must_change_password,
  };
}

export async function findUserByUsername(db: Q, username: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()))
    .executeTakeFirst();
}

export async function findUserById(db: Q, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Just the id and username of an account (for clearing its login failures). */
export async function findUsernameById(db: Q, id: string): Promise<{ id: string; username: string } | undefined> {
  return db.selectFrom('users').select(['id', 'username']).where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Q, row: Insertable<UsersTable>): Promise<string> {
  const { id } = await db.insertInto('users').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function updateUser(db: Q, id: string, patch: Updateable<UsersTable>): Promise<void> {
  await db
    .updateTable('users')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function countUsers(db: Q): Promise<number> {
  const { n } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

export interface UserFilter {
  role?: Role;
  countyId?: string;
  /** only school accounts whose school is in this county */
  schoolCountyId?: string;
  q?: string;
}

function viewQuery(db: Q) {
  return db
    .selectFrom('users as u')
    .leftJoin('schools as s', 's.id', 'u.school_id')
    .leftJoin('counties as c', (join) => join.on((eb) => eb('c.id', '=', eb.fn.coalesce('u.county_id', 's.county_id'))))
    .select([
      'u.id',
      'u.username',
      'u.display_name',
      'u.role',
      'u.county_id',
      'u.school_id',
      'u.disabled_at',
      'u.created_at',
      's.name as school_name',
      's.county_id as school_county_id',
      'c.name as county_name',
    ]);
}

type ViewRow = Awaited<ReturnType<ReturnType<typeof viewQuery>['executeTakeFirstOrThrow']>>;

function toView(r: ViewRow): UserView & { schoolCountyId: string | null } {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    countyId: r.county_id,
    schoolId: r.school_id,
    countyName: r.county_name,
    schoolName: r.school_name,
    schoolCountyId: r.school_county_id,
    disabled: r.disabled_at !== null,
    createdAt: new Date(r.created_at),
  };
}

export async function findUserView(db: Q, id: string) {
  const row = await viewQuery(db).where('u.id', '=', id).executeTakeFirst();
  return row ? toView(row) : undefined;
}

export async function listUserViews(db: Q, filter: UserFilter, page: PageQuery): Promise<Page<UserView>> {
  let q = viewQuery(db);
  if (filter.role) q = q.where('u.role', '=', filter.role);
  if (filter.countyId) q = q.where((eb) => eb.or([eb('u.county_id', '=', filter.countyId!), eb('s.county_id', '=', filter.countyId!)]));
  if (filter.schoolCountyId) q = q.where('u.role', '=', 'school').where('s.county_id', '=', filter.schoolCountyId);
  if (filter.q) {
    const like = `%${filter.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    q = q.where((eb) => eb.or([eb('u.username', 'ilike', like), eb('u.display_name', 'ilike', like), eb('s.name', 'ilike', like)]));
  }
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const rows = await q
    .orderBy('u.role')
    .orderBy('u.username')
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  return { items: rows.map(toView), total: Number(n), page: page.page, pageSize: page.pageSize };
}

/**
 * Active accounts of these schools (role school) or counties (role county), each with its school or
 * county as `unit`: who a school-wide or county-wide message reaches.
 */
export async function activeAccountsOf(db: Q, unit: 'school' | 'county', ids: readonly string[]): Promise<Array<{ id: string; unit: string }>> {
  if (ids.length === 0) return [];
  const column = unit === 'school' ? 'school_id' : 'county_id';
  return db
    .selectFrom('users')
    .select(['id', sql<string>`${sql.ref(column)}`.as('unit')])
    .where('role', '=', unit)
    .where('disabled_at', 'is', null)
    .where(column, 'in', ids)
    .execute();
}
