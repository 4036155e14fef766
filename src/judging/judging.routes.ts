import { Router, type Request, type Response } from 'express';
import { requestCampaign } from '../campaign/current-campaign';
import { validationFailed } from '../platform/errors';
import type { ObjectStore } from '../platform/storage/object-store';
import { currentUser } from '../web/request-context';
import { download, XLSX_TYPE } from '../web/download';
import { sendObject } from '../web/send-object';
import { parse } from '../platform/validate';
import { tiersInput } from './judging.contract';
import type { ResultsService } from './results.service';
import type { RoundService } from './round.service';
import type { ScoringService } from './scoring.service';

export interface JudgingDeps {
  rounds: RoundService;
  scoring: ScoringService;
  results: ResultsService;
  store: ObjectStore;
}

/**
 * Media for judges: served under the assignment id, named `<label>.mp4` in blind rounds; previews
 * have no source metadata (the ingest strips it). Blind rounds never redirect to a presigned URL:
 * its storage key names the video (`previews/<videoId>.mp4`), an id others see — the bytes go
 * through this process instead.
 */
export async function sendJudgeMedia(deps: JudgingDeps, req: Request, res: Response, kind: 'preview' | 'poster') {
  const { key, name, blind } = await deps.scoring.mediaKey(currentUser(req), req.params.id as string, kind);
  await sendObject(req, res, deps.store, key, {
    contentType: kind === 'preview' ? 'video/mp4' : 'image/jpeg',
    disposition: 'inline',
    downloadName: `${name}.${kind === 'preview' ? 'mp4' : 'jpg'}`,
    redirectToPresigned: deps.store.kind === 's3' && !blind,
  });
}

/** The export checks the caller (area rounds) before its first byte sets the download headers. */
async function sendXlsx(deps: JudgingDeps, req: Request, res: Response, kind: 'ranking' | 'scores') {
  const user = currentUser(req);
  const dl = download(res, { fileName: kind === 'ranking' ? '评审排名.xlsx' : '评分明细.xlsx', asciiName: `${kind}.xlsx`, contentType: XLSX_TYPE });
  await deps.results.exportXlsx(user, req.params.id as string, kind, dl.stream);
}

/** `?limit=1…200` and an optional `?cursor=` (opaque), or null when the caller wants the whole queue. */
function queuePageQuery(req: Request): { limit: number; cursor?: string } | null {
  const { limit, cursor } = req.query as Record<string, unknown>;
  if (limit === undefined && cursor === undefined) return null;
  const n = limit === undefined ? 50 : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw validationFailed([{ field: 'limit', message: '每页条数（limit）应为 1 到 200 的整数' }]);
  if (cursor !== undefined && typeof cursor !== 'string') throw validationFailed([{ field: 'cursor', message: '翻页位置（cursor）无效，请从第一页重新开始' }]);
  return { limit: n, ...(typeof cursor === 'string' && { cursor }) };
}

export function judgingApi(deps: JudgingDeps): Router {
  const router = Router();
  const { rounds, scoring, results } = deps;

  // City staff: rounds, panels, assignment, progress, ranking, shortlist, awards.
  router.get('/rounds', async (req, res) => {
    res.json(await rounds.list(currentUser(req), requestCampaign(req).id));
  });
  router.post('/rounds', async (req, res) => {
    res.status(201).json(await rounds.create(currentUser(req), requestCampaign(req).id, req.body));
  });
  router.get('/rounds/:id', async (req, res) => {
    res.json(await rounds.get(currentUser(req), req.params.id));
  });
  router.patch('/rounds/:id', async (req, res) => {
    res.json(await rounds.update(currentUser(req), req.params.id, req.body));
  });
  router.post('/rounds/:id/entries', async (req, res) => {
    res.json(await rounds.addEntries(currentUser(req), req.params.id, req.body));
  });
  router.post('/rounds/:id/judges', async (req, res) => {
    res.json(await rounds.setJudges(currentUser(req), req.params.id, req.body));
  });
  router.post('/rounds/:id/assign', async (req, res) => {
    res.json(await rounds.assign(currentUser(req), req.params.id));
  });
  router.get('/rounds/:id/assignments', async (req, res) => {
    res.json(await rounds.assignments(currentUser(req), req.params.id));
  });
  router.post('/rounds/:id/assignments', async (req, res) => {
    res.status(201).json(await rounds.addAssignment(currentUser(req), req.params.id, req.body));
  });
  router.delete('/assignments/:id', async (req, res) => {
    await rounds.removeAssignment(currentUser(req), req.params.id);
    res.status(204).end();
  });
  router.post('/rounds/:id/open', async (req, res) => {
    res.json(await rounds.open(currentUser(req), req.params.id));
  });
  router.post('/rounds/:id/close', async (req, res) => {
    res.json(await rounds.close(currentUser(req), req.params.id));
  });
  router.get('/rounds/:id/progress', async (req, res) => {
    res.json(await rounds.progress(currentUser(req), req.params.id));
  });
  router.get('/rounds/:id/ranking', async (req, res) => {
    const { rows } = await results.ranking(currentUser(req), req.params.id);
    res.json(
      rows.map((r) => ({
        entryId: r.entryId,
        code: r.code,
        label: r.label,
        rank: r.rank,
        score: r.score,
        scoreDisplay: r.scoreDisplay,
        rawMean: r.rawMean,
        scoreCount: r.scoreCount,
        spread: r.spread,
        tied: r.tied,
        flags: r.flags,
        shortlisted: r.shortlisted,
        award: r.award,
      })),
    );
  });
  router.get('/rounds/:id/judge-stats', async (req, res) => {
    res.json((await results.ranking(currentUser(req), req.params.id)).judges);
  });
  router.post('/rounds/:id/shortlist', async (req, res) => {
    res.json(await results.shortlist(currentUser(req), req.params.id, req.body));
  });
  router.post('/rounds/:id/awards', async (req, res) => {
    res.json(await results.awards(currentUser(req), req.params.id, req.body));
  });
  router.post('/rounds/:id/awards/preview', async (req, res) => {
    res.json(await results.previewAwards(currentUser(req), req.params.id, parse(tiersInput, req.body).tiers));
  });
  router.post('/rounds/:id/publish', async (req, res) => {
    await results.publish(currentUser(req), req.params.id, req.body);
    res.json(await rounds.get(currentUser(req), req.params.id));
  });
  router.get('/rounds/:id/ranking.xlsx', (req, res) => sendXlsx(deps, req, res, 'ranking'));
  router.get('/rounds/:id/scores.xlsx', (req, res) => sendXlsx(deps, req, res, 'scores'));
  router.post('/assignments/:id/reopen', async (req, res) => {
    res.json(await scoring.reopen(currentUser(req), req.params.id, req.body));
  });
  router.get('/rounds/:id/audit', async (req, res) => {
    const page = req.query.page === undefined ? 1 : Number(req.query.page);
    if (!Number.isInteger(page) || page < 1 || page > 100000) throw validationFailed([{ field: 'page', message: '页码应为正整数' }]);
    res.json(await results.roundAudit(currentUser(req), req.params.id, page));
  });
  router.get('/rounds/:id/revisions', async (req, res) => {
    res.json(await results.revisions(currentUser(req), req.params.id));
  });
  router.get('/rounds/:id/revisions/:revision/snapshot.json', async (req, res) => {
    const revision = Number(req.params.revision);
    if (!Number.isInteger(revision) || revision < 0) throw validationFailed([{ field: 'revision', message: '修订版本号应为非负整数' }]);
    const text = await results.snapshotText(currentUser(req), req.params.id, revision);
    res.type('application/json; charset=utf-8').send(text);
  });
  router.get('/results', async (req, res) => {
    res.json(await results.publicResults(requestCampaign(req).id));
  });

  // Judges: their own queue, blind.
  router.get('/judging/assignments', async (req, res) => {
    // The whole queue as an array (API.md); with ?limit= (and ?cursor=) one page of it, the next in `Link`.
    const page = queuePageQuery(req);
    if (!page) {
      res.json(await scoring.list(currentUser(req)));
      return;
    }
    const { items, next } = await scoring.listPage(currentUser(req), page.limit, page.cursor);
    if (next) res.setHeader('Link', `</api/v1/judging/assignments?limit=${page.limit}&cursor=${next}>; rel="next"`);
    res.json(items);
  });
  router.get('/judging/assignments/:id', async (req, res) => {
    res.json(await scoring.get(currentUser(req), req.params.id));
  });
  router.put('/judging/assignments/:id', async (req, res) => {
    res.json(await scoring.save(currentUser(req), req.params.id, req.body));
  });
  router.post('/judging/assignments/:id/conflict', async (req, res) => {
    await scoring.declareConflict(currentUser(req), req.params.id, req.body);
    res.status(204).end();
  });
  router.get('/judging/assignments/:id/preview', (req, res) => sendJudgeMedia(deps, req, res, 'preview'));
  router.get('/judging/assignments/:id/poster', (req, res) => sendJudgeMedia(deps, req, res, 'poster'));
  return router;
}
