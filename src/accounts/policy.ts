import { forbidden, notFound, unauthenticated } from '../platform/errors';
import type { CurrentUser, Role } from './account.types';

/**
 * The one authorization policy, used by HTML and API routes alike (through the services).
 *
 * Two kinds of refusal:
 * - role level: the caller's role may never use this part of the product → 403;
 * - object level: the object exists but is not the caller's (another school, another county…) →
 *   404, the same answer as an object that does not exist, so ids cannot be probed.
 */
export const AREAS = {
  /** see the campaign: songs, forms, levels, periods */
  campaign: ['school', 'county', 'judge', 'admin', 'tv'],
  /** counties list */
  counties: ['school', 'county', 'judge', 'admin', 'tv'],
  /** edit periods and quotas */
  periods: ['admin'],
  /** schools: list, create, edit (county: its own county only) */
  schools: ['county', 'admin'],
  /** import schools from CSV/XLSX */
  schoolImport: ['admin'],
  /** accounts: list, create, disable, reset (county: its own schools' accounts only) */
  accounts: ['county', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Area = keyof typeof AREAS;

export function requireUser(user: CurrentUser | null | undefined): CurrentUser {
  if (!user) throw unauthenticated();
  return user;
}

export function canUse(user: CurrentUser, area: Area): boolean {
  return (AREAS[area] as readonly Role[]).includes(user.role);
}

/** Role-level gate: 403 when the role may never do this. */
export function assertArea(user: CurrentUser | null | undefined, area: Area): CurrentUser {
  const u = requireUser(user);
  if (!canUse(u, area)) throw forbidden();
  return u;
}

/** Which county's schools the user may manage: `'all'` for admins, one id for a county, else none. */
export function schoolScope(user: CurrentUser): 'all' | { countyId: string } | null {
  if (user.role === 'admin') return 'all';
  if (user.role === 'county' && user.countyId) return { countyId: user.countyId };
  return null;
}

export function canManageSchool(user: CurrentUser, school: { countyId: string | null }): boolean {
  const scope = schoolScope(user);
  if (scope === 'all') return true;
  return scope !== null && school.countyId === scope.countyId;
}

/** Object-level: 404 unless the user may manage this school. */
export function assertManageSchool(user: CurrentUser, school: { countyId: string | null } | undefined): void {
  if (!school || !canManageSchool(user, school)) throw notFound('学校不存在，或不在您的管辖范围内。');
}

export interface AccountTarget {
  id?: string;
  role: Role;
  /** county of the account, or of the account's school */
  countyId: string | null;
  schoolId: string | null;
}

/** Admins manage every account; a county reviewer only school accounts of its own county. */
export function canManageAccount(user: CurrentUser, target: AccountTarget): boolean {
  if (user.role === 'admin') return true;
  return user.role === 'county' && target.role === 'school' && target.countyId !== null && target.countyId === user.countyId;
}

/** Which accounts a user may list: all, those of schools in one county, or none. */
export function accountScope(user: CurrentUser): 'all' | { schoolCountyId: string } | null {
  if (user.role === 'admin') return 'all';
  if (user.role === 'county' && user.countyId) return { schoolCountyId: user.countyId };
  return null;
}
