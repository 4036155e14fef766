import { requestCampaign } from '../campaign/current-campaign';
import fs from 'node:fs';
import path from 'node:path';
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { canMoveSchools, canUse } from '../accounts/policy';
import type { CampaignService } from '../campaign/campaign.service';
import { pageQuery, parse } from '../platform/validate';
import { schoolQuery } from './org.contract';
import { multipartCsrfFilter } from '../web/auth.middleware';
import { handleForm } from '../web/forms';
import { download } from '../web/download';
import { IMPORT_TEMPLATE_CSV } from './org.messages';
import { afterMultipart } from '../web/multipart';
import { pageLinks } from '../web/view-helpers';
import { currentUser, queryString } from '../web/request-context';
import { ImportRejectedError, type SchoolImportService } from './school-import';
import type { SchoolService } from './school.service';
import { tempName } from '../platform/temp-files';

export interface OrgDeps {
  schools: SchoolService;
  schoolImport: SchoolImportService;
  campaign: CampaignService;
  tmpDir: string;
}

/** Small spreadsheet uploads for the school import: to disk, 5 MB, one file, no other parts. */
function importUpload(tmpDir: string) {
  fs.mkdirSync(tmpDir, { recursive: true });
  const parse = multer({
    storage: multer.diskStorage({ destination: tmpDir, filename: (_req, _file, cb) => cb(null, tempName('import')) }),
    // A session's no-JS form: its `_csrf` field (the form's first) is checked before the file is written.
    fileFilter: multipartCsrfFilter,
    limits: { fileSize: 5 * 1024 * 1024, files: 1, fields: 5, parts: 6, fieldSize: 1024, headerPairs: 50 },
  }).single('file');
  return (req: Request, res: Response, next: NextFunction) => parse(req, res, (err?: unknown) => afterMultipart(req, err, next));
}

/** The import's role gate, before any upload is accepted (the service's own check). */
const mayImport = (schoolImport: SchoolImportService) => (req: Request, _res: unknown, next: () => void) => {
  schoolImport.authorize(currentUser(req));
  next();
};

export function orgPages(deps: OrgDeps): Router {
  const router = Router();

  router.get('/org/counties', async (req, res) => {
    const { counties, cityDirect } = await deps.schools.countyOverview(currentUser(req));
    res.render('org/counties', { title: '县区', counties, cityDirect });
  });

  router.get('/org/schools', async (req, res) => {
    const user = currentUser(req);
    const filter = parse(schoolQuery, req.query);
    const page = pageQuery(req.query as Record<string, unknown>);
    const result = await deps.schools.list(user, filter, page);
    const { levels } = await deps.campaign.get();
    res.render('org/schools', {
      title: '学校',
      schools: result.items.map((s) => ({ ...s, levelLabel: s.level ? (levels.find((l) => l.code === s.level)?.label ?? s.level) : '—' })),
      filter,
      counties: canMoveSchools(user) ? await deps.schools.listCounties(user) : [],
      canImport: canUse(user, 'schoolImport'),
      canErase: canUse(user, 'dataErase'),
      pagination: pageLinks('/org/schools', req.query as Record<string, unknown>, result.page, result.pageSize, result.total),
    });
  });

  async function formData(req: Request, extra: Record<string, unknown>) {
    const user = currentUser(req);
    const campaign = await deps.campaign.get(requestCampaign(req).id);
    return { counties: canMoveSchools(user) ? await deps.schools.listCounties(user) : [], levels: campaign.levels, isAdmin: canMoveSchools(user), ...extra };
  }

  router.get('/org/schools/new', async (req, res) => {
    const user = currentUser(req);
    await deps.schools.list(user, {}, { page: 1, pageSize: 1 }); // role gate
    res.render(
      'org/school-form',
      await formData(req, { title: '新建学校', values: { countyId: queryString(req, 'countyId', 64) ?? '' }, action: '/org/schools' }),
    );
  });

  router.post('/org/schools', async (req, res) => {
    const user = currentUser(req);
    const values = req.body as Record<string, unknown>;
    await handleForm(res, { view: 'org/school-form', data: await formData(req, { title: '新建学校', values, action: '/org/schools' }) }, async () => {
      const school = await deps.schools.create(user, values);
      res.redirect(303, `/org/schools?countyId=${encodeURIComponent(school.countyId ?? 'city')}&msg=school_created`);
    });
  });

  router.get('/org/schools/import', async (req, res) => {
    deps.schoolImport.authorize(currentUser(req));
    res.render('org/school-import', { title: '导入学校' });
  });

  /** 学校导入模板.csv: the header row and two example rows (UTF-8 with BOM, so Excel reads the Chinese). */
  router.get('/org/schools/import/template.csv', (req, res) => {
    deps.schoolImport.authorize(currentUser(req));
    const dl = download(res, { fileName: '学校导入模板.csv', asciiName: 'schools-template.csv', contentType: 'text/csv; charset=utf-8' });
    dl.stream.end(IMPORT_TEMPLATE_CSV);
  });

  router.post('/org/schools/import', mayImport(deps.schoolImport), importUpload(deps.tmpDir), async (req, res) => {
    const user = currentUser(req);
    const file = req.file;
    try {
      if (!file) throw new ImportRejectedError([{ row: 0, message: '请选择要导入的 CSV 或 XLSX 文件' }]);
      const result = await deps.schoolImport.importFile(user, file.path, file.originalname);
      res.redirect(303, `/org/schools?msg=schools_imported&imported=${result.imported}`);
    } catch (err) {
      if (err instanceof ImportRejectedError) {
        return res
          .status(400)
          .render('org/school-import', { title: '导入学校', rowErrors: err.rowErrors.slice(0, 200), moreErrors: Math.max(0, err.rowErrors.length - 200) });
      }
      throw err;
    } finally {
      if (file) await fs.promises.rm(file.path, { force: true });
    }
  });

  router.get('/org/schools/:id/edit', async (req, res) => {
    const school = await deps.schools.get(currentUser(req), req.params.id);
    res.render(
      'org/school-form',
      await formData(req, {
        title: '编辑学校',
        school,
        values: { name: school.name, countyId: school.countyId ?? '', level: school.level ?? '' },
        action: `/org/schools/${school.id}`,
      }),
    );
  });

  router.post('/org/schools/:id', async (req, res) => {
    const user = currentUser(req);
    const school = await deps.schools.get(user, req.params.id);
    const values = req.body as Record<string, unknown>;
    // Only the fields the form sent: a missing countyId must not move the school to 市直, nor a missing level clear it.
    const fields = canMoveSchools(user) ? ['name', 'countyId', 'level'] : ['name', 'level'];
    const patch = Object.fromEntries(fields.filter((k) => Object.prototype.hasOwnProperty.call(values, k)).map((k) => [k, values[k]]));
    await handleForm(
      res,
      { view: 'org/school-form', data: await formData(req, { title: '编辑学校', school, values, action: `/org/schools/${school.id}` }) },
      async () => {
        await deps.schools.update(user, school.id, patch);
        res.redirect(
          303,
          `/org/schools?countyId=${encodeURIComponent(('countyId' in patch ? (patch.countyId as string) : school.countyId) || 'city')}&msg=school_updated`,
        );
      },
    );
  });

  return router;
}

export function orgApi(deps: OrgDeps): Router {
  const router = Router();

  router.get('/counties', async (req, res) => {
    res.json(await deps.schools.listCounties(currentUser(req)));
  });

  router.get('/schools', async (req, res) => {
    res.json(await deps.schools.list(currentUser(req), parse(schoolQuery, req.query), pageQuery(req.query as Record<string, unknown>)));
  });

  router.post('/schools', async (req, res) => {
    res.status(201).json(await deps.schools.create(currentUser(req), req.body));
  });

  router.get('/schools/:id', async (req, res) => {
    res.json(await deps.schools.get(currentUser(req), req.params.id));
  });

  router.patch('/schools/:id', async (req, res) => {
    res.json(await deps.schools.update(currentUser(req), req.params.id, req.body));
  });

  router.post('/schools/import', mayImport(deps.schoolImport), importUpload(deps.tmpDir), async (req, res) => {
    const file = req.file;
    try {
      if (!file) throw new ImportRejectedError([{ row: 0, message: '请上传 CSV 或 XLSX 文件（字段名 file）' }]);
      res.status(201).json(await deps.schoolImport.importFile(currentUser(req), file.path, path.basename(file.originalname)));
    } finally {
      if (file) await fs.promises.rm(file.path, { force: true });
    }
  });

  return router;
}
