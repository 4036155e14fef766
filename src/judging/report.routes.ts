import { requestCampaign } from '../campaign/current-campaign';
import { Router, type Request, type Response } from 'express';
import { validationFailed } from '../platform/errors';
import { download, XLSX_TYPE } from '../web/download';
import { currentUser } from '../web/request-context';
import type { ReportService } from './report.service';

export interface ReportDeps {
  reports: ReportService;
}

function roundQuery(req: Request): string | null {
  const v = req.query.roundId;
  if (v === undefined || v === '') return null;
  if (typeof v !== 'string' || v.length > 64) throw validationFailed([{ field: 'roundId', message: '评审轮次（roundId）无效' }]);
  return v;
}

/** A PDF made for this request, sent as an attachment with its Chinese file name. */
function sendPdf(res: Response, made: { bytes: Uint8Array; fileName: string }) {
  download(res, { fileName: made.fileName, asciiName: 'report.pdf', contentType: 'application/pdf' }).stream.end(Buffer.from(made.bytes));
}

/** 县区成绩单 (JSON / PDF / XLSX) per county and for the city, and the 评委签字表. */
export function reportApi(deps: ReportDeps): Router {
  const router = Router();
  const { reports } = deps;
  const county = (req: Request) => (req.params.countyId === undefined ? null : (req.params.countyId as string));
  for (const base of ['/reports/counties/:countyId', '/reports/city']) {
    router.get(`${base}.pdf`, async (req, res) => {
      sendPdf(res, await reports.pdf(currentUser(req), requestCampaign(req).id, county(req), roundQuery(req)));
    });
    router.get(`${base}.xlsx`, async (req, res) => {
      const user = currentUser(req);
      const roundId = roundQuery(req);
      const fileName = await reports.xlsxName(user, county(req));
      const dl = download(res, { fileName, asciiName: 'report.xlsx', contentType: XLSX_TYPE });
      await reports.xlsx(user, requestCampaign(req).id, county(req), roundId, dl.stream);
    });
    // After the .pdf / .xlsx routes: `:countyId` would otherwise take 'c-lishi.pdf' whole.
    router.get(base, async (req, res) => {
      res.json(await reports.figures(currentUser(req), requestCampaign(req).id, county(req), roundQuery(req)));
    });
  }
  router.get('/rounds/:id/judges/:judgeId/sign-sheet.pdf', async (req, res) => {
    sendPdf(res, await reports.signSheet(currentUser(req), req.params.id as string, req.params.judgeId as string));
  });
  return router;
}

/** The page listing the reports the caller may download. */
export function reportPages(deps: { reports: ReportService }): Router {
  const router = Router();
  router.get('/reports', async (req, res) => {
    const user = currentUser(req);
    const { counties, city, rounds } = await deps.reports.choices(user, requestCampaign(req).id);
    res.render('judging/reports', { title: '县区成绩单', counties, city, rounds });
  });
  return router;
}
