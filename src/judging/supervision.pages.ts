import { requestCampaign } from '../campaign/current-campaign';
import { Router } from 'express';
import { assertArea } from '../accounts/policy';
import { currentUser } from '../web/request-context';
import { pageLinks } from '../web/view-helpers';
import { AGGREGATION_LABELS, AWARD_LABELS } from './judging.messages';
import type { EntryFlag, JudgeFlag } from './judging.types';
import type { ObjectionService } from './objection.service';
import type { ResultsService } from './results.service';
import type { RoundService } from './round.service';

export interface SupervisionDeps {
  rounds: RoundService;
  results: ResultsService;
  objections: ObjectionService;
}

const ROUND_STATUS = { draft: '草稿', open: '评审中', closed: '已结束' } as const;
const ENTRY_FLAGS: Record<EntryFlag, string> = { wide_spread: '评委分歧大', no_scores: '无评分' };
const JUDGE_FLAGS: Record<JudgeFlag, string> = { harsh: '偏严', lenient: '偏松', narrow: '分数集中' };
const two = (n: number | null) => (n === null ? '' : (Math.round(n * 100) / 100).toFixed(2));

/**
 * 监督 (supervisor): every round's progress, ranking, objections and audit trail — read only.
 * Nothing on these pages changes anything (no forms but the audit pager); the city sees them too.
 */
export function supervisionPages(deps: SupervisionDeps): Router {
  const router = Router();

  router.get('/supervision', async (req, res) => {
    const user = assertArea(currentUser(req), 'roundsRead');
    const rounds = await deps.rounds.listWithProgress(user, requestCampaign(req).id);
    res.render('judging/supervision', {
      title: '评审监督',
      rounds: rounds.map((r) => ({
        ...r,
        statusLabel: ROUND_STATUS[r.status],
        percent: r.assignmentCount ? Math.round((r.submittedCount / r.assignmentCount) * 100) : 0,
      })),
    });
  });

  router.get('/supervision/rounds/:id', async (req, res) => {
    const user = assertArea(currentUser(req), 'roundsRead');
    const id = req.params.id as string;
    const query = req.query as Record<string, unknown>;
    const auditPage = Number(query.page) >= 1 ? Math.floor(Number(query.page)) : 1;
    const round = await deps.rounds.get(user, id);
    const [progress, ranked, objections, audit, revisions] = await Promise.all([
      deps.rounds.progress(user, id),
      deps.results.ranking(user, id),
      deps.objections.list(user, requestCampaign(req).id, { roundId: id }),
      deps.results.roundAudit(user, id, auditPage),
      deps.results.revisions(user, id),
    ]);
    const stats = new Map(ranked.judges.map((j) => [j.judgeId, j]));
    res.render('judging/supervision-round', {
      title: `评审监督 · ${round.name}`,
      round: { ...round, statusLabel: ROUND_STATUS[round.status], aggregationLabel: AGGREGATION_LABELS[round.aggregation] },
      progress: progress.map((p) => {
        const s = stats.get(p.judgeId);
        return { ...p, mean: s ? two(s.mean) : '', flags: (s?.flags ?? []).map((f) => JUDGE_FLAGS[f]) };
      }),
      ranking: ranked.rows.map((r) => ({
        rank: r.rank,
        code: r.code,
        title: r.title,
        school: `${r.schoolName}（${r.countyName ?? '市直'}）`,
        score: r.scoreDisplay ?? '',
        count: r.scoreCount,
        spread: r.spread === null ? '' : two(r.spread),
        flags: r.flags.map((f) => ENTRY_FLAGS[f]),
        award: r.award ? AWARD_LABELS[r.award] : '',
      })),
      objections: objections.items,
      objectionTotal: objections.total,
      audit: audit.items,
      auditTotal: audit.total,
      pagination: pageLinks(`/supervision/rounds/${encodeURIComponent(id)}`, query, audit.page, audit.pageSize, audit.total),
      revisions,
    });
  });
  return router;
}
