import { requestCampaign } from '../campaign/current-campaign';
import fs from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import type { CurrentUser } from '../accounts/account.types';
import { canUse, isOwnSchool } from '../accounts/policy';
import type { EntryView } from '../entries/entry.types';
import { AppError, forbidden } from '../platform/errors';
import { formatBytes } from '../platform/format';
import type { ObjectStore } from '../platform/storage/object-store';
import { tempName } from '../platform/temp-files';
import { multipartCsrfFilter } from '../web/auth.middleware';
import { download } from '../web/download';
import { afterMultipart } from '../web/multipart';
import { currentUser } from '../web/request-context';
import { sendObject } from '../web/send-object';
import { contentDisposition } from '../platform/storage/content-disposition';
import { SCOPES } from './consent.contract';
import { NO_CONSENT, SCAN_TOO_LARGE, SCOPE_LABELS, SCOPE_SHORT, WITHDRAWN } from './consent.messages';
import { MAX_SCAN_BYTES, type ConsentService, type ConsentView } from './consent.service';

export interface ConsentDeps {
  consent: ConsentService;
  entries: { get(actor: CurrentUser, id: string): Promise<EntryView> };
  store: ObjectStore;
  tmpDir: string;
}

/** The signed scan upload: to disk, ≤ 10 MB, one file in the field `scan`, a few text fields. */
function scanUpload(tmpDir: string) {
  fs.mkdirSync(tmpDir, { recursive: true });
  const parse = multer({
    storage: multer.diskStorage({ destination: tmpDir, filename: (_req, _file, cb) => cb(null, tempName('upload')) }),
    defParamCharset: 'utf8',
    fileFilter: multipartCsrfFilter,
    limits: { fileSize: MAX_SCAN_BYTES, files: 1, fields: 10, parts: 11, fieldNameSize: 50, fieldSize: 1024, headerPairs: 50 },
  }).single('scan');
  return (req: Request, res: Response, next: NextFunction) => {
    if (!/^multipart\/form-data\b/i.test(req.get('content-type') ?? '')) return next();
    res.on('close', () => {
      if (req.file?.path) fs.rm(req.file.path, { force: true }, () => undefined);
    });
    parse(req, res, (err?: unknown) => {
      if (err && (err as { code?: string }).code === 'LIMIT_FILE_SIZE') {
        res.setHeader('Connection', 'close');
        return next(new AppError(413, 'payload_too_large', '授权书文件太大', SCAN_TOO_LARGE));
      }
      afterMultipart(req, err, next);
    });
  };
}

/** The role and object checks run before multer reads the body: nobody else gets a file stored, even in the temp dir. */
const mayRecord = (consent: ConsentService) => async (req: Request, _res: Response, next: NextFunction) => {
  await consent.authorizeRecord(currentUser(req), req.params.id as string);
  next();
};

/** multipart repeats `scopes` (a string or several); JSON sends an array. */
const body = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

async function sendScan(deps: ConsentDeps, req: Request, res: Response) {
  const { key, contentType, fileName } = await deps.consent.scanForDownload(currentUser(req), req.params.id as string);
  // Private: streamed through the app (never a presigned URL that could be passed on), never cached.
  await sendObject(req, res, deps.store, key, { contentType, disposition: 'attachment', downloadName: fileName, cacheControl: 'private, no-store' });
}

async function sendTemplate(deps: ConsentDeps, req: Request, res: Response) {
  const { bytes, fileName } = await deps.consent.template(currentUser(req), req.params.id as string);
  res.setHeader('Content-Type', 'application/pdf');
  res.setHeader('Content-Disposition', contentDisposition('attachment', fileName, 'consent.pdf'));
  res.setHeader('Cache-Control', 'private, no-store');
  res.end(Buffer.from(bytes));
}

async function sendExport(deps: ConsentDeps, req: Request, res: Response) {
  const user = currentUser(req);
  const dl = download(res, { fileName: '学校数据导出.zip', asciiName: 'school-data.zip', contentType: 'application/zip' });
  await deps.consent.exportSchool(user, req.params.id as string, res, dl.ready);
}

export function consentApi(deps: ConsentDeps): Router {
  const router = Router();
  const upload = scanUpload(deps.tmpDir);
  router.get('/entries/:id/consent', async (req, res) => {
    res.json(await deps.consent.get(currentUser(req), req.params.id));
  });
  router.put('/entries/:id/consent', mayRecord(deps.consent), upload, async (req, res) => {
    res.json(await deps.consent.record(currentUser(req), req.params.id as string, body(req), req.file));
  });
  router.post('/entries/:id/consent/withdraw', async (req, res) => {
    res.json(await deps.consent.withdraw(currentUser(req), req.params.id, req.body));
  });
  router.get('/entries/:id/consent/scan', (req, res) => sendScan(deps, req, res));
  router.get('/entries/:id/consent/template.pdf', (req, res) => sendTemplate(deps, req, res));
  router.get('/consent/settings', async (req, res) => {
    res.json(await deps.consent.settings(currentUser(req), requestCampaign(req).id));
  });
  router.put('/consent/settings', async (req, res) => {
    res.json(await deps.consent.saveSettings(currentUser(req), requestCampaign(req).id, req.body));
  });
  router.get('/schools/:id/export.zip', (req, res) => sendExport(deps, req, res));
  router.post('/schools/:id/erase-personal-data', async (req, res) => {
    res.json(await deps.consent.eraseSchool(currentUser(req), req.params.id, req.body));
  });
  return router;
}

/** The consent state as the entry page, the desk and the exports show it. */
export function consentSummary(c: Pick<ConsentView, 'state' | 'scopes'> | null): { label: string; tone: 'ok' | 'warn' | 'bad' | 'muted' } {
  if (!c || c.state === 'none') return { label: NO_CONSENT, tone: 'bad' };
  if (c.state === 'withdrawn') return { label: WITHDRAWN, tone: 'bad' };
  return c.scopes.length
    ? { label: `已授权：${c.scopes.map((s) => SCOPE_SHORT[s]).join('、')}`, tone: 'ok' }
    : { label: '已授权参赛（不公开发布）', tone: 'warn' };
}

/** The consent section of an entry's page (school, county, city; nobody else sees one). */
export async function consentPanel(deps: Pick<ConsentDeps, 'consent'>, user: CurrentUser, entry: EntryView) {
  if (!canUse(user, 'consent')) return null;
  const c = await deps.consent.view(entry.id);
  return {
    ...c,
    summary: consentSummary(c),
    scopeLabels: c.scopes.map((s) => SCOPE_LABELS[s]),
    scanSize: c.scan?.sizeBytes ? formatBytes(c.scan.sizeBytes) : '',
    isOwner: isOwnSchool(user, entry.school.id),
    needsScan: c.requireScan && !c.scan && c.state !== 'none',
    allowsBroadcast: c.scopes.includes('broadcast'),
  };
}

function formData(entry: EntryView, c: ConsentView, user: CurrentUser, values?: Record<string, unknown>) {
  const chosen = values ? ([] as string[]).concat((values.scopes as string[] | string | undefined) ?? []) : c.scopes;
  return {
    title: `监护人授权 · ${entry.title}`,
    entry,
    consent: c,
    summary: consentSummary(c),
    isOwner: isOwnSchool(user, entry.school.id),
    canWithdraw: canUse(user, 'consentWithdraw') && c.state === 'granted',
    values: {
      declaration: values ? Boolean(values.declaration) : c.declaration,
      signerName: values ? values.signerName : (c.signerName ?? ''),
      signerPost: values ? values.signerPost : (c.signerPost ?? ''),
    },
    scopes: SCOPES.map((s) => ({ code: s, label: SCOPE_LABELS[s], checked: chosen.includes(s) })),
    grantedScopes: c.scopes.map((s) => ({ code: s, label: SCOPE_LABELS[s] })),
    scanSize: c.scan?.sizeBytes ? formatBytes(c.scan.sizeBytes) : '',
  };
}

export function consentPages(deps: ConsentDeps): Router {
  const router = Router();
  const upload = scanUpload(deps.tmpDir);

  async function render(req: Request, res: Response, status = 200, extra: Record<string, unknown> = {}, values?: Record<string, unknown>) {
    const user = currentUser(req);
    const consent = await deps.consent.get(user, req.params.id as string);
    const entry = await deps.entries.get(user, req.params.id as string);
    res.status(status).render('consent/form', { ...formData(entry, consent, user, values), ...extra });
  }

  router.get('/entries/:id/consent', (req, res) => render(req, res));

  router.post('/entries/:id/consent', mayRecord(deps.consent), upload, async (req, res) => {
    const values = body(req);
    try {
      await deps.consent.record(currentUser(req), req.params.id as string, values, req.file);
      res.redirect(303, `/entries/${req.params.id}?msg=consent_recorded`);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'validation_failed' || err.code === 'unsupported_media')) {
        return render(req, res, err.status, { errors: err.errors ?? [{ field: 'scan', message: err.detail }], errorSummary: err.detail }, values);
      }
      throw err;
    }
  });

  router.post('/entries/:id/consent/withdraw', async (req, res) => {
    try {
      await deps.consent.withdraw(currentUser(req), req.params.id, req.body);
      res.redirect(303, `/entries/${req.params.id}/consent?msg=consent_withdrawn`);
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') {
        return render(req, res, 400, { withdrawErrors: err.errors ?? [], withdrawSummary: err.detail });
      }
      throw err;
    }
  });

  router.get('/consent/settings', async (req, res) => {
    const user = currentUser(req);
    const settings = await deps.consent.settings(user, requestCampaign(req).id);
    if (!canUse(user, 'consentSettings')) return res.render('consent/settings', { title: '授权书要求', settings, readOnly: true });
    res.render('consent/settings', { title: '授权书要求', settings });
  });

  router.post('/consent/settings', async (req, res) => {
    await deps.consent.saveSettings(currentUser(req), requestCampaign(req).id, req.body);
    res.redirect(303, '/consent/settings?msg=consent_settings_saved');
  });

  router.get('/my-data', (req, res) => {
    const user = currentUser(req);
    if (!canUse(user, 'dataExport') || !user.schoolId) throw forbidden('只有学校账号可以导出本校数据。');
    res.render('consent/my-data', { title: '本校数据', exportHref: `/api/v1/schools/${user.schoolId}/export.zip` });
  });

  router.get('/schools/:id/personal-data', async (req, res) => {
    const data = await deps.consent.personalData(currentUser(req), req.params.id);
    res.render('consent/erase', { title: `个人信息 · ${data.school.name}`, ...data });
  });

  router.post('/schools/:id/erase-personal-data', async (req, res) => {
    try {
      await deps.consent.eraseSchool(currentUser(req), req.params.id, req.body);
      res.redirect(303, `/schools/${req.params.id}/personal-data?msg=personal_data_erased`);
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') {
        const data = await deps.consent.personalData(currentUser(req), req.params.id);
        return res.status(400).render('consent/erase', { title: `个人信息 · ${data.school.name}`, ...data, errors: err.errors, errorSummary: err.detail });
      }
      throw err;
    }
  });

  return router;
}
