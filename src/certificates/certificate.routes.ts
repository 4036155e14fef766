import { requestCampaign } from '../campaign/current-campaign';
import fs from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { assertArea } from '../accounts/policy';
import type { CurrentUser } from '../accounts/account.types';
import type { ObjectStore } from '../platform/storage/object-store';
import { tempName } from '../platform/temp-files';
import { AppError } from '../platform/errors';
import { multipartCsrfFilter } from '../web/auth.middleware';
import { download } from '../web/download';
import { afterMultipart } from '../web/multipart';
import { currentUser } from '../web/request-context';
import { sendObject } from '../web/send-object';
import { CERTIFICATE_STATUS_LABELS } from './certificate.messages';
import type { CertificateItem, CertificateService } from './certificate.service';

export interface CertificateDeps {
  certificates: CertificateService;
  store: ObjectStore;
  tmpDir: string;
  /** PUBLIC_URL when set; else the address the admin's request came to */
  publicUrl?: string | null;
}

/** The seal upload: one small file to disk (the service sniffs it and stores it in the bucket). */
function sealUpload(tmpDir: string) {
  fs.mkdirSync(tmpDir, { recursive: true });
  const parse = multer({
    storage: multer.diskStorage({ destination: tmpDir, filename: (_req, _file, cb) => cb(null, tempName('upload')) }),
    fileFilter: multipartCsrfFilter,
    limits: { fileSize: 2 * 1024 * 1024 + 1, files: 1, fields: 5, parts: 6, fieldSize: 1024, headerPairs: 50 },
  }).single('file');
  return (req: Request, res: Response, next: NextFunction) => parse(req, res, (err?: unknown) => afterMultipart(req, err, next));
}

/** The manage gate before any upload is accepted. */
const mayManage = (req: Request, _res: unknown, next: () => void) => {
  assertArea(currentUser(req), 'certificatesManage');
  next();
};

const verifyBase = (deps: CertificateDeps, req: Request) => (deps.publicUrl ? deps.publicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.get('host')}`);

async function sendPdf(deps: CertificateDeps, req: Request, res: Response, found: { key: string; fileName: string }) {
  await sendObject(req, res, deps.store, found.key, { contentType: 'application/pdf', downloadName: found.fileName, disposition: 'attachment' });
}

export function certificateApi(deps: CertificateDeps): Router {
  const router = Router();
  const c = deps.certificates;
  router.post('/rounds/:id/certificates', async (req, res) => {
    res.status(202).json(await c.issue(currentUser(req), req.params.id, req.body, verifyBase(deps, req)));
  });
  router.get('/rounds/:id/certificates', async (req, res) => {
    res.json(await c.listRound(currentUser(req), req.params.id));
  });
  router.get('/rounds/:id/certificates.zip', async (req, res) => {
    const dl = download(res, { fileName: '获奖证书.zip', asciiName: 'certificates.zip', contentType: 'application/zip' });
    await c.zipRound(currentUser(req), req.params.id, res, dl.ready);
  });
  router.get('/rounds/:id/certificates/print.pdf', async (req, res) => {
    await sendPdf(deps, req, res, await c.printSheet(currentUser(req), req.params.id));
  });
  router.get('/schools/:id/certificates', async (req, res) => {
    res.json(await c.listSchool(currentUser(req), req.params.id));
  });
  router.get('/schools/:id/certificates.zip', async (req, res) => {
    const dl = download(res, { fileName: '获奖证书.zip', asciiName: 'certificates.zip', contentType: 'application/zip' });
    await c.zipSchool(currentUser(req), req.params.id, res, dl.ready);
  });
  router.put('/certificates/seal', mayManage, sealUpload(deps.tmpDir), async (req, res) => {
    res.json(await c.setSeal(currentUser(req), requestCampaign(req).id, req.file));
  });
  router.delete('/certificates/seal', async (req, res) => {
    res.json(await c.removeSeal(currentUser(req), requestCampaign(req).id));
  });
  // Public: anyone holding a certificate (or its QR code) may check it; never asks who the caller is.
  router.get('/certificates/:number', async (req, res) => {
    res.json(await c.verify(req.params.number));
  });
  router.get('/certificates/:number/pdf', async (req, res) => {
    await sendPdf(deps, req, res, await c.pdf(currentUser(req), req.params.number));
  });
  router.post('/certificates/:number/revoke', async (req, res) => {
    res.json(await c.revoke(currentUser(req), req.params.number, req.body));
  });
  return router;
}

const rowsFor = (items: CertificateItem[]) => items.map((i) => ({ ...i, statusLabel: CERTIFICATE_STATUS_LABELS[i.status] }));

export function certificatePages(deps: CertificateDeps): Router {
  const router = Router();
  const c = deps.certificates;

  // Public verify page (the QR code's target): the award and the names it prints, nothing private.
  router.get('/verify/:number', async (req, res) => {
    try {
      const cert = await c.verify(req.params.number);
      res.render('certificates/verify', { title: `证书验证 ${cert.number}`, cert, found: true });
    } catch (err) {
      if (err instanceof AppError && err.status === 404)
        return res.status(404).render('certificates/verify', { title: '证书验证', found: false, number: req.params.number });
      throw err;
    }
  });

  router.get('/rounds/:id/certificates', async (req, res) => {
    const user = currentUser(req);
    const data = await c.listRound(user, req.params.id);
    const counties = await c.counties();
    const chosen = new Set(data.items.filter((i) => i.kind === 'organisation' && !i.revoked).map((i) => i.countyId));
    res.render('certificates/round', {
      title: `获奖证书 · ${data.round.name}`,
      ...data,
      items: rowsFor(data.items),
      counties: counties.map((k) => ({ ...k, checked: chosen.has(k.id) })),
      counts: {
        live: data.items.filter((i) => !i.revoked).length,
        ready: data.items.filter((i) => !i.revoked && i.status === 'ready').length,
        revoked: data.items.filter((i) => i.revoked).length,
      },
    });
  });

  router.post('/rounds/:id/certificates', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ids = body.organisationCountyIds;
    await c.issue(
      currentUser(req),
      req.params.id,
      { organisationCountyIds: Array.isArray(ids) ? ids : typeof ids === 'string' ? [ids] : [], issuedOn: body.issuedOn },
      verifyBase(deps, req),
    );
    res.redirect(303, `/rounds/${encodeURIComponent(req.params.id)}/certificates?msg=certificates_issued`);
  });

  router.post('/certificates/seal', mayManage, sealUpload(deps.tmpDir), async (req, res) => {
    const next = typeof req.body?.next === 'string' && /^\/rounds\/[\w-]+\/certificates$/.test(req.body.next) ? req.body.next : '/certificates';
    try {
      await c.setSeal(currentUser(req), requestCampaign(req).id, req.file);
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed') return res.redirect(303, `${next}?msg=seal_invalid`);
      throw err;
    }
    res.redirect(303, `${next}?msg=seal_saved`);
  });

  router.post('/certificates/:number/revoke', async (req, res) => {
    const user: CurrentUser = currentUser(req);
    const cert = await c.revoke(user, req.params.number, req.body);
    res.redirect(303, `/verify/${encodeURIComponent(cert.number)}`);
  });

  // A school's (or a county's) own certificates.
  router.get('/certificates', async (req, res) => {
    const user = currentUser(req);
    const items = await c.listMine(user);
    res.render('certificates/mine', {
      title: '获奖证书',
      items: rowsFor(items),
      zipUrl: user.role === 'school' && user.schoolId && items.some((i) => !i.revoked) ? `/api/v1/schools/${user.schoolId}/certificates.zip` : null,
      isAdmin: user.role === 'admin',
    });
  });

  return router;
}
