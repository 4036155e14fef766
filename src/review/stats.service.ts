import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import type { Db } from '../platform/db/database';
import * as repo from './stats.repository';

/**
 * Participation picture for the city (everything) and for a county (its own numbers):
 * entries by county × status, by song, by form, by level, and the schools with no entry yet.
 * Drafts count as entries here: a school that has started one has begun participating.
 */
export interface Stats {
  scope: { countyId: string | null };
  totals: { entries: number; schools: number; schoolsWithoutEntries: number };
  byCountyStatus: Array<{ countyId: string | null; countyName: string; byStatus: Record<string, number>; total: number }>;
  bySong: Array<{ songId: string | null; title: string; designated: boolean; count: number }>;
  byForm: Array<{ code: string; label: string; count: number }>;
  byLevel: Array<{ code: string; label: string; count: number }>;
  schoolsWithoutEntries: Array<{ countyId: string | null; countyName: string; schools: Array<{ id: string; name: string }> }>;
}

/** At most this many schools are listed per county (the count is always complete). */
const MAX_LISTED_SCHOOLS = 500;

export function createStatsService(db: Db) {
  return {
    /** One campaign's participation (the request's campaign). */
    async get(actor: CurrentUser, campaignId: string): Promise<Stats> {
      assertArea(actor, 'stats');
      const countyId = actor.role === 'county' ? actor.countyId : null;
      const { counties, byCountyStatus, bySong, byForm, byLevel, schoolCount, without } = await repo.statsRows(db, campaignId, countyId);

      const countyName = (id: string | null) => (id === null ? '市直学校' : (counties.find((c) => c.id === id)?.name ?? id));
      const countyRows = new Map<string | null, { countyId: string | null; countyName: string; byStatus: Record<string, number>; total: number }>();
      const order = countyId ? [countyId] : [null, ...counties.map((c) => c.id)];
      for (const id of order) countyRows.set(id, { countyId: id, countyName: countyName(id), byStatus: {}, total: 0 });
      for (const r of byCountyStatus) {
        const row = countyRows.get(r.county_id) ?? { countyId: r.county_id, countyName: countyName(r.county_id), byStatus: {}, total: 0 };
        row.byStatus[r.status] = Number(r.n);
        row.total += Number(r.n);
        countyRows.set(r.county_id, row);
      }

      const grouped = new Map<string | null, { countyId: string | null; countyName: string; schools: Array<{ id: string; name: string }>; count: number }>();
      for (const s of without) {
        const g = grouped.get(s.county_id) ?? { countyId: s.county_id, countyName: countyName(s.county_id), schools: [], count: 0 };
        g.count++;
        if (g.schools.length < MAX_LISTED_SCHOOLS) g.schools.push({ id: s.id, name: s.name });
        grouped.set(s.county_id, g);
      }

      const total = byCountyStatus.reduce((a, r) => a + Number(r.n), 0);
      return {
        scope: { countyId },
        totals: { entries: total, schools: Number(schoolCount.n), schoolsWithoutEntries: without.length },
        byCountyStatus: [...countyRows.values()],
        bySong: bySong.map((r) => ({
          songId: r.song_id,
          title: r.song_id ? (r.title ?? '') : '自选歌曲',
          designated: Boolean(r.designated),
          count: Number(r.n),
        })),
        byForm: byForm.map((r) => ({ code: r.code, label: r.label, count: Number(r.n) })),
        byLevel: byLevel.map((r) => ({ code: r.code, label: r.label, count: Number(r.n) })),
        schoolsWithoutEntries: [...grouped.values()].map(({ countyId: id, countyName: name, schools }) => ({ countyId: id, countyName: name, schools })),
      };
    },
  };
}

export type StatsService = ReturnType<typeof createStatsService>;
