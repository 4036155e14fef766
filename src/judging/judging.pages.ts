import { Router, type Request, type Response } from 'express';
import { requestCampaign } from '../campaign/current-campaign';
import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import type { CampaignService } from '../campaign/campaign.service';
import { formatDuration } from '../platform/format';
import { AppError } from '../platform/errors';
import { currentUser } from '../web/request-context';
import { fromLocalInput, pageLinks, toLocalInput } from '../web/view-helpers';
import { pageQuery, parse } from '../platform/validate';
import type { AssignmentStatus, RoundStatus } from './judging.schema';
import type { EntryFlag, JudgeFlag } from './judging.types';
import type { ResultsService } from './results.service';
import { AGGREGATION_LABELS, AWARD_LABELS, ROUND_CONFIRMATIONS, methodApplied } from './judging.messages';
import { confirmStep } from '../web/confirm';
import { TIERS, tiersInput } from './judging.contract';
import type { RoundService, RoundView } from './round.service';
import { DEFAULT_RUBRIC } from './judging.types';
import type { JudgeAssignment, ScoringService } from './scoring.service';

export interface JudgingPageDeps {
  rounds: RoundService;
  scoring: ScoringService;
  results: ResultsService;
  campaign: CampaignService;
}

const ROUND_STATUS: Record<RoundStatus, { label: string; tone: string }> = {
  draft: { label: '草稿', tone: 'muted' },
  open: { label: '评审中', tone: 'info' },
  closed: { label: '已结束', tone: 'ok' },
};
const ASSIGNMENT_STATUS: Record<AssignmentStatus, { label: string; tone: string }> = {
  pending: { label: '未评分', tone: 'warn' },
  draft: { label: '草稿', tone: 'info' },
  submitted: { label: '已提交', tone: 'ok' },
};
const ENTRY_FLAGS: Record<EntryFlag, string> = { wide_spread: '分差大', no_scores: '无评分' };
const JUDGE_FLAGS: Record<JudgeFlag, string> = { harsh: '偏严', lenient: '偏松', narrow: '分数集中' };
const SHORTLIST_PER = [
  { value: '', label: '全部作品' },
  { value: 'song', label: '按歌曲' },
  { value: 'level', label: '按学段' },
  { value: 'form', label: '按表演形式' },
];
/** A judge whose work is unfinished this close to the deadline is highlighted as late. */
const LATE_WINDOW_MS = 48 * 3600_000;
const BLANK_RUBRIC_ROWS = 2;

const two = (n: number | null) => (n === null ? '' : (Math.round(n * 100) / 100).toFixed(2));
const withMsg = (url: string, msg: string) => `${url}${url.includes('?') ? '&' : '?'}msg=${msg}`;
const list = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).map((x) => (typeof x === 'string' ? x : ''));

/** A step that failed for a reason a person can fix (400/409) is shown on the page it came from. */
function isUserError(err: unknown): err is AppError {
  return err instanceof AppError && (err.status === 400 || err.status === 409);
}

function roundBadge(r: RoundView) {
  const method = methodApplied(r.aggregation, r.judgesPerEntry);
  return { statusLabel: ROUND_STATUS[r.status].label, statusTone: ROUND_STATUS[r.status].tone, aggregationLabel: method.label, aggregationNote: method.note };
}

/** The rubric rows of the round form (blank rows dropped); the default criteria keep their keys. */
function rubricFromForm(body: Record<string, unknown>): Array<{ key?: string; label: string; max: number }> {
  const labels = list(body.rubricLabel);
  const maxes = list(body.rubricMax);
  const defaultKey = new Map(DEFAULT_RUBRIC.map((c) => [c.label, c.key]));
  const used = new Set<string>();
  return labels
    .map((label, i) => ({ label: label.trim(), max: (maxes[i] ?? '').trim() }))
    .filter((c) => c.label || c.max)
    .map((c) => {
      const key = defaultKey.get(c.label);
      const unique = key && !used.has(key) ? key : undefined;
      if (unique) used.add(unique);
      return { ...(unique && { key: unique }), label: c.label, max: c.max === '' ? NaN : Number(c.max) };
    });
}

export function judgingPages(deps: JudgingPageDeps): Router {
  const router = Router();
  const { rounds, scoring, results } = deps;

  // ── City staff: the list of rounds and the new-round form ─────────────────────────────────

  async function roundsPageData(user: CurrentUser, campaignId: string, values?: Record<string, unknown>) {
    const [all, campaign] = await Promise.all([rounds.listWithProgress(user, campaignId), deps.campaign.get(campaignId)]);
    const startRubric = campaign.rubric ?? DEFAULT_RUBRIC;
    const labels = list(values?.rubricLabel);
    const maxes = list(values?.rubricMax);
    const rubricRows = values
      ? labels.map((label, i) => ({ label, max: maxes[i] ?? '' }))
      : [...startRubric.map((c) => ({ label: c.label, max: String(c.max) })), ...Array.from({ length: BLANK_RUBRIC_ROWS }, () => ({ label: '', max: '' }))];
    return {
      title: '评审轮次',
      rounds: all.map(({ submittedCount: sub, ...r }) => ({
        ...r,
        ...roundBadge(r),
        submitted: sub,
        percent: r.assignmentCount ? Math.round((sub / r.assignmentCount) * 100) : 0,
      })),
      sources: [
        ...campaign.periods.map((p) => ({ value: `period:${p.id}`, label: `${p.name}全部已报送作品` })),
        ...all.filter((r) => r.status === 'closed').map((r) => ({ value: `round:${r.id}`, label: `来自上一轮入围：${r.name}` })),
      ],
      aggregations: Object.entries(AGGREGATION_LABELS).map(([value, label]) => ({ value, label })),
      values: values ?? {
        judgesPerEntry: '5',
        blind: 'on',
        aggregation: 'trimmed_mean',
        source: campaign.periods[0] ? `period:${campaign.periods[0].id}` : '',
      },
      rubricRows: rubricRows.map((r, i) => ({ ...r, n: i + 1 })),
    };
  }

  router.get('/rounds', async (req, res) => {
    res.render('judging/rounds', await roundsPageData(assertArea(currentUser(req), 'rounds'), requestCampaign(req).id));
  });

  router.post('/rounds', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'rounds');
    const body = req.body as Record<string, unknown>;
    const source = typeof body.source === 'string' ? body.source : '';
    const rubric = rubricFromForm(body);
    try {
      const round = await rounds.create(user, requestCampaign(req).id, {
        name: body.name,
        periodId: source.startsWith('period:') ? source.slice(7) : null,
        judgesPerEntry: body.judgesPerEntry,
        blind: body.blind === 'on',
        aggregation: body.aggregation,
        opensAt: fromLocalInput(body.opensAt),
        closesAt: fromLocalInput(body.closesAt),
        rubric,
      });
      // A round built from an earlier round's shortlist takes those entries now (that records its source);
      // a period's forwarded entries are added in step 1 of the round page.
      let msg = 'round_created';
      if (source.startsWith('round:')) {
        const { skipped } = await rounds.addEntries(user, round.id, { fromRoundShortlist: source.slice(6), includeAwarded: body.includeAwarded === 'on' });
        if (skipped) msg = 'round_created_awarded_skipped';
      }
      res.redirect(303, `/rounds/${round.id}?msg=${msg}`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      res.status(err.status).render('judging/rounds', {
        ...(await roundsPageData(user, requestCampaign(req).id, {
          ...body,
          blind: body.blind === 'on' ? 'on' : '',
          includeAwarded: body.includeAwarded === 'on' ? 'on' : '',
        })),
        errors: err.errors ?? [],
        errorSummary: err.detail,
      });
    }
  });

  // ── City staff: one round, step by step ──────────────────────────────────────────────────

  async function roundPageData(user: CurrentUser, id: string) {
    assertArea(user, 'rounds');
    const round = await rounds.get(user, id);
    const [revisions, progress, assignments, ranked, allRounds, campaign, { panel, judges: judgeAccounts }] = await Promise.all([
      results.revisions(user, id),
      rounds.progress(user, id),
      rounds.assignments(user, id),
      results.ranking(user, id),
      rounds.list(user, round.campaignId),
      deps.campaign.get(round.campaignId),
      rounds.panelChoices(user, id),
    ]);
    const onPanel = new Set(panel);
    const stats = new Map(ranked.judges.map((j) => [j.judgeId, j]));
    const t = Date.now();
    const nearDeadline =
      round.status === 'closed' || (round.status === 'open' && round.closesAt !== null && new Date(round.closesAt).getTime() - t < LATE_WINDOW_MS);
    const loads = progress.map((p) => p.assigned);
    const period = campaign.periods.find((p) => p.id === round.periodId);
    const source = allRounds.find((r) => r.id === round.sourceRoundId);
    const draft = round.status === 'draft';
    const closed = round.status === 'closed';
    const tierCounts = TIERS.map((t) => ({ key: t, label: AWARD_LABELS[t], count: ranked.rows.filter((r) => r.award === t).length }));
    return {
      title: round.name,
      round: { ...round, ...roundBadge(round) },
      confirmations: ROUND_CONFIRMATIONS,
      periodName: period?.name ?? null,
      sourceName: source?.name ?? null,
      draft,
      open: round.status === 'open',
      closed,
      canAdjust: !closed,
      canOpen: draft && round.entryCount > 0 && round.judgeCount > 0,
      entrySources: [
        ...(round.periodId ? [{ value: 'period', label: `${period?.name ?? '本期'}全部已报送作品` }] : []),
        ...allRounds.filter((r) => r.id !== id && r.status === 'closed').map((r) => ({ value: `round:${r.id}`, label: `「${r.name}」的入围作品` })),
      ],
      judges: judgeAccounts.map((j) => ({
        id: j.id,
        name: j.display_name,
        username: j.username,
        school: j.school_name,
        county: j.county_name,
        checked: onPanel.has(j.id),
      })),
      progress: progress.map((p) => {
        const s = stats.get(p.judgeId);
        return {
          ...p,
          late: nearDeadline && p.submitted < p.assigned,
          mean: s ? two(s.mean) : '',
          flags: (s?.flags ?? []).map((f) => JUDGE_FLAGS[f]),
        };
      }),
      loads: loads.length ? { min: Math.min(...loads), max: Math.max(...loads), balanced: Math.max(...loads) - Math.min(...loads) <= 1 } : null,
      assignments: assignments.map((a) => ({
        ...a,
        statusLabel: ASSIGNMENT_STATUS[a.status].label,
        statusTone: ASSIGNMENT_STATUS[a.status].tone,
        canRemove: a.status === 'pending' && !closed,
        canReopen: a.status === 'submitted',
        totalText: a.total === null ? '' : two(a.total),
      })),
      roundEntries: [...ranked.rows].sort((a, b) => a.code.localeCompare(b.code)).map((r) => ({ id: r.entryId, code: r.code, label: r.label, title: r.title })),
      panel: judgeAccounts.filter((j) => onPanel.has(j.id)).map((j) => ({ id: j.id, name: j.display_name })),
      showRanking: !draft,
      ranking: ranked.rows.map((r) => ({
        ...r,
        school: `${r.schoolName}（${r.countyName ?? '市直'}）`,
        rawMeanText: two(r.rawMean),
        spreadText: r.spread === null ? '' : two(r.spread),
        flagLabels: r.flags.map((f) => ENTRY_FLAGS[f]),
        awardLabel: r.award ? AWARD_LABELS[r.award] : null,
      })),
      shortlistPer: SHORTLIST_PER,
      shortlistCount: ranked.rows.filter((r) => r.shortlisted).length,
      tiers: tierCounts,
      awardsConfirmed: Boolean(round.awardsConfirmedAt),
      published: Boolean(round.publishedAt),
      revisions: revisions.map((r) => ({ ...r, short: r.snapshotSha256.slice(0, 16) })),
      rankingXlsx: `/api/v1/rounds/${encodeURIComponent(id)}/ranking.xlsx`,
      scoresXlsx: `/api/v1/rounds/${encodeURIComponent(id)}/scores.xlsx`,
    };
  }

  // ── City staff: a round's settings (all of them while a draft; name and times afterwards) ──

  async function editPageData(user: CurrentUser, id: string, values?: Record<string, unknown>) {
    const round = await rounds.get(user, id);
    const locked = round.status !== 'draft';
    const rubricRows =
      values && !locked
        ? list(values.rubricLabel).map((label, i) => ({ label, max: list(values.rubricMax)[i] ?? '' }))
        : [
            ...round.rubric.map((c) => ({ label: c.label, max: String(c.max) })),
            ...Array.from({ length: locked ? 0 : BLANK_RUBRIC_ROWS }, () => ({ label: '', max: '' })),
          ];
    return {
      title: `修改轮次设置：${round.name}`,
      round,
      locked,
      aggregations: Object.entries(AGGREGATION_LABELS).map(([value, label]) => ({ value, label })),
      values: {
        name: round.name,
        judgesPerEntry: String(round.judgesPerEntry),
        blind: round.blind ? 'on' : '',
        aggregation: round.aggregation,
        opensAt: round.opensAt ? toLocalInput(new Date(round.opensAt)) : '',
        closesAt: round.closesAt ? toLocalInput(new Date(round.closesAt)) : '',
        ...values,
      },
      rubricRows: rubricRows.map((r, i) => ({ ...r, n: i + 1 })),
    };
  }

  router.get('/rounds/:id/edit', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'rounds');
    res.render('judging/round-edit', await editPageData(user, req.params.id as string));
  });

  router.post('/rounds/:id/edit', async (req, res) => {
    const user = currentUser(req);
    assertArea(user, 'rounds');
    const id = req.params.id as string;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const round = await rounds.get(user, id);
    const times = { name: body.name, opensAt: fromLocalInput(body.opensAt), closesAt: fromLocalInput(body.closesAt) };
    try {
      await rounds.update(
        user,
        id,
        round.status === 'draft'
          ? { ...times, judgesPerEntry: body.judgesPerEntry, blind: body.blind === 'on', aggregation: body.aggregation, rubric: rubricFromForm(body) }
          : times,
      );
      res.redirect(303, withMsg(`/rounds/${encodeURIComponent(id)}`, 'round_updated'));
    } catch (err) {
      if (!isUserError(err)) throw err;
      res.status(err.status).render('judging/round-edit', {
        ...(await editPageData(user, id, { ...body, blind: body.blind === 'on' ? 'on' : '' })),
        errors: err.errors ?? [],
        errorSummary: err.detail,
      });
    }
  });

  router.get('/rounds/:id', async (req, res) => {
    res.render('judging/round', await roundPageData(currentUser(req), req.params.id));
  });

  /** Runs one step of the round page; a fixable refusal re-renders the page with its reason. */
  function step(path: string, action: (user: CurrentUser, id: string, body: Record<string, unknown>, req: Request, res: Response) => Promise<string | void>) {
    router.post(`/rounds/:id/${path}`, async (req, res) => {
      const user = currentUser(req);
      const id = req.params.id as string;
      try {
        const msg = await action(user, id, (req.body ?? {}) as Record<string, unknown>, req, res);
        if (msg) res.redirect(303, withMsg(`/rounds/${encodeURIComponent(id)}`, msg));
      } catch (err) {
        if (!isUserError(err)) throw err;
        res.status(err.status).render('judging/round', { ...(await roundPageData(user, id)), errors: err.errors ?? [], errorSummary: err.detail });
      }
    });
  }

  step('entries', async (user, id, body) => {
    const source = typeof body.source === 'string' ? body.source : 'period';
    const includeAwarded = body.includeAwarded === 'on';
    const { added, skipped } = await rounds.addEntries(
      user,
      id,
      source.startsWith('round:') ? { fromRoundShortlist: source.slice(6), includeAwarded } : { includeAwarded },
    );
    if (skipped) return 'round_entries_awarded_skipped';
    return added ? 'round_entries_added' : 'round_entries_none';
  });

  step('judges', async (user, id, body) => {
    await rounds.setJudges(user, id, { userIds: list(body.userIds).filter(Boolean) });
    return 'round_judges_saved';
  });

  step('assign', async (user, id, _body, _req, res) => {
    const result = await rounds.assign(user, id);
    if (!result.warnings.length && !result.note) return 'round_assigned';
    // Something for staff to read (balance note, warnings): show it on the page itself.
    res.render('judging/round', {
      ...(await roundPageData(user, id)),
      flash: '已自动分配。',
      assignNotes: [...(result.note ? [result.note] : []), ...result.warnings],
    });
  });

  step('assignments', async (user, id, body) => {
    await rounds.addAssignment(user, id, { entryId: body.entryId, judgeId: body.judgeId });
    return 'assignment_added';
  });

  step('assignments/:aid/delete', async (user, id, _body, req) => {
    await ensureInRound(user, id, req.params.aid as string);
    await rounds.removeAssignment(user, req.params.aid as string);
    return 'assignment_removed';
  });

  step('assignments/:aid/reopen', async (user, id, body, req) => {
    await ensureInRound(user, id, req.params.aid as string);
    await scoring.reopen(user, req.params.aid as string, { reason: body.reason });
    return 'score_reopened';
  });

  /** Asks before a one-way step of the round (the admin's area is checked first). */
  async function confirmed(user: CurrentUser, id: string, req: Request, res: Response, which: keyof typeof ROUND_CONFIRMATIONS) {
    await rounds.get(user, id);
    return confirmStep(req, res, { ...ROUND_CONFIRMATIONS[which], cancelHref: `/rounds/${encodeURIComponent(id)}` });
  }

  step('open', async (user, id, _body, req, res) => {
    if (!(await confirmed(user, id, req, res, 'open'))) return;
    await rounds.open(user, id);
    return 'round_opened';
  });

  step('close', async (user, id, _body, req, res) => {
    if (!(await confirmed(user, id, req, res, 'close'))) return;
    await rounds.close(user, id);
    return 'round_closed';
  });

  step('shortlist', async (user, id, body) => {
    await results.shortlist(user, id, { top: body.top, per: body.per || null });
    return 'shortlist_saved';
  });

  const tiersFrom = (body: Record<string, unknown>) => ({
    tiers: TIERS.map((t) => ({ award: t, count: body[t] === '' || body[t] === undefined ? 0 : body[t] })),
  });

  step('awards/preview', async (user, id, body, _req, res) => {
    const { tiers } = parse(tiersInput, tiersFrom(body));
    const [round, plan, ranked] = await Promise.all([rounds.get(user, id), results.previewAwards(user, id, tiers), results.ranking(user, id)]);
    const byId = new Map(ranked.rows.map((r) => [r.entryId, r]));
    const awardOf = new Map(plan.awarded.map((a) => [a.entryId, AWARD_LABELS[a.award]]));
    res.render('judging/awards-preview', {
      title: `奖项预览 · ${round.name}`,
      round,
      confirmations: ROUND_CONFIRMATIONS,
      counts: tiers.map((t) => ({ key: t.award, count: t.count })),
      groups: TIERS.map((t) => ({
        label: AWARD_LABELS[t],
        entries: plan.awarded
          .filter((a) => a.award === t)
          .map((a) => byId.get(a.entryId)!)
          .map((r) => ({
            rank: r.rank,
            code: r.code,
            title: r.title,
            school: `${r.schoolName}（${r.countyName ?? '市直'}）`,
            score: r.scoreDisplay,
            tied: r.tied,
            wide: r.flags.includes('wide_spread'),
            spread: two(r.spread),
          })),
      })).filter((g) => g.entries.length),
      boundaryTies: plan.boundaryTies.join('、'),
      fairness: {
        spreadThreshold: plan.fairness.spreadThreshold,
        panelMean: two(plan.fairness.panelMean),
        entries: plan.fairness.entries.map((e) => ({ ...e, spreadText: two(e.spread), awardLabel: awardOf.get(e.entryId) ?? '' })),
        judges: plan.fairness.judges.map((j) => ({
          ...j,
          meanText: two(j.mean),
          sdText: two(j.sd),
          flagLabels: j.flags.map((f) => JUDGE_FLAGS[f as JudgeFlag]),
        })),
        any: plan.fairness.entries.length + plan.fairness.judges.length > 0,
      },
      canConfirm: !plan.boundaryTies.length && plan.awarded.length > 0 && round.status === 'closed',
      closed: round.status === 'closed',
    });
  });

  step('awards', async (user, id, body, req, res) => {
    if (!(await confirmed(user, id, req, res, 'awards'))) return;
    await results.awards(user, id, { ...tiersFrom(body), revisionReason: body.revisionReason });
    return 'awards_confirmed';
  });

  step('publish', async (user, id, body, req, res) => {
    const publish = body.publish !== '0';
    if (publish && !(await confirmed(user, id, req, res, 'publish'))) return;
    await results.publish(
      user,
      id,
      publish
        ? {
            publish,
            publicityFrom: fromLocalInput(body.publicityFrom),
            publicityTo: fromLocalInput(body.publicityTo),
            objectionContact: body.objectionContact,
            feedbackEnabled: body.feedbackEnabled === 'on',
            revisionReason: body.revisionReason,
          }
        : { publish },
    );
    return publish ? 'results_published' : 'results_unpublished';
  });

  async function ensureInRound(user: CurrentUser, roundId: string, assignmentId: string) {
    if ((await rounds.assignmentRound(user, assignmentId)) !== roundId) throw new AppError(404, 'not_found', '未找到', '分配不存在。');
  }

  // ── Judges: the queue and the score page (blind: only what JudgeAssignment carries) ──────────

  /** Labels the judge reads (表演形式, 学段) instead of their codes. */
  /**
   * The queue row and score page of one assignment (its form and level are labels already). An
   * explicit literal, not `{ ...a, … }`: see `present` in scoring.service.ts.
   */
  function assignmentView(a: JudgeAssignment) {
    return {
      id: a.id,
      roundId: a.roundId,
      roundName: a.roundName,
      status: a.status,
      blind: a.blind,
      rubric: a.rubric,
      closesAt: a.closesAt,
      editable: a.editable,
      entry: a.entry,
      scores: a.scores,
      comment: a.comment,
      formLabel: a.entry.form,
      levelLabel: a.entry.level,
      statusLabel: ASSIGNMENT_STATUS[a.status].label,
      statusTone: ASSIGNMENT_STATUS[a.status].tone,
      durationText: a.entry.durationS === null ? '—' : formatDuration(a.entry.durationS),
    };
  }

  router.get('/judging', async (req, res) => {
    const user = currentUser(req);
    const queue = await scoring.queue(user, pageQuery(req.query as Record<string, unknown>, 50));
    const views = queue.items.map(assignmentView);
    res.render('judging/queue', {
      title: '我的评审',
      items: views,
      reminder: queue.reminder,
      submitted: queue.submitted,
      total: queue.total,
      roundCount: new Set(views.map((v) => v.roundId)).size,
      pagination: pageLinks('/judging', req.query as Record<string, unknown>, queue.page, queue.pageSize, queue.total),
    });
  });

  async function scorePageData(user: CurrentUser, id: string, typed?: Record<string, unknown>) {
    const a = await scoring.get(user, id);
    const view = assignmentView(a);
    const criteria = a.rubric.map((c) => {
      const typedValue = typed?.[`score_${c.key}`];
      const stored = a.scores?.[c.key];
      return {
        key: c.key,
        label: c.label,
        max: c.max,
        name: `score_${c.key}`,
        value: typeof typedValue === 'string' ? typedValue : stored === undefined ? '' : String(stored),
      };
    });
    const stored = a.rubric.every((c) => typeof a.scores?.[c.key] === 'number') ? a.rubric.reduce((s, c) => s + (a.scores?.[c.key] ?? 0), 0) : null;
    return {
      title: `评分 · ${a.entry.code}`,
      a: view,
      criteria,
      comment: typeof typed?.comment === 'string' ? typed.comment : (a.comment ?? ''),
      totalText: stored === null ? '—' : String(Math.round(stored * 10) / 10),
      submittedAlready: a.status === 'submitted',
      notYetOpen: !a.editable && a.closesAt !== null && new Date(a.closesAt).getTime() > Date.now(),
    };
  }

  router.get('/judging/:id', async (req, res) => {
    res.render('judging/score', await scorePageData(currentUser(req), req.params.id));
  });

  router.post('/judging/:id', async (req, res) => {
    const user = currentUser(req);
    const id = req.params.id;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = body.action === 'submit' || body.action === 'next' ? body.action : 'draft';
    try {
      // The service reads only its rubric's keys from this; a closed round answers round_closed.
      const scores: Record<string, string> = {};
      for (const [name, v] of Object.entries(body)) {
        const key = /^score_([a-z][a-z0-9_]{0,31})$/.exec(name)?.[1];
        if (key && typeof v === 'string' && v.trim() !== '') scores[key] = v.trim();
      }
      const saved = await scoring.save(user, id, { scores, comment: typeof body.comment === 'string' ? body.comment : '', submit: action !== 'draft' });
      if (action === 'next') {
        const next = (await scoring.list(user, { page: 1, pageSize: 50 })).find((x) => x.id !== id && x.status !== 'submitted' && x.editable);
        res.redirect(303, next ? `/judging/${encodeURIComponent(next.id)}?msg=score_next` : '/judging?msg=scores_all_done');
        return;
      }
      res.redirect(303, `/judging/${encodeURIComponent(id)}?msg=${saved.status === 'submitted' ? 'score_submitted' : 'score_saved'}`);
    } catch (err) {
      // Closed meanwhile: the error page says so (the assignment is no longer the judge's to see).
      if (!isUserError(err) || err.code === 'round_closed') throw err;
      res.status(err.status).render('judging/score', { ...(await scorePageData(user, id, body)), errors: err.errors ?? [], errorSummary: err.detail });
    }
  });

  router.post('/judging/:id/conflict', async (req, res) => {
    const user = currentUser(req);
    const id = req.params.id;
    try {
      await scoring.declareConflict(user, id, { reason: (req.body as Record<string, unknown>)?.reason });
      res.redirect(303, '/judging?msg=conflict_declared');
    } catch (err) {
      if (!isUserError(err) || err.code === 'round_closed') throw err;
      res.status(err.status).render('judging/score', { ...(await scorePageData(user, id)), errors: err.errors ?? [], errorSummary: err.detail });
    }
  });

  // ── Public: 公示 (no login; never asks who the caller is) ─────────────────────────────────────

  router.get('/results', async (req, res) => {
    res.render('judging/results', { title: '获奖名单公示', rounds: await results.publicResults(requestCampaign(req).id) });
  });

  return router;
}
