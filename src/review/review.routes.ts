import type { TodoService } from '../todo/todo.service';
import { requestCampaign } from '../campaign/current-campaign';
import { Router, type Request, type Response } from 'express';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea, canUse } from '../accounts/policy';
import type { CampaignService } from '../campaign/campaign.service';
import { AppError } from '../platform/errors';
import { pageQuery, parse } from '../platform/validate';
import type { EntryService } from '../entries/entry.service';
import { entryViewModel } from '../entries/entry.presenter';
import { entryQuery } from '../entries/entry.contract';
import { auditQuery, forwardedExportQuery } from './review.contract';
import type { EntryStatus } from '../entries/entry.schema';
import { ENTRY_STATUS_LABELS } from '../entries/entry.messages';
import type { EntryView } from '../entries/entry.types';
import { download, XLSX_TYPE } from '../web/download';
import { currentUser, queryString } from '../web/request-context';
import { safeNext } from '../web/navigation';
import { pageLinks } from '../web/view-helpers';
import { FORWARDED_STATES, type ReviewService } from './review.service';
import type { StatsService } from './stats.service';
import { AUDIT_ACTION_LABELS, AUDIT_DETAIL_LABELS, AUDIT_OBJECT_LABELS, forwardConfirmation } from './review.messages';
import { ROLE_LABELS, type Role } from '../accounts/account.types';
import { AWARD_LABELS } from '../judging/judging.messages';
import type { AwardTier } from '../judging/judging.schema';
import { formatBytes } from '../platform/format';
import { confirmStep } from '../web/confirm';

export interface ReviewDeps {
  review: ReviewService;
  stats: StatsService;
  entries: EntryService;
  campaign: CampaignService;
  todo: TodoService;
}

const TABS: Record<string, { label: string; statuses: readonly EntryStatus[] }> = {
  submitted: { label: '待审核', statuses: ['submitted'] },
  forwarded: { label: '已报送', statuses: FORWARDED_STATES },
  returned: { label: '已退回', statuses: ['returned'] },
};

async function sendXlsx(deps: ReviewDeps, req: Request, res: Response) {
  const user = currentUser(req);
  assertArea(user, 'review');
  const campaign = await deps.campaign.get(requestCampaign(req).id);
  const dl = download(res, { fileName: '报送作品清单.xlsx', asciiName: 'forwarded.xlsx', contentType: XLSX_TYPE });
  await deps.review.writeForwardedXlsx(user, campaign, parse(forwardedExportQuery, req.query), dl.stream);
}

export function reviewApi(deps: ReviewDeps): Router {
  const router = Router();
  router.post('/entries/:id/return', async (req, res) => {
    res.json(await deps.review.returnEntry(currentUser(req), req.params.id, req.body));
  });
  router.post('/entries/:id/forward', async (req, res) => {
    res.json(await deps.review.forward(currentUser(req), req.params.id, req.body));
  });
  router.post('/entries/:id/recall', async (req, res) => {
    res.json(await deps.review.recall(currentUser(req), req.params.id, req.body));
  });
  router.post('/entries/:id/rank', async (req, res) => {
    res.json(await deps.review.rank(currentUser(req), req.params.id, req.body));
  });
  router.get('/periods/:id/quotas', async (req, res) => {
    res.json(await deps.review.quotaOverview(currentUser(req), req.params.id, requestCampaign(req).id));
  });
  router.put('/periods/:id/quotas/:countyId', async (req, res) => {
    res.json(await deps.review.setCountyQuota(currentUser(req), req.params.id, req.params.countyId, req.body));
  });
  router.get('/stats', async (req, res) => {
    res.json(await deps.stats.get(currentUser(req), requestCampaign(req).id));
  });
  router.get('/exports/forwarded.xlsx', (req, res) => sendXlsx(deps, req, res));
  router.get('/audit', async (req, res) => {
    res.json(await deps.review.auditLog(currentUser(req), parse(auditQuery, req.query), pageQuery(req.query as Record<string, unknown>)));
  });
  return router;
}

/** What a reviewer sees and can do on an entry's page (null for everyone else). */
export async function reviewPanel(deps: ReviewDeps, user: CurrentUser, entry: EntryView) {
  if (!canUse(user, 'review')) return null;
  // The periods of the entry's own campaign, whichever campaign the reviewer is looking at.
  const periods = await deps.campaign.listPeriods(entry.campaignId);
  const now = Date.now();
  const open = periods.filter((p) => p.forwardBy.getTime() > now);
  const periodId = entry.periodId ?? open[0]?.id;
  const quota = user.role === 'county' && user.countyId && periodId ? await deps.review.quotaFor(periodId, user.countyId) : null;
  const recallQuota =
    user.role === 'county' && user.countyId && entry.status === 'forwarded' && entry.periodId
      ? await deps.review.quotaFor(entry.periodId, user.countyId)
      : null;
  return {
    canReturn: entry.status === 'submitted' || (user.role === 'admin' && entry.status === 'forwarded'),
    canRecall: Boolean(recallQuota?.open),
    forwardConfirm: quota ? forwardConfirmation(quota) : null,
    canForward: user.role === 'county' && entry.status === 'submitted',
    canRank: user.role === 'county' && entry.status === 'forwarded',
    periods: open.map((p) => ({ id: p.id, name: p.name, selected: p.id === periodId })),
    quota,
    full: quota ? quota.used >= quota.quota : false,
  };
}

export function reviewPages(deps: ReviewDeps): Router {
  const router = Router();

  /** After a review action: back where the reviewer came from (same-site only). */
  const back = (req: Request, fallback: string) => safeNext((req.body as Record<string, unknown>)?.next ?? fallback);

  router.get('/review', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'review');
    const tabKey = queryString(req, 'tab', 16) ?? (user.role === 'admin' ? 'forwarded' : 'submitted');
    const tab = TABS[tabKey] ?? TABS.submitted;
    const campaign = await deps.campaign.get(requestCampaign(req).id);
    const periods = campaign.periods;
    const periodId =
      queryString(req, 'periodId', 64) ??
      (tabKey === 'forwarded' ? (periods.find((p) => p.forwardBy.getTime() > Date.now())?.id ?? periods[0]?.id) : undefined);
    const query = parse(entryQuery, req.query);
    const filter = {
      ...query,
      campaignId: campaign.id,
      status: undefined,
      statuses: tab.statuses,
      periodId,
      sort: query.sort ?? (tabKey === 'forwarded' ? 'rank' : 'submitted'),
    };
    const result = await deps.entries.list(user, filter, pageQuery(req.query as Record<string, unknown>, 20));
    const quotas = periodId ? await deps.review.quotaOverview(user, periodId, campaign.id) : [];
    const counts = await deps.todo.worklistCounts(user, Object.fromEntries(Object.entries(TABS).map(([key, t]) => [key, t.statuses])), campaign.id, periodId);
    const { schools, counties } = await deps.review.worklistChoices(user);
    res.render('review/worklist', {
      title: user.role === 'admin' ? '报送作品（市级）' : '作品审核',
      tabs: Object.entries(TABS).map(([key, t]) => ({
        key,
        label: t.label,
        count: counts[key] ?? 0,
        active: key === tabKey,
        href: `/review?tab=${key}${periodId ? `&periodId=${encodeURIComponent(periodId)}` : ''}`,
      })),
      tabKey,
      // The filters fold away (phones); they open by themselves when one is in use.
      activeFilters: ['countyId', 'schoolId', 'songId', 'form', 'level', 'qcVerdict', 'sort'].filter((k) => queryString(req, k, 64)).length,
      entries: result.items.map((e) => entryViewModel(e, campaign)),
      filter: {
        ...filter,
        periodId: periodId ?? '',
        countyId: queryString(req, 'countyId', 64) ?? '',
        schoolId: queryString(req, 'schoolId', 64) ?? '',
        songId: queryString(req, 'songId', 64) ?? '',
        qcVerdict: filter.qcVerdict ?? '',
        form: filter.form ?? '',
        level: filter.level ?? '',
        sort: filter.sort,
      },
      periods,
      songs: campaign.songs,
      forms: campaign.forms,
      levels: campaign.levels,
      schools,
      counties,
      quotas,
      isCounty: user.role === 'county',
      isAdmin: user.role === 'admin',
      exportHref: `/api/v1/exports/forwarded.xlsx?periodId=${encodeURIComponent(periodId ?? '')}`,
      returnTo: req.originalUrl,
      pagination: pageLinks('/review', req.query as Record<string, unknown>, result.page, result.pageSize, result.total),
    });
  });

  router.post('/entries/:id/return', async (req, res) => {
    try {
      await deps.review.returnEntry(currentUser(req), req.params.id, req.body);
      res.redirect(303, withMsg(back(req, `/entries/${req.params.id}`), 'entry_returned'));
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') return res.redirect(303, withMsg(`/entries/${req.params.id}`, 'reason_required'));
      throw err;
    }
  });

  router.post('/entries/:id/forward', async (req, res) => {
    const user = currentUser(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (user.role === 'county' && user.countyId) {
      // Say what it spends before it is spent: the quota of the period the form chose.
      const entry = await deps.entries.get(user, req.params.id);
      const periodId = (typeof body.periodId === 'string' && body.periodId) || entry.periodId || (await firstOpenPeriod(deps));
      if (periodId && entry.status === 'submitted') {
        const use = await deps.review.quotaFor(periodId, user.countyId);
        if (use.open && use.used < use.quota && !confirmStep(req, res, { ...forwardConfirmation(use), cancelHref: back(req, `/entries/${entry.id}`) })) return;
      }
    }
    await deps.review.forward(user, req.params.id, body);
    res.redirect(303, withMsg(back(req, `/entries/${req.params.id}`), 'entry_forwarded_city'));
  });

  router.post('/entries/:id/recall', async (req, res) => {
    try {
      await deps.review.recall(currentUser(req), req.params.id, req.body);
      res.redirect(303, withMsg(`/entries/${req.params.id}`, 'entry_recalled'));
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') return res.redirect(303, withMsg(`/entries/${req.params.id}`, 'recall_reason_required'));
      throw err;
    }
  });

  router.post('/entries/:id/rank', async (req, res) => {
    await deps.review.rank(currentUser(req), req.params.id, req.body);
    res.redirect(303, withMsg(back(req, '/review?tab=forwarded'), 'rank_updated'));
  });

  router.post('/campaign/periods/:id/quotas', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const countyId = typeof body.countyId === 'string' ? body.countyId : '';
    await deps.review.setCountyQuota(currentUser(req), req.params.id, countyId, { quota: body.quota === '' ? null : body.quota });
    res.redirect(303, '/campaign?msg=quota_updated');
  });

  router.get('/stats', async (req, res) => {
    const stats = await deps.stats.get(currentUser(req), requestCampaign(req).id);
    const statuses = Object.keys(ENTRY_STATUS_LABELS) as EntryStatus[];
    res.render('review/stats', {
      title: '报送统计',
      stats,
      statusColumns: statuses.map((s) => ({ code: s, label: ENTRY_STATUS_LABELS[s] })),
      countyRows: stats.byCountyStatus.map((r) => ({ ...r, cells: statuses.map((s) => r.byStatus[s] ?? 0) })),
      songChart: barChart(stats.bySong.map((s) => ({ label: s.designated ? `《${s.title}》` : s.title, value: s.count }))),
      formChart: barChart(stats.byForm.map((s) => ({ label: s.label, value: s.count }))),
      levelChart: barChart(stats.byLevel.map((s) => ({ label: s.label, value: s.count }))),
      countyChart: barChart(stats.byCountyStatus.map((s) => ({ label: s.countyName, value: s.total }))),
    });
  });

  router.get('/audit', async (req, res) => {
    const result = await deps.review.auditLog(currentUser(req), parse(auditQuery, req.query), pageQuery(req.query as Record<string, unknown>, 50));
    res.render('review/audit', {
      title: '操作日志',
      items: result.items.map(auditRow),
      actions: Object.entries(AUDIT_ACTION_LABELS).map(([code, label]) => ({ code, label })),
      filter: { action: queryString(req, 'action', 64) ?? '', objectId: queryString(req, 'objectId', 64) ?? '' },
      pagination: pageLinks('/audit', req.query as Record<string, unknown>, result.page, result.pageSize, result.total),
    });
  });

  return router;
}

/** One audit row as a sentence: who did what to which object, the change and the details in Chinese. */
function auditRow(i: Awaited<ReturnType<ReviewService['auditLog']>>['items'][number]) {
  const state = (s: string | null) => (s ? (ENTRY_STATUS_LABELS[s as EntryStatus] ?? ROUND_STATES[s] ?? s) : '');
  const detail = (i.detail ?? {}) as Record<string, unknown>;
  const facts = Object.entries(detail)
    .filter(([k, v]) => AUDIT_DETAIL_LABELS[k] && v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${AUDIT_DETAIL_LABELS[k]}：${detailValue(k, v)}`);
  return {
    at: i.at,
    actorName: i.actorName,
    actionLabel: AUDIT_ACTION_LABELS[i.action] ?? '其他操作',
    objectLabel: AUDIT_OBJECT_LABELS[i.objectType] ?? '',
    objectName: i.objectName ?? (i.objectId === '*' ? '（多个）' : ''),
    entryId: i.objectType === 'entry' ? i.objectId : null,
    change: i.from || i.to ? `${state(i.from)}${i.from && i.to ? ' → ' : ''}${state(i.to)}` : '',
    reason: i.reason,
    detailText: facts.join('；'),
  };
}

const ROUND_STATES: Record<string, string> = { draft: '草稿', open: '评审中', closed: '已结束' };

function detailValue(key: string, v: unknown): string {
  if (key === 'role') return ROLE_LABELS[v as Role] ?? String(v);
  if (key === 'award') return AWARD_LABELS[v as AwardTier] ?? String(v);
  if (key === 'sizeBytes' && typeof v === 'number') return formatBytes(v);
  if (typeof v === 'boolean') return v ? '是' : '否';
  return String(v);
}

async function firstOpenPeriod(deps: ReviewDeps): Promise<string | undefined> {
  const now = Date.now();
  return (await deps.campaign.listPeriods()).find((p) => p.forwardBy.getTime() > now)?.id;
}

function withMsg(url: string, msg: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}msg=${msg}`;
}

/**
 * A horizontal bar chart as data for the view: the template draws it as inline SVG (no script,
 * no external library). Widths are percentages of the largest value.
 */
export function barChart(rows: Array<{ label: string; value: number }>) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const rowHeight = 30;
  const maxBar = 360; // px of a 600-wide viewBox: labels left of x=170, bars from x=180
  return {
    height: Math.max(1, rows.length) * rowHeight + 4,
    bars: rows.map((r, i) => {
      const width = Math.round((r.value / max) * maxBar);
      return {
        label: r.label.length > 14 ? r.label.slice(0, 13) + '…' : r.label,
        value: r.value,
        y: i * rowHeight + 4,
        textY: i * rowHeight + 20,
        width,
        valueX: 186 + width,
      };
    }),
  };
}
