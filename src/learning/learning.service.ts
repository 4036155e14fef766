import type { CurrentUser } from '../accounts/account.types';
import { assertArea, canUse } from '../accounts/policy';
import { activeAccountsOf } from '../accounts/user.repository';
import { listCampaigns, openCampaignRow } from '../campaign/campaign.repository';
import { recordAudit } from '../platform/audit';
import { beijingDay } from '../platform/format';
import type { Db } from '../platform/db/database';
import { forbidden, invalidState, notFound, validationFailed, type FieldError } from '../platform/errors';
import { parse, type PageQuery } from '../platform/validate';
import { notify } from '../notifications/notify';
import { learningDeadlineInput, learningReportInput } from './learning.contract';
import { LEARNING_MESSAGES as M } from './learning.messages';
import * as repo from './learning.repository';

/**
 * 人人会唱 (issue 20): each school reports, per designated song, how many of its teachers can sing
 * it and how many classes sing it in 课前一歌; the county and the city see the coverage.
 * Each report is kept; the latest counts. Learning data is per campaign: the one open for submissions (learningCampaignId).
 */

/** Reminders start this many days before the deadline. */
export const REMINDER_WINDOW_DAYS = 14;
/** How many report days the trend shows. */
const TREND_DAYS = 90;
const HISTORY_SHOWN = 20;

export interface SongCoverage {
  songId: string;
  title: string;
  teachersLearned: number;
  classesSinging: number;
  /** learned ÷ teachers in %, one decimal; null when nobody reported (not 0 %) */
  teacherShare: number | null;
  classShare: number | null;
}

export interface CoverageGroup {
  schools: number;
  reported: number;
  notReported: number;
  teachers: number;
  classes: number;
  songs: SongCoverage[];
}

export interface SchoolCoverage {
  schoolId: string;
  name: string;
  countyId: string | null;
  countyName: string;
  reported: boolean;
  reportedAt: Date | null;
  teachers: number | null;
  classes: number | null;
  note: string | null;
  songs: SongCoverage[];
}

export interface LearningStats {
  scope: { countyId: string | null };
  campaignId: string;
  deadline: string;
  songs: Array<{ id: string; title: string }>;
  totals: CoverageGroup;
  counties: Array<CoverageGroup & { countyId: string | null; countyName: string }>;
  schools: { items: SchoolCoverage[]; page: number; pageSize: number; total: number };
  trend: Array<{ day: string; schools: number; teacherShare: number | null; classShare: number | null }>;
}

export const pct = (part: number, whole: number): number | null => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : null);

/** 30 June of the campaign's year: the first 30 June on or after the day the campaign was created (Beijing). */
export function defaultDeadline(createdAt: Date): string {
  const beijing = new Date(createdAt.getTime() + 8 * 3600_000);
  const year = beijing.getUTCFullYear();
  const mmdd = beijing.toISOString().slice(5, 10);
  return `${mmdd > '06-30' ? year + 1 : year}-06-30`;
}

/** The end of a Beijing calendar day as a moment. */
export const endOfBeijingDay = (day: string): Date => new Date(`${day}T23:59:59.999+08:00`);

export function createLearningService(db: Db) {
  /**
   * The campaign learning progress belongs to: the one open for submissions (whose five songs the
   * schools are learning now), else the newest. Reports and coverage are that campaign's.
   */
  async function learningCampaignId(): Promise<string> {
    const open = await openCampaignRow(db);
    if (open) return open.id;
    const [newest] = await listCampaigns(db);
    if (!newest) throw new Error('no campaign exists');
    return newest.id;
  }

  async function deadline(): Promise<{ deadline: string; isDefault: boolean; closesAt: Date }> {
    const campaignId = await learningCampaignId();
    const row = await repo.findSettings(db, campaignId);
    const day = row?.deadline ?? defaultDeadline(await repo.campaignCreatedAt(db, campaignId));
    return { deadline: day, isDefault: !row, closesAt: endOfBeijingDay(day) };
  }

  /** The school, if the user may read its learning data (404 otherwise; 403 for roles that never may). */
  async function readableSchool(actor: CurrentUser, schoolId: string) {
    if (!canUse(actor, 'learningReport') && !canUse(actor, 'learningStats')) throw forbidden();
    const school = await repo.findSchool(db, schoolId);
    const ok =
      school &&
      (actor.role === 'admin' ||
        (actor.role === 'county' && actor.countyId !== null && school.county_id === actor.countyId) ||
        (actor.role === 'school' && actor.schoolId === school.id));
    if (!ok) throw notFound(M.schoolNotFound);
    return school;
  }

  function songCoverage(
    songs: Array<{ id: string; title: string }>,
    rows: Array<{ song_id: string; teachers_learned: number | string; classes_singing: number | string }>,
    teachers: number,
    classes: number,
    reported: boolean,
  ): SongCoverage[] {
    return songs.map((s) => {
      const r = rows.find((x) => x.song_id === s.id);
      const tl = Number(r?.teachers_learned ?? 0);
      const cs = Number(r?.classes_singing ?? 0);
      return {
        songId: s.id,
        title: s.title,
        teachersLearned: tl,
        classesSinging: cs,
        teacherShare: reported ? pct(tl, teachers) : null,
        classShare: reported ? pct(cs, classes) : null,
      };
    });
  }

  async function schoolView(actor: CurrentUser, schoolId: string) {
    const campaignId = await learningCampaignId();
    const school = await readableSchool(actor, schoolId);
    const [songs, { reports, songs: songRows, total }, dl] = await Promise.all([
      repo.designatedSongs(db, campaignId),
      repo.reportsOfSchool(db, campaignId, schoolId, HISTORY_SHOWN),
      deadline(),
    ]);
    const view = (r: (typeof reports)[number]) => ({
      id: r.id,
      reportedAt: new Date(r.reported_at),
      reportedBy: r.reporter ?? null,
      teachers: r.teachers,
      classes: r.classes,
      note: r.note,
      songs: songCoverage(
        songs,
        songRows.filter((x) => x.report_id === r.id),
        r.teachers,
        r.classes,
        true,
      ),
    });
    return {
      school: { id: school.id, name: school.name, countyId: school.county_id, countyName: school.county_name ?? '市直学校' },
      campaignId,
      deadline: dl.deadline,
      open: Date.now() <= dl.closesAt.getTime(),
      songs,
      latest: reports[0] ? view(reports[0]) : null,
      history: reports.map(view),
      historyTotal: total,
    };
  }

  return {
    deadline,
    learningCampaignId,
    counties: () => repo.listCounties(db),
    /** The deadline, for the roles that report or read coverage. */
    async readDeadline(actor: CurrentUser) {
      if (!canUse(actor, 'learningReport') && !canUse(actor, 'learningStats') && !canUse(actor, 'learningSettings')) throw forbidden();
      return deadline();
    },
    getSchool: schoolView,

    async setDeadline(actor: CurrentUser, body: unknown) {
      assertArea(actor, 'learningSettings');
      const input = parse(learningDeadlineInput, body);
      const before = await deadline();
      const campaignId = await learningCampaignId();
      await db.transaction().execute(async (trx) => {
        await repo.upsertDeadline(trx, campaignId, input.deadline);
        await recordAudit(trx, {
          actor,
          action: 'learning.deadline',
          objectType: 'campaign',
          objectId: campaignId,
          from: before.deadline,
          to: input.deadline,
        });
      });
      return deadline();
    },

    async report(actor: CurrentUser, schoolId: string, body: unknown) {
      const school = await readableSchool(actor, schoolId);
      if (actor.role !== 'school') throw forbidden(M.onlyOwnSchool);
      const campaignId = await learningCampaignId();
      const dl = await deadline();
      const input = parse(learningReportInput, body);
      const designated = await repo.designatedSongs(db, campaignId);
      const errors: FieldError[] = [];
      const seen = new Set<string>();
      input.songs.forEach((s, i) => {
        const song = designated.find((d) => d.id === s.songId);
        if (!song) errors.push({ field: `songs[${i}].songId`, message: '不是本次活动的指定歌曲' });
        else if (seen.has(s.songId)) errors.push({ field: `songs[${i}].songId`, message: `《${song.title}》填写了两次` });
        seen.add(s.songId);
        const title = song ? `《${song.title}》` : '';
        if (s.teachersLearned > input.teachers)
          errors.push({ field: `songs[${i}].teachersLearned`, message: `${title}会唱教师数（${s.teachersLearned}）不能多于教师总数（${input.teachers}）` });
        if (s.classesSinging > input.classes)
          errors.push({ field: `songs[${i}].classesSinging`, message: `${title}课前一歌班级数（${s.classesSinging}）不能多于班级总数（${input.classes}）` });
      });
      designated.forEach((d) => {
        if (!seen.has(d.id)) errors.push({ field: 'songs', message: `请填写《${d.title}》的学唱情况` });
      });
      if (errors.length) throw validationFailed(errors);
      if (Date.now() > dl.closesAt.getTime()) throw invalidState(M.closed(dl.deadline));
      await db.transaction().execute(async (trx) => {
        const saved = await repo.insertReport(trx, {
          campaignId,
          schoolId: school.id,
          teachers: input.teachers,
          classes: input.classes,
          note: input.note ?? '',
          reportedBy: actor.id,
          songs: input.songs,
        });
        await recordAudit(trx, {
          actor,
          action: 'learning.report',
          objectType: 'school',
          objectId: school.id,
          detail: { reportId: saved.id, teachers: input.teachers, classes: input.classes, songs: input.songs },
        });
      });
      return schoolView(actor, schoolId);
    },

    async stats(actor: CurrentUser, query: { countyId?: string; notReported?: string }, page: PageQuery): Promise<LearningStats> {
      assertArea(actor, 'learningStats');
      const campaignId = await learningCampaignId();
      const scopeCounty = actor.role === 'county' ? actor.countyId : null;
      if (actor.role === 'county' && !scopeCounty) throw forbidden();
      const [songs, counties, totalsRows, dl, trend] = await Promise.all([
        repo.designatedSongs(db, campaignId),
        repo.listCounties(db),
        repo.countyTotals(db, campaignId, scopeCounty),
        deadline(),
        repo.trendRows(db, campaignId, scopeCounty, TREND_DAYS),
      ]);
      const group = (countyIds: Array<string | null> | 'all'): CoverageGroup => {
        const inScope = (id: string | null) => countyIds === 'all' || countyIds.includes(id);
        const counts = totalsRows.schoolCounts.filter((r) => inScope(r.county_id));
        const schools = counts.reduce((a, r) => a + Number(r.schools), 0);
        const reported = counts.reduce((a, r) => a + Number(r.reported), 0);
        const teachers = counts.reduce((a, r) => a + Number(r.teachers), 0);
        const classes = counts.reduce((a, r) => a + Number(r.classes), 0);
        const sums = new Map<string, { song_id: string; teachers_learned: number; classes_singing: number }>();
        for (const r of totalsRows.songTotals.filter((x) => inScope(x.county_id))) {
          const s = sums.get(r.song_id) ?? { song_id: r.song_id, teachers_learned: 0, classes_singing: 0 };
          s.teachers_learned += Number(r.teachers_learned);
          s.classes_singing += Number(r.classes_singing);
          sums.set(r.song_id, s);
        }
        return {
          schools,
          reported,
          notReported: schools - reported,
          teachers,
          classes,
          songs: songCoverage(songs, [...sums.values()], teachers, classes, reported > 0),
        };
      };
      const countyIds: Array<string | null> = scopeCounty ? [scopeCounty] : [null, ...counties.map((c) => c.id)];
      const countyName = (id: string | null) => (id === null ? '市直学校' : (counties.find((c) => c.id === id)?.name ?? id));

      // The school list: a county its own; the city all, or one county (?countyId=, 'city' = 市直).
      const filter: repo.SchoolFilter = { notReported: query.notReported === '1' };
      if (scopeCounty) filter.countyId = scopeCounty;
      else if (query.countyId === 'city') filter.cityDirect = true;
      else if (query.countyId) filter.countyId = query.countyId;
      const list = await repo.schoolPage(db, campaignId, filter, page);
      const items: SchoolCoverage[] = list.rows.map((r) => {
        const reported = r.report_id !== null;
        const teachers = reported ? Number(r.teachers) : null;
        const classes = reported ? Number(r.classes) : null;
        return {
          schoolId: r.id,
          name: r.name,
          countyId: r.county_id,
          countyName: r.county_name ?? '市直学校',
          reported,
          reportedAt: r.reported_at ? new Date(r.reported_at) : null,
          teachers,
          classes,
          note: reported ? (r.note ?? '') : null,
          songs: songCoverage(
            songs,
            list.songs.filter((s) => s.report_id === r.report_id),
            teachers ?? 0,
            classes ?? 0,
            reported,
          ),
        };
      });
      return {
        scope: { countyId: scopeCounty },
        campaignId,
        deadline: dl.deadline,
        songs,
        totals: group(scopeCounty ? [scopeCounty] : 'all'),
        counties: countyIds.map((id) => ({ countyId: id, countyName: countyName(id), ...group([id]) })),
        schools: { items, page: page.page, pageSize: page.pageSize, total: list.total },
        trend: trend.map((t) => ({
          day: t.day,
          schools: Number(t.schools),
          teacherShare: pct(Number(t.teachers_learned), Number(t.teachers) * songs.length),
          classShare: pct(Number(t.classes_singing), Number(t.classes) * songs.length),
        })),
      };
    },

    /**
     * The daily reminder (job learning.remind): within REMINDER_WINDOW_DAYS of the deadline, every
     * school that has not reported or is below 100 % is told once per Beijing day; returns how many schools.
     */
    async remind(now: Date): Promise<{ schools: number; notified: number }> {
      const dl = await deadline();
      const msLeft = dl.closesAt.getTime() - now.getTime();
      if (msLeft < 0 || msLeft > REMINDER_WINDOW_DAYS * 86_400_000) return { schools: 0, notified: 0 };
      const today = beijingDay(now);
      const schools = await repo.schoolsToRemind(db, await learningCampaignId());
      const accounts = await activeAccountsOf(
        db,
        'school',
        schools.map((s) => s.id),
      );
      const notReported = new Set(schools.filter((s) => !s.report_id).map((s) => s.id));
      const idsOf = (pick: (schoolId: string) => boolean) => accounts.filter((a) => pick(a.unit)).map((a) => a.id);
      // Two messages (not reported / below 100 %) to every account of those schools; the day's key
      // makes a second run on the same day a no-op for each of them.
      const notified = await db.transaction().execute(async (trx) => {
        let n = 0;
        const missing = idsOf((id) => notReported.has(id));
        const below = idsOf((id) => !notReported.has(id));
        if (missing.length)
          n += await notify(trx, {
            kind: 'learning.not_reported',
            recipients: { userIds: missing },
            title: M.reminderNotReported(dl.deadline),
            body: M.reminderBody,
            link: '/learning',
            dedupeKey: `learning.remind:${today}`,
          });
        if (below.length)
          n += await notify(trx, {
            kind: 'learning.below_full',
            recipients: { userIds: below },
            title: M.reminderBelow(dl.deadline),
            body: M.reminderBody,
            link: '/learning',
            dedupeKey: `learning.remind:${today}`,
          });
        return n;
      });
      return { schools: schools.length, notified };
    },
  };
}

export type LearningService = ReturnType<typeof createLearningService>;
