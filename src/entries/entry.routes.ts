import { requestCampaign } from '../campaign/current-campaign';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { assertOwnSchoolEntry, canUse, isOwnSchool } from '../accounts/policy';
import type { CurrentUser } from '../accounts/account.types';
import type { CampaignService } from '../campaign/campaign.service';
import { invalidState, notFound } from '../platform/errors';
import { objectKeys } from '../platform/storage/object-keys';
import type { ObjectStore } from '../platform/storage/object-store';
import { ACCEPTED_FORMATS_TEXT, VIDEO_FILE_ACCEPT } from '../platform/media/sniff';
import { pageQuery, parse } from '../platform/validate';
import { entryQuery } from './entry.contract';
import { handleForm } from '../web/forms';
import { currentUser } from '../web/request-context';
import { sendObject } from '../web/send-object';
import { pageLinks } from '../web/view-helpers';
import type { EntryStatus } from './entry.schema';
import type { EntryService } from './entry.service';
import { ACTION_LABELS, ENTRY_STATUS_LABELS, VIDEO_LOCKED, submitConfirmation } from './entry.messages';
import { confirmStep } from '../web/confirm';
import { entryViewModel } from './entry.presenter';
import { CONSENT_ACTION_LABELS, consentStateLabel } from '../consent/consent.messages';
import { EDITABLE, type EntryView } from './entry.types';
import { videoUploadMiddleware, type VideoUploadService } from './video-upload';

export interface EntryDeps {
  entries: EntryService;
  uploads: VideoUploadService;
  campaign: CampaignService;
  store: ObjectStore;
  tmpDir: string;
  maxVideoBytes: number;
  /** The page's resumable-upload settings (tus at /api/v1/uploads). */
  resumable?: { chunkBytes: number; expiryHours: number };
  /** Review actions for county/city staff on the entry page (supplied by the review component). */
  reviewPanel?: (user: CurrentUser, entry: EntryView) => Promise<Record<string, unknown> | null>;
  /** The city's "select for broadcast" form (supplied by the broadcast component). */
  broadcastPanel?: (user: CurrentUser, entry: EntryView) => Record<string, unknown> | null;
  /** The guardian authorisation section (supplied by the consent component). */
  consentPanel?: (user: CurrentUser, entry: EntryView) => Promise<Record<string, unknown> | null>;
}

const STATUSES = Object.keys(ENTRY_STATUS_LABELS) as EntryStatus[];

/** Before a single byte of video is accepted: the entry is the caller's and still editable. */
function uploadGate(entries: EntryService) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const entry = assertOwnSchoolEntry(currentUser(req), await entries.load(req.params.id as string));
    if (!EDITABLE.includes(entry.status)) throw invalidState(VIDEO_LOCKED);
    next();
  };
}

/** Preview and poster, for everyone who may see the entry (Range supported; S3 may redirect). */
async function sendMedia(deps: EntryDeps, req: Request, res: Response, kind: 'preview' | 'poster') {
  const entry = await deps.entries.get(currentUser(req), req.params.id as string);
  const video = entry.video;
  if (video?.status !== 'ready') throw notFound(kind === 'preview' ? '预览视频还没有准备好。' : '封面还没有准备好。');
  await sendObject(req, res, deps.store, kind === 'preview' ? objectKeys.preview(video.id) : objectKeys.poster(video.id), {
    contentType: kind === 'preview' ? 'video/mp4' : 'image/jpeg',
    disposition: 'inline',
    downloadName: `${entry.code}${kind === 'preview' ? '.mp4' : '.jpg'}`,
    redirectToPresigned: deps.store.kind === 's3',
  });
}

export function entryApi(deps: EntryDeps): Router {
  const router = Router();
  const upload = videoUploadMiddleware({ tmpDir: deps.tmpDir, maxBytes: deps.maxVideoBytes });

  router.post('/entries', async (req, res) => {
    res.status(201).json(await deps.entries.create(currentUser(req), req.body));
  });
  router.get('/entries', async (req, res) => {
    const filter = { ...parse(entryQuery, req.query), campaignId: requestCampaign(req).id };
    res.json(await deps.entries.list(currentUser(req), filter, pageQuery(req.query as Record<string, unknown>)));
  });
  router.get('/entries/:id', async (req, res) => {
    res.json(await deps.entries.get(currentUser(req), req.params.id));
  });
  router.patch('/entries/:id', async (req, res) => {
    res.json(await deps.entries.update(currentUser(req), req.params.id, req.body));
  });
  router.post('/entries/:id/video', uploadGate(deps.entries), upload, async (req, res) => {
    res.status(202).json(await deps.uploads.attach(currentUser(req), req.params.id as string, req.file));
  });
  router.post('/entries/:id/video/retry', async (req, res) => {
    res.json(await deps.uploads.retryProcessing(currentUser(req), req.params.id as string));
  });
  router.post('/entries/:id/submit', async (req, res) => {
    res.json(await deps.entries.submit(currentUser(req), req.params.id));
  });
  router.post('/entries/:id/withdraw', async (req, res) => {
    res.json(await deps.entries.withdraw(currentUser(req), req.params.id));
  });
  router.get('/entries/:id/history', async (req, res) => {
    res.json(await deps.entries.history(currentUser(req), req.params.id));
  });
  router.get('/entries/:id/preview', (req, res) => sendMedia(deps, req, res, 'preview'));
  router.get('/entries/:id/poster', (req, res) => sendMedia(deps, req, res, 'poster'));
  return router;
}

export function entryPages(deps: EntryDeps): Router {
  const router = Router();
  const upload = videoUploadMiddleware({ tmpDir: deps.tmpDir, maxBytes: deps.maxVideoBytes });

  /** The form offers the songs of the campaign the entry is (or will be) in: the open one for a new entry. */
  async function formData(extra: Record<string, unknown>, campaignId?: string) {
    const campaign = await deps.campaign.get(campaignId ?? (await deps.campaign.openForSubmissions()).id);
    return { songs: campaign.songs, forms: campaign.forms, levels: campaign.levels, ...extra };
  }

  /** Form values → API fields: the song select carries a song id or "custom". */
  function entryInput(body: Record<string, unknown>) {
    const custom = body.songId === 'custom';
    return { ...body, songId: custom ? null : body.songId, customSongTitle: custom ? body.customSongTitle : null };
  }

  router.get('/entries', async (req, res) => {
    const user = currentUser(req);
    const filter = { ...parse(entryQuery, req.query), campaignId: requestCampaign(req).id };
    const [result, campaign] = await Promise.all([
      deps.entries.list(user, filter, pageQuery(req.query as Record<string, unknown>, 20)),
      deps.campaign.get(filter.campaignId),
    ]);
    res.render('entries/list', {
      title: user.role === 'school' ? '我的作品' : '作品',
      entries: result.items.map((e) => entryViewModel(e, campaign)),
      filter,
      statuses: STATUSES.map((code) => ({ code, label: ENTRY_STATUS_LABELS[code] })),
      canCreate: canUse(user, 'entryCreate') && requestCampaign(req).status === 'open',
      showSchool: user.role !== 'school',
      pagination: pageLinks('/entries', req.query as Record<string, unknown>, result.page, result.pageSize, result.total),
    });
  });

  router.get('/entries/new', async (req, res) => {
    const user = currentUser(req);
    if (!canUse(user, 'entryCreate')) throw invalidState('只有学校账号可以报送作品。');
    res.render('entries/form', await formData({ title: '新建作品', action: '/entries', values: { performerCount: '' } }));
  });

  router.post('/entries', async (req, res) => {
    const values = req.body as Record<string, unknown>;
    await handleForm(res, { view: 'entries/form', data: await formData({ title: '新建作品', action: '/entries', values }) }, async () => {
      const entry = await deps.entries.create(currentUser(req), entryInput(values));
      res.redirect(303, `/entries/${entry.id}?msg=entry_created`);
    });
  });

  router.get('/entries/:id', async (req, res) => {
    const user = currentUser(req);
    const entry = await deps.entries.get(user, req.params.id);
    const campaign = await deps.campaign.get(entry.campaignId);
    const history = await deps.entries.history(user, entry.id);
    const isOwner = isOwnSchool(user, entry.school.id);
    const replacementProcessing = Boolean(entry.replacement && entry.replacement.status !== 'failed');
    const processing = entry.video?.status === 'processing' || entry.video?.status === 'uploaded';
    // 「已上传，正在处理，请稍候」 only while it is true (the page is reopened or reloaded after processing).
    if (req.query.msg === 'video_uploaded' && !processing && !replacementProcessing) res.locals.flash = undefined;
    res.render('entries/show', {
      title: entry.title,
      entry: entryViewModel(entry, campaign),
      history: history.map((h) =>
        h.action.startsWith('consent.')
          ? { ...h, actionLabel: CONSENT_ACTION_LABELS[h.action] ?? h.action, fromLabel: consentStateLabel(h.from), toLabel: consentStateLabel(h.to) }
          : {
              ...h,
              actionLabel: ACTION_LABELS[h.action] ?? CONSENT_ACTION_LABELS[h.action] ?? h.action,
              fromLabel: h.from ? (ENTRY_STATUS_LABELS[h.from as EntryStatus] ?? h.from) : null,
              toLabel: h.to ? (ENTRY_STATUS_LABELS[h.to as EntryStatus] ?? h.to) : null,
            },
      ),
      isOwner,
      canSubmit: isOwner && EDITABLE.includes(entry.status) && entry.video?.status === 'ready' && entry.video.qc?.verdict !== 'fail' && !replacementProcessing,
      // A returned entry is fixed and submitted again; 撤回 beside 提交 would only confuse.
      canWithdraw: isOwner && entry.status === 'submitted',
      submitConfirm: submitConfirmation(entry),
      resumable: deps.resumable ?? { chunkBytes: 50 * 1024 ** 2, expiryHours: 24 },
      acceptedFormats: ACCEPTED_FORMATS_TEXT,
      videoAccept: VIDEO_FILE_ACCEPT,
      maxVideoGb: (deps.maxVideoBytes / 1024 ** 3).toFixed(deps.maxVideoBytes >= 1024 ** 3 ? 0 : 2),
      processing,
      replacementProcessing,
      canRetryVideo: canUse(user, 'videoRetry') && (entry.video?.status === 'failed' || entry.replacement?.status === 'failed'),
      review: deps.reviewPanel ? await deps.reviewPanel(user, entry) : null,
      broadcast: deps.broadcastPanel ? deps.broadcastPanel(user, entry) : null,
      consent: deps.consentPanel ? await deps.consentPanel(user, entry) : null,
    });
  });

  router.get('/entries/:id/edit', async (req, res) => {
    const entry = await deps.entries.get(currentUser(req), req.params.id);
    assertOwnSchoolEntry(currentUser(req), await deps.entries.load(entry.id));
    const values = {
      title: entry.title,
      songId: entry.song.id ?? 'custom',
      customSongTitle: entry.song.id ? '' : entry.song.title,
      form: entry.form,
      level: entry.level,
      performerCount: entry.performerCount,
      directorName: entry.directorName ?? '',
      description: entry.description ?? '',
    };
    res.render('entries/form', await formData({ title: '修改作品信息', action: `/entries/${entry.id}`, values, entry }, entry.campaignId));
  });

  router.post('/entries/:id', async (req, res) => {
    const values = req.body as Record<string, unknown>;
    const campaignId = (await deps.entries.load(req.params.id))?.campaign_id;
    await handleForm(
      res,
      { view: 'entries/form', data: await formData({ title: '修改作品信息', action: `/entries/${req.params.id}`, values }, campaignId) },
      async () => {
        await deps.entries.update(currentUser(req), req.params.id, entryInput(values));
        res.redirect(303, `/entries/${req.params.id}?msg=entry_updated`);
      },
    );
  });

  router.post('/entries/:id/video', uploadGate(deps.entries), upload, async (req, res) => {
    await deps.uploads.attach(currentUser(req), req.params.id as string, req.file);
    res.redirect(303, `/entries/${req.params.id}?msg=video_uploaded`);
  });

  router.post('/entries/:id/video/retry', async (req, res) => {
    await deps.uploads.retryProcessing(currentUser(req), req.params.id as string);
    res.redirect(303, `/entries/${req.params.id}?msg=video_retried`);
  });

  router.post('/entries/:id/submit', async (req, res) => {
    const user = currentUser(req);
    const view = await deps.entries.get(user, req.params.id);
    assertOwnSchoolEntry(user, await deps.entries.load(view.id));
    if (!confirmStep(req, res, { ...submitConfirmation(view), cancelHref: `/entries/${view.id}` })) return;
    const entry = await deps.entries.submit(user, req.params.id);
    res.redirect(303, `/entries/${req.params.id}?msg=${entry.status === 'forwarded' ? 'entry_forwarded' : 'entry_submitted'}`);
  });

  router.post('/entries/:id/withdraw', async (req, res) => {
    await deps.entries.withdraw(currentUser(req), req.params.id);
    res.redirect(303, `/entries/${req.params.id}?msg=entry_withdrawn`);
  });

  return router;
}
