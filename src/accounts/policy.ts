import { forbidden, notFound, unauthenticated } from '../platform/errors';
import { ROLES, type CurrentUser, type Role } from './account.types';

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
  /** every county with its number of schools (the city's overview page) */
  countyOverview: ['admin'],
  /** create next year's campaign, open it for submissions, close it, set and run its retention policy */
  campaignAdmin: ['admin'],
  /** edit periods and quotas */
  periods: ['admin'],
  /** schools: list, create, edit (county: its own county only) */
  schools: ['county', 'admin'],
  /** import schools from CSV/XLSX */
  schoolImport: ['admin'],
  /** accounts: list, create, disable, reset (county: its own schools' accounts only) */
  accounts: ['county', 'admin'],
  /** see and clear an account's login protection (failed logins) */
  loginUnlock: ['admin'],
  /** create entries and upload videos */
  entryCreate: ['school'],
  /** process a failed video again from its stored original */
  videoRetry: ['admin'],
  /** county review: return, forward, rank; the city's forwarded overview */
  review: ['county', 'admin'],
  /** participation statistics (a county sees its own numbers) */
  stats: ['county', 'admin'],
  /** rounds, panels, assignment, ranking, shortlist, awards */
  rounds: ['admin'],
  /** read a round's progress, ranking, objections and audit log, changing nothing (监督 alongside the city) */
  roundsRead: ['admin', 'supervisor'],
  /** handle objections of the 公示期 (受理 → 复核 → 结论) */
  objectionHandle: ['admin'],
  /** 县区成绩单 (a county its own; the city's report and the 评委签字表: city and 监督) */
  reports: ['county', 'admin', 'supervisor'],
  /** a school's own feedback (criterion means, anonymous comments) once a round allows it */
  feedback: ['school'],
  /** a judge's own assignments and scores */
  judging: ['judge'],
  /** select entries for broadcast (the city) */
  broadcastSelect: ['admin'],
  /** the TV desk: selected entries, masters, programme sheet, aired dates */
  broadcastDesk: ['tv', 'admin'],
  /** the new-media desk: make, restart and download packs of awarded entries (WeChat, 视频号) */
  mediaPack: ['newmedia', 'admin'],
  /** the audit log of every action */
  audit: ['admin'],
  /** 人人会唱: report the own school's learning progress */
  learningReport: ['school'],
  /** 人人会唱: coverage per county and school (a county sees its own schools) */
  learningStats: ['county', 'admin'],
  /** 人人会唱: set the reporting deadline */
  learningSettings: ['admin'],
  /** 获奖证书: download the own school's / county's certificates (the city all) */
  certificates: ['school', 'county', 'admin'],
  /** 获奖证书: issue, revoke, seal, round ZIP and print sheet */
  certificatesManage: ['admin'],
  /** entry lists and pages */
  entries: ['school', 'county', 'admin', 'tv', 'newmedia'],
  /** one's own messages (消息), email settings and to-do list */
  messages: ['school', 'county', 'judge', 'admin', 'tv', 'supervisor', 'newmedia'],
  /** group robots (企业微信 / 钉钉) and the delivery log */
  notificationSettings: ['admin'],
  /** read an entry's guardian authorisation (授权书) and its scan: never judges, TV or the public */
  consent: ['school', 'county', 'admin'],
  /** record an entry's authorisation (its own school) */
  consentRecord: ['school'],
  /** withdraw an authorisation: the school, or the city on request */
  consentWithdraw: ['school', 'admin'],
  /** whether a signed scan is required (the city) */
  consentSettings: ['admin'],
  /** a school exports its own data (ZIP) */
  dataExport: ['school'],
  /** erase a school's personal data on request (the city) */
  dataErase: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Area = keyof typeof AREAS;

export function requireUser(user: CurrentUser | null | undefined): CurrentUser {
  if (!user) throw unauthenticated();
  return user;
}

export function canUse(user: CurrentUser, area: Area): boolean {
  return (AREAS[area] as readonly Role[]).includes(user.role);
}

/** Role-level gate: 403 (with `detail`, else the general sentence) when the role may never do this. */
export function assertArea(user: CurrentUser | null | undefined, area: Area, detail?: string): CurrentUser {
  const u = requireUser(user);
  if (!canUse(u, area)) throw forbidden(detail);
  return u;
}

/** Which county's schools the user may manage: `'all'` for admins, one id for a county, else none. */
export function schoolScope(user: CurrentUser): 'all' | { countyId: string } | null {
  if (user.role === 'admin') return 'all';
  if (user.role === 'county' && user.countyId) return { countyId: user.countyId };
  return null;
}

/** Whether the user may put a school in any county (the city); a county reviewer edits its own county's schools in place. */
export const canMoveSchools = (user: CurrentUser): boolean => schoolScope(user) === 'all';

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

/** The roles a user may create accounts for: the city every role, a county reviewer school accounts. */
export function creatableRoles(user: CurrentUser): readonly Role[] {
  if (user.role === 'admin') return ROLES;
  return user.role === 'county' ? ['school'] : [];
}

/** Which accounts a user may list: all, those of schools in one county, or none. */
export function accountScope(user: CurrentUser): 'all' | { schoolCountyId: string } | null {
  if (user.role === 'admin') return 'all';
  if (user.role === 'county' && user.countyId) return { schoolCountyId: user.countyId };
  return null;
}

/* ------------------------------------------------------------------ entries */

/** Statuses a TV account may see: only entries selected for broadcast. */
export const BROADCAST_STATUSES = ['broadcast_selected', 'aired'] as const;
/** An entry that won an award, whether or not it was selected for TV since. */
export const AWARDED_STATUSES = ['awarded', 'broadcast_selected', 'aired'] as const;

export interface EntryFacts {
  schoolId: string;
  countyId: string | null;
  status: string;
}

/**
 * Which entries a user may see: a school its own; a county its own schools' entries once
 * submitted (drafts stay private to the school); the city all; tv only broadcast selections;
 * new media only awarded entries.
 * Judges see entries only through their assignments (judging), never here.
 */
export type EntryScope =
  { kind: 'all' } | { kind: 'school'; schoolId: string } | { kind: 'county'; countyId: string } | { kind: 'broadcast' } | { kind: 'awarded' };

export function entryScope(user: CurrentUser): EntryScope | null {
  switch (user.role) {
    case 'admin':
      return { kind: 'all' };
    case 'school':
      return user.schoolId ? { kind: 'school', schoolId: user.schoolId } : null;
    case 'county':
      return user.countyId ? { kind: 'county', countyId: user.countyId } : null;
    case 'tv':
      return { kind: 'broadcast' };
    case 'newmedia':
      return { kind: 'awarded' };
    default:
      return null;
  }
}

export function canSeeEntry(user: CurrentUser, entry: EntryFacts): boolean {
  const scope = entryScope(user);
  if (!scope) return false;
  switch (scope.kind) {
    case 'all':
      return true;
    case 'school':
      return entry.schoolId === scope.schoolId;
    case 'county':
      return entry.countyId === scope.countyId && entry.status !== 'draft';
    case 'broadcast':
      return (BROADCAST_STATUSES as readonly string[]).includes(entry.status);
    case 'awarded':
      return (AWARDED_STATUSES as readonly string[]).includes(entry.status);
  }
}

/** Object-level: 404 unless the user may see this entry. */
export function assertSeeEntry<T extends EntryFacts>(user: CurrentUser, entry: T | undefined): T {
  if (!entry || !canSeeEntry(user, entry)) throw notFound('作品不存在，或您无权查看。');
  return entry;
}

/** The user is the school this entry belongs to (the one who edits, uploads, submits and withdraws). */
export const isOwnSchool = (user: CurrentUser, schoolId: string): boolean => user.role === 'school' && user.schoolId === schoolId;

/** Only the entry's own school creates, edits, uploads, submits and withdraws. */
export function assertOwnSchoolEntry<T extends EntryFacts>(user: CurrentUser, entry: T | undefined): T {
  const seen = assertSeeEntry(user, entry);
  if (user.role !== 'school') throw forbidden('只有作品所属学校可以进行此操作。');
  return seen;
}
