import type { Transaction } from 'kysely';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, assertSeeEntry } from '../accounts/policy';
import type { Writable } from 'node:stream';
import { listAudit, recordAudit, type AuditFilter } from '../platform/audit';
import type { Campaign } from '../campaign/campaign.service';
import { writeForwardedXlsx } from './forwarded-export';
import * as repo from './review.repository';
import type { Db } from '../platform/db/database';
import type { DB } from '../platform/db/schema';
import { AppError, forbidden, invalidState, notFound, validationFailed } from '../platform/errors';
import { parse, type PageQuery } from '../platform/validate';
import { forwardInput, quotaInput, rankInput, recallInput, returnInput } from './review.contract';
import { FORWARD_CLOSED_RECALL, NOT_RECALLABLE } from './review.messages';
import type { EntryService } from '../entries/entry.service';
import { transitionEntry } from '../entries/entry-transition';
import type { EntryStatus } from '../entries/entry.schema';
import type { EntryView } from '../entries/entry.types';
import { PERIOD_NOT_FOUND } from '../campaign/campaign.messages';
import { notify } from '../notifications/notify';
import { FORWARDED_MESSAGE, RETURNED_MESSAGE } from './review.messages';
import { assertConsentForForwarding } from '../consent/consent.gate';

/**
 * County review: a county bureau returns its schools' submitted entries with a reason, or
 * forwards them to the city within its quota for a period, in ranked order (reorderable until
 * the period's forwarding deadline). The city may return entries too (also 市直 ones).
 *
 * Quota safety: every forward or reorder of a county locks that county's row first, so two
 * reviewers forwarding at once are serialised and the count they check is the count they commit.
 */

/** States that count as "forwarded by the county" for quotas and ranked lists. */
export const FORWARDED_STATES: readonly EntryStatus[] = ['forwarded', 'in_judging', 'shortlisted', 'not_selected', 'awarded', 'broadcast_selected', 'aired'];

export const quotaExceeded = (used: number, quota: number) =>
  new AppError(409, 'quota_exceeded', '报送名额已满', `本期报送名额已用完（已报送 ${used} / ${quota}）。如需更换，请先把已报送的作品退回后再报送。`);

export interface QuotaUse {
  periodId: string;
  countyId: string;
  quota: number;
  used: number;
  forwardBy: Date;
  open: boolean;
}

export function createReviewService(db: Db, deps: { entries: EntryService; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function quotaFor(q: Db | Transaction<DB>, periodId: string, countyId: string): Promise<QuotaUse> {
    const period = await repo.findPeriod(q, periodId);
    if (!period) throw validationFailed([{ field: 'periodId', message: '报送期不存在' }]);
    const override = await repo.quotaOverride(q, periodId, countyId);
    const used = await repo.countInStates(q, periodId, countyId, FORWARDED_STATES);
    const forwardBy = new Date(period.forward_by);
    return { periodId, countyId, quota: override ?? period.quota, used, forwardBy, open: forwardBy > now() };
  }

  /** The county's forwarded entries in a period, by rank. */
  const rankedIds = (trx: Transaction<DB>, periodId: string, countyId: string, exceptId?: string) =>
    repo.rankedIds(trx, periodId, countyId, FORWARDED_STATES, exceptId);
  const { writeRanks, lockCounty } = repo;

  function assertReviewer(actor: CurrentUser, entry: { countyId: string | null; status: string; schoolId: string } | undefined) {
    assertSeeEntry(actor, entry);
    if (actor.role !== 'county' && actor.role !== 'admin') throw forbidden('只有县区教育局或市教育局可以审核作品。');
  }

  return {
    /** The audit log of every action (the city only). */
    async auditLog(actor: CurrentUser, filter: AuditFilter, page: PageQuery) {
      assertArea(actor, 'audit');
      return listAudit(db, filter, page);
    },

    /** 报送作品清单 (XLSX) of the entries the actor may see, streamed to `out`. */
    async writeForwardedXlsx(actor: CurrentUser, campaign: Campaign, filter: { periodId?: string; countyId?: string }, out: Writable): Promise<void> {
      assertArea(actor, 'review');
      await writeForwardedXlsx(db, actor, campaign, filter, out);
    },

    /** The filter choices of the worklist: a county's own schools, or every county for the city. */
    async worklistChoices(actor: CurrentUser): Promise<{ schools: Array<{ id: string; name: string }>; counties: Array<{ id: string; name: string }> }> {
      assertArea(actor, 'review');
      const [schools, counties] = await Promise.all([
        actor.role === 'county' && actor.countyId ? repo.countySchools(db, actor.countyId, 500) : [],
        actor.role === 'admin' ? repo.listCounties(db) : [],
      ]);
      return { schools, counties };
    },

    quotaFor: (periodId: string, countyId: string) => quotaFor(db, periodId, countyId),

    /** Return with a reason: county (its own submitted entries) or city (submitted or forwarded). */
    async returnEntry(actor: CurrentUser, id: string, body: unknown): Promise<EntryView> {
      assertArea(actor, 'review');
      const entry = await deps.entries.load(id);
      assertReviewer(actor, entry);
      const { reason } = parse(returnInput, body);
      const from: EntryStatus[] = actor.role === 'admin' ? ['submitted', 'forwarded'] : ['submitted'];
      await transitionEntry(db, actor, id, {
        action: 'entry.return',
        from,
        refusal: (s) =>
          s === 'returned' ? '作品已经退回了。' : s === 'forwarded' ? '作品已报送市教育局，县区不能再退回；如需退回请联系市教育局。' : '当前状态不能退回。',
        to: async (trx, e) => {
          if (e.status === 'forwarded' && e.county_id && e.period_id) await lockCounty(trx, e.county_id);
          return { status: 'returned', reason, patch: { return_reason: reason, forward_rank: null, forwarded_at: null } };
        },
        after: async (trx, e) => {
          if (e.status === 'forwarded' && e.county_id && e.period_id) await writeRanks(trx, await rankedIds(trx, e.period_id, e.county_id, e.id));
          // The school is told why; when the city returns a forwarded entry, its county hears too.
          await notify(trx, {
            kind: 'entry.returned',
            recipients: { schoolId: e.school_id, ...(actor.role === 'admin' && e.county_id && { countyId: e.county_id }) },
            ...RETURNED_MESSAGE(e.title, reason),
            link: `/entries/${e.id}`,
            entryId: e.id,
          });
        },
      });
      return deps.entries.view(id);
    },

    /** Forward to the city within the county's quota, at a rank (default: last). */
    async forward(actor: CurrentUser, id: string, body: unknown): Promise<EntryView> {
      assertArea(actor, 'review');
      if (actor.role !== 'county' || !actor.countyId) throw forbidden('只有县区教育局可以向市教育局报送作品。');
      const entry = await deps.entries.load(id);
      assertReviewer(actor, entry);
      const input = parse(forwardInput, body);
      await transitionEntry(db, actor, id, {
        action: 'entry.forward',
        from: ['submitted'],
        refusal: (s) =>
          FORWARDED_STATES.includes(s) ? '作品已经报送过了。' : s === 'returned' ? '作品已退回学校，需学校修改后重新提交。' : '当前状态不能报送。',
        to: async (trx, e) => {
          const periodId = input.periodId ?? e.period_id;
          if (!periodId) throw validationFailed([{ field: 'periodId', message: '请选择报送期' }]);
          await assertConsentForForwarding(trx, e);
          await lockCounty(trx, actor.countyId!);
          const use = await quotaFor(trx, periodId, actor.countyId!);
          if (!use.open) throw invalidState('本期县区报送已截止，不能再报送。');
          if (use.used >= use.quota) throw quotaExceeded(use.used, use.quota);
          return { status: 'forwarded', patch: { period_id: periodId, forwarded_at: now(), forward_rank: null }, detail: { periodId } };
        },
        after: async (trx, e) => {
          const periodId = input.periodId ?? e.period_id!;
          const ids = await rankedIds(trx, periodId, actor.countyId!, e.id);
          const at = Math.min(Math.max(1, input.rank ?? ids.length + 1), ids.length + 1);
          ids.splice(at - 1, 0, e.id);
          await writeRanks(trx, ids);
          await notify(trx, {
            kind: 'entry.forwarded',
            recipients: { schoolId: e.school_id, roles: ['admin'] },
            ...FORWARDED_MESSAGE(e.title),
            link: `/entries/${e.id}`,
            entryId: e.id,
          });
        },
      });
      return deps.entries.view(id);
    },

    /**
     * Take back a forwarded entry (county, before the period's forwarding deadline, while the city
     * has not taken it into judging): back to 待审核, its quota place freed, the ranks closed up.
     */
    async recall(actor: CurrentUser, id: string, body: unknown): Promise<EntryView> {
      assertArea(actor, 'review');
      if (actor.role !== 'county' || !actor.countyId) throw forbidden('只有县区教育局可以撤回本县区已报送的作品。');
      const entry = await deps.entries.load(id);
      assertReviewer(actor, entry);
      const { reason } = parse(recallInput, body);
      await transitionEntry(db, actor, id, {
        action: 'entry.recall',
        from: ['forwarded'],
        refusal: NOT_RECALLABLE,
        to: async (trx, e) => {
          await lockCounty(trx, actor.countyId!);
          if (!e.period_id) throw invalidState(FORWARD_CLOSED_RECALL);
          const use = await quotaFor(trx, e.period_id, actor.countyId!);
          if (!use.open) throw invalidState(FORWARD_CLOSED_RECALL);
          return { status: 'submitted', reason, patch: { forward_rank: null, forwarded_at: null }, detail: { periodId: e.period_id } };
        },
        after: async (trx, e) => {
          await writeRanks(trx, await rankedIds(trx, e.period_id!, actor.countyId!, e.id));
        },
      });
      return deps.entries.view(id);
    },

    /** Move a forwarded entry within the county's ranked list (until the forwarding deadline). */
    async rank(actor: CurrentUser, id: string, body: unknown): Promise<EntryView> {
      assertArea(actor, 'review');
      if (actor.role !== 'county' || !actor.countyId) throw forbidden('只有县区教育局可以调整报送排序。');
      const entry = await deps.entries.load(id);
      assertReviewer(actor, entry);
      const { rank } = parse(rankInput, body);
      await db.transaction().execute(async (trx) => {
        await lockCounty(trx, actor.countyId!);
        const e = await repo.findEntryForRank(trx, id);
        if (!e || e.status !== 'forwarded' || !e.period_id) throw invalidState('只有已报送、尚未进入评审的作品可以调整排序。');
        const use = await quotaFor(trx, e.period_id, actor.countyId!);
        if (!use.open) throw invalidState('本期县区报送已截止，不能再调整排序。');
        const ids = await rankedIds(trx, e.period_id, actor.countyId!, id);
        const at = Math.min(Math.max(1, rank), ids.length + 1);
        ids.splice(at - 1, 0, id);
        await writeRanks(trx, ids);
        await recordAudit(trx, { actor, action: 'entry.rank', objectType: 'entry', objectId: id, from: String(e.forward_rank ?? ''), to: String(at) });
      });
      return deps.entries.view(id);
    },

    /** The city overrides one county's quota for a period. */
    async setCountyQuota(actor: CurrentUser, periodId: string, countyId: string, body: unknown): Promise<QuotaUse> {
      assertArea(actor, 'periods');
      const { quota } = parse(quotaInput, body);
      if (!(await repo.countyExists(db, countyId))) throw notFound('县区不存在。');
      const period = await repo.findPeriod(db, periodId);
      if (!period) throw notFound(PERIOD_NOT_FOUND);
      await db.transaction().execute(async (trx) => {
        const before = await repo.quotaOverride(trx, periodId, countyId);
        await repo.setQuotaOverride(trx, periodId, countyId, quota);
        await recordAudit(trx, {
          actor,
          action: 'period.quota',
          objectType: 'period',
          objectId: periodId,
          from: String(before ?? period.quota),
          to: String(quota ?? period.quota),
          detail: { countyId, override: quota },
        });
      });
      return quotaFor(db, periodId, countyId);
    },

    /** Quota use of every county in a period (the city's overview). */
    async quotaOverview(actor: CurrentUser, periodId: string, campaignId: string) {
      assertArea(actor, 'review');
      const period = await repo.findPeriod(db, periodId);
      // Another campaign's period is not found here: a campaign boundary is an authorization boundary.
      if (!period || period.campaign_id !== campaignId) throw notFound(PERIOD_NOT_FOUND);
      const [counties, overrides, counts] = await Promise.all([
        repo.listCounties(db),
        repo.quotaOverrides(db, periodId),
        repo.countsByCounty(db, periodId, FORWARDED_STATES),
      ]);
      const visible = actor.role === 'county' ? counties.filter((c) => c.id === actor.countyId) : counties;
      return visible.map((c) => ({
        countyId: c.id,
        countyName: c.name,
        quota: overrides.find((o) => o.county_id === c.id)?.quota ?? period.quota,
        overridden: overrides.some((o) => o.county_id === c.id),
        used: Number(counts.find((r) => r.county_id === c.id)?.n ?? 0),
      }));
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
