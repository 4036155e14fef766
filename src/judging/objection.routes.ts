import { requestCampaign } from '../campaign/current-campaign';
import fs from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer, { MulterError } from 'multer';
import { canUse } from '../accounts/policy';
import { AppError } from '../platform/errors';
import type { ObjectStore } from '../platform/storage/object-store';
import { tempName } from '../platform/temp-files';
import { multipartCsrfFilter } from '../web/auth.middleware';
import { afterMultipart } from '../web/multipart';
import { clientIp, currentUser } from '../web/request-context';
import { sendObject } from '../web/send-object';
import { pageLinks } from '../web/view-helpers';
import { OBJECTION_OUTCOME_LABELS, OBJECTION_STATUS_LABELS } from './judging.messages';
import { OBJECTION_STATUSES } from './objection.contract';
import { MAX_ATTACHMENT_BYTES, type ObjectionService, type UploadedAttachment } from './objection.service';
import type { ResultsService } from './results.service';

export interface ObjectionDeps {
  objections: ObjectionService;
  results: ResultsService;
  store: ObjectStore;
  tmpDir: string;
}

/** The objection form's upload: one optional file to disk, 10 MB, the fields of the form and nothing else. */
function attachmentUpload(tmpDir: string) {
  fs.mkdirSync(tmpDir, { recursive: true });
  const parse = multer({
    storage: multer.diskStorage({ destination: tmpDir, filename: (_req, _file, cb) => cb(null, tempName('upload')) }),
    fileFilter: multipartCsrfFilter,
    limits: { fileSize: MAX_ATTACHMENT_BYTES, files: 1, fields: 10, parts: 11, fieldSize: 8 * 1024, headerPairs: 50 },
  }).single('attachment');
  return (req: Request, res: Response, next: NextFunction) =>
    parse(req, res, (err?: unknown) =>
      afterMultipart(
        req,
        err instanceof MulterError && err.code === 'LIMIT_FILE_SIZE' ? new AppError(413, 'payload_too_large', '附件太大', '附件不能超过 10 MB。') : err,
        next,
      ),
    );
}

/** Runs the submission and removes the temp file whatever happened (the store moved it when kept). */
async function submitFrom(deps: ObjectionDeps, req: Request) {
  const file = req.file;
  const attachment: UploadedAttachment | null = file ? { path: file.path, size: file.size } : null;
  try {
    return await deps.objections.submit(req.body, attachment, clientIp(req));
  } finally {
    if (file?.path) fs.rm(file.path, { force: true }, () => undefined);
  }
}

export function objectionApi(deps: ObjectionDeps): Router {
  const router = Router();
  router.post('/objections', attachmentUpload(deps.tmpDir), async (req, res) => {
    res.status(201).json(await submitFrom(deps, req));
  });
  router.get('/objections', async (req, res) => {
    res.json(await deps.objections.list(currentUser(req), requestCampaign(req).id, req.query));
  });
  router.get('/objections/:id', async (req, res) => {
    res.json(await deps.objections.get(currentUser(req), req.params.id));
  });
  router.get('/objections/:id/attachment', async (req, res) => {
    const a = await deps.objections.attachment(currentUser(req), req.params.id);
    await sendObject(req, res, deps.store, a.key, { contentType: a.type, disposition: 'attachment', downloadName: a.name, redirectToPresigned: false });
  });
  router.post('/objections/:id/step', async (req, res) => {
    res.json(await deps.objections.step(currentUser(req), req.params.id, req.body));
  });
  return router;
}

const STATUS_TONE = { submitted: 'warn', accepted: 'info', reviewing: 'info', concluded: 'ok' } as const;
const STEP_LABEL = { accepted: '受理', reviewing: '开始复核', concluded: '作出结论' } as const;
const NEXT_STEP = { submitted: 'accepted', accepted: 'reviewing', reviewing: 'concluded', concluded: null } as const;

export function objectionPages(deps: ObjectionDeps): Router {
  const router = Router();

  /** The public form on /results: a receipt page, or the 公示 page again with the reason. */
  router.post('/results/objections', attachmentUpload(deps.tmpDir), async (req, res) => {
    try {
      const { receiptNumber } = await submitFrom(deps, req);
      res.status(201).render('judging/objection-receipt', { title: '异议已提交', receiptNumber });
    } catch (err) {
      if (!(err instanceof AppError) || ![400, 404, 409, 413, 415, 429].includes(err.status)) throw err;
      if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      const body = (req.body ?? {}) as Record<string, unknown>;
      res.status(err.status).render('judging/results', {
        title: '获奖名单公示',
        rounds: await deps.results.publicResults(requestCampaign(req).id),
        objectionRoundId: body.roundId,
        values: body,
        errors: err.errors ?? [],
        errorSummary: err.detail,
      });
    }
  });

  router.get('/objections', async (req, res) => {
    const user = currentUser(req);
    const query = req.query as Record<string, unknown>;
    const status = typeof query.status === 'string' && (OBJECTION_STATUSES as readonly string[]).includes(query.status) ? query.status : null;
    const page = Number(query.page) >= 1 ? Math.floor(Number(query.page)) : 1;
    const list = await deps.objections.list(user, requestCampaign(req).id, { status, page });
    res.render('judging/objections', {
      title: '公示异议',
      items: list.items.map((o) => ({ ...o, tone: STATUS_TONE[o.status] })),
      total: list.total,
      statuses: OBJECTION_STATUSES.map((s) => ({ value: s, label: OBJECTION_STATUS_LABELS[s], selected: s === status })),
      pagination: pageLinks('/objections', query, list.page, list.pageSize, list.total),
    });
  });

  async function detailData(req: Request) {
    const user = currentUser(req);
    const o = await deps.objections.get(user, req.params.id as string);
    const next = NEXT_STEP[o.status];
    return {
      title: `异议 ${o.receiptNumber}`,
      o: { ...o, tone: STATUS_TONE[o.status] },
      canHandle: canUse(user, 'objectionHandle') && next !== null,
      next,
      nextLabel: next ? STEP_LABEL[next] : null,
      concluding: next === 'concluded',
      outcomes: Object.entries(OBJECTION_OUTCOME_LABELS).map(([value, label]) => ({ value, label })),
    };
  }

  router.get('/objections/:id', async (req, res) => {
    res.render('judging/objection', await detailData(req));
  });

  router.post('/objections/:id/step', async (req, res) => {
    const user = currentUser(req);
    const id = req.params.id as string;
    try {
      await deps.objections.step(user, id, req.body);
      res.redirect(303, `/objections/${encodeURIComponent(id)}?msg=objection_step_saved`);
    } catch (err) {
      if (!(err instanceof AppError) || (err.status !== 400 && err.status !== 409)) throw err;
      res.status(err.status).render('judging/objection', { ...(await detailData(req)), values: req.body, errors: err.errors ?? [], errorSummary: err.detail });
    }
  });
  return router;
}
